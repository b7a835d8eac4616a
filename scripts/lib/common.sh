# shellcheck shell=bash
# Shared helpers for scripts/*: repo root, logging, the Node/pnpm toolchain, Debian packages,
# and the cache directory for slow builds. Source it; it defines functions and variables only.

BCL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BCL_TOOLCHAIN="$BCL_ROOT/.toolchain"
# Pinned toolchain: Node from the npm registry's platform package, pnpm from its npm package.
BCL_NODE_VERSION="24.21.0"
BCL_NODE_MIN_MAJOR=22
BCL_NPM_REGISTRY="${NPM_CONFIG_REGISTRY:-${npm_config_registry:-https://registry.npmjs.org}}"
BCL_NPM_REGISTRY="${BCL_NPM_REGISTRY%/}"
# Slow builds (Kubernetes, terraform providers...) are cached here, keyed by version.
BCL_CACHE="${BCL_TESTKIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bcl-testkit}"

bcl_log() { printf '%s\n' "$*" >&2; }
bcl_step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
bcl_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

bcl_sudo() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    bcl_die "need root to run: $* (no sudo on this machine)"
  fi
}

# ensure_apt <package>...: installs the Debian packages that are missing, quietly.
_bcl_apt_updated=0
ensure_apt() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || bcl_die "Debian packages needed but apt-get is missing: ${missing[*]}"
  bcl_step "installing Debian packages: ${missing[*]}"
  if [ "$_bcl_apt_updated" = 0 ]; then
    bcl_sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || bcl_die "apt-get update failed"
    _bcl_apt_updated=1
  fi
  # policy-rc.d keeps packaged daemons (mariadb, sshd, etcd...) from starting: tests start their own.
  local prc=/usr/sbin/policy-rc.d created_prc=0
  if [ ! -e "$prc" ]; then
    printf '#!/bin/sh\nexit 101\n' | bcl_sudo tee "$prc" >/dev/null && bcl_sudo chmod +x "$prc" && created_prc=1
  fi
  bcl_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >&2 \
    || { [ "$created_prc" = 1 ] && bcl_sudo rm -f "$prc"; bcl_die "apt-get install failed: ${missing[*]}"; }
  [ "$created_prc" = 1 ] && bcl_sudo rm -f "$prc"
  return 0
}

_bcl_platform() {
  local os arch
  case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) bcl_die "unsupported OS: $(uname -s)" ;; esac
  case "$(uname -m)" in x86_64|amd64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) bcl_die "unsupported CPU: $(uname -m)" ;; esac
  printf '%s-%s' "$os" "$arch"
}

# _bcl_npm_fetch <package> <version> <dest dir>: downloads a package tarball from the npm registry,
# checks its sha512 integrity from the registry metadata, and unpacks it into <dest dir>.
_bcl_npm_fetch() {
  local pkg="$1" version="$2" dest="$3" meta integrity tarball tmp got
  meta="$(curl -fsSL --retry 3 "$BCL_NPM_REGISTRY/$pkg/$version")" || bcl_die "cannot read $pkg@$version from $BCL_NPM_REGISTRY"
  tarball="$(printf '%s' "$meta" | grep -o '"tarball": *"[^"]*"' | head -n1 | sed 's/.*: *"//; s/"$//')"
  integrity="$(printf '%s' "$meta" | grep -o '"integrity": *"sha512-[^"]*"' | head -n1 | sed 's/.*: *"//; s/"$//')"
  [ -n "$tarball" ] && [ -n "$integrity" ] || bcl_die "registry metadata for $pkg@$version has no tarball/integrity"
  tmp="$(mktemp -d)"
  curl -fsSL --retry 3 "$tarball" -o "$tmp/pkg.tgz" || { rm -rf "$tmp"; bcl_die "download failed: $tarball"; }
  got="sha512-$(openssl dgst -sha512 -binary "$tmp/pkg.tgz" | openssl base64 -A)"
  [ "$got" = "$integrity" ] || { rm -rf "$tmp"; bcl_die "integrity mismatch for $pkg@$version"; }
  mkdir -p "$tmp/x" && tar -xzf "$tmp/pkg.tgz" -C "$tmp/x" || { rm -rf "$tmp"; bcl_die "cannot unpack $pkg@$version"; }
  rm -rf "$dest.partial" && mkdir -p "$(dirname "$dest")" && mv "$tmp/x/package" "$dest.partial"
  rm -rf "$dest" && mv "$dest.partial" "$dest"
  rm -rf "$tmp"
}

# ensure_node: puts a Node >= 22 first on PATH; installs the pinned Node 24 into .toolchain/ when
# the machine's node is missing or older.
ensure_node() {
  local major=0
  if [ -x "$BCL_TOOLCHAIN/node/bin/node" ]; then
    export PATH="$BCL_TOOLCHAIN/node/bin:$BCL_TOOLCHAIN/bin:$PATH"; return 0
  fi
  if command -v node >/dev/null 2>&1; then
    major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  fi
  if [ "$major" -ge "$BCL_NODE_MIN_MAJOR" ]; then export PATH="$BCL_TOOLCHAIN/bin:$PATH"; return 0; fi
  bcl_step "installing Node $BCL_NODE_VERSION into .toolchain/ (machine node: ${major:-none})"
  _bcl_npm_fetch "node-$(_bcl_platform)" "$BCL_NODE_VERSION" "$BCL_TOOLCHAIN/node"
  chmod +x "$BCL_TOOLCHAIN/node/bin/node"
  export PATH="$BCL_TOOLCHAIN/node/bin:$BCL_TOOLCHAIN/bin:$PATH"
}

# ensure_pnpm: the pnpm version named in package.json's packageManager, in .toolchain/.
ensure_pnpm() {
  local want
  want="$(grep -o '"packageManager": *"pnpm@[^"]*"' "$BCL_ROOT/package.json" | sed 's/.*pnpm@\([^"+]*\).*/\1/')"
  [ -n "$want" ] || bcl_die "package.json has no packageManager pnpm@<version>"
  if [ ! -f "$BCL_TOOLCHAIN/pnpm/package.json" ] || ! grep -q "\"version\": *\"$want\"" "$BCL_TOOLCHAIN/pnpm/package.json"; then
    bcl_step "installing pnpm $want into .toolchain/"
    _bcl_npm_fetch pnpm "$want" "$BCL_TOOLCHAIN/pnpm"
  fi
  mkdir -p "$BCL_TOOLCHAIN/bin"
  if [ ! -x "$BCL_TOOLCHAIN/bin/pnpm" ]; then
    printf '#!/bin/sh\nexec node "%s/pnpm/bin/pnpm.cjs" "$@"\n' "$BCL_TOOLCHAIN" >"$BCL_TOOLCHAIN/bin/pnpm"
    chmod +x "$BCL_TOOLCHAIN/bin/pnpm"
  fi
  export PATH="$BCL_TOOLCHAIN/bin:$PATH"
}
