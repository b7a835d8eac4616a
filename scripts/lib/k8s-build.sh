# shellcheck shell=bash
# Builds (once) and caches the real Kubernetes control plane for the local test cluster:
# kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and etcd from the wrapper
# module packages/testkit/k8s (k8s.io/kubernetes + go.etcd.io/etcd/server/v3), and kwok from
# packages/testkit/k8s/kwok. Everything comes from the Go module proxy; the go.sum files are
# committed, so `go build` needs nothing else.
#
# Source it after scripts/lib/common.sh, then call ensure_k8s_binaries: it sets K8S_BIN to
#   $BCL_CACHE/k8s-<K8S_VERSION>-<hash of the build inputs>/bin
# and builds only when that directory is missing. A build goes to a temp directory that is
# renamed at the end, so an interrupted build never leaves a half cache.

K8S_VERSION="v1.34.4"   # k8s.io/kubernetes in packages/testkit/k8s/go.mod (staging modules v0.34.4)
KWOK_VERSION="v0.7.0"   # sigs.k8s.io/kwok in packages/testkit/k8s/kwok/go.mod
K8S_MODULE_DIR="$BCL_ROOT/packages/testkit/k8s"
K8S_KWOK_STAGES="$K8S_MODULE_DIR/kwok-stages.yaml"
K8S_KWOK_LOGS_CRDS="$K8S_MODULE_DIR/kwok-logs-crds.yaml"
K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok)
# Bump when the way the binaries are built changes (flags, layout), to get a new cache entry.
_K8S_BUILD_RECIPE=1

_k8s_go() {
  if command -v go >/dev/null 2>&1; then command -v go; return 0; fi
  if [ -x /usr/local/go/bin/go ]; then echo /usr/local/go/bin/go; return 0; fi
  bcl_die "Go is needed to build the local Kubernetes control plane (go >= 1.24; none on PATH or /usr/local/go/bin)"
}

# k8s_cache_key: short hash of everything that goes into the binaries. The kwok stages file is
# read by `scripts/local-cluster up` at start time, so editing it needs no rebuild.
k8s_cache_key() {
  (
    cd "$K8S_MODULE_DIR" || exit 1
    printf 'recipe=%s k8s=%s kwok=%s\n' "$_K8S_BUILD_RECIPE" "$K8S_VERSION" "$KWOK_VERSION"
    cat go.mod go.sum kwok/go.mod kwok/go.sum
    find cmd kwok/cmd -name '*.go' | LC_ALL=C sort | while read -r f; do printf '%s\n' "$f"; cat "$f"; done
  ) | sha256sum | cut -c1-12
}

k8s_cache_dir() { printf '%s/k8s-%s-%s' "$BCL_CACHE" "$K8S_VERSION" "$(k8s_cache_key)"; }

_k8s_have_all() {
  local b
  for b in "${K8S_BINARIES[@]}"; do [ -x "$1/$b" ] || return 1; done
}

# _k8s_go_build <label> <module dir> <out dir> <log> <ldflags> <packages...>: one `go build`,
# with a progress line on stderr every 20s (elapsed time, packages compiled so far).
_k8s_go_build() {
  local label="$1" dir="$2" out="$3" log="$4" ldflags="$5" go start rc ticker
  shift 5
  go="$(_k8s_go)"
  start=$SECONDS
  bcl_log "    building $label ..."
  (
    while sleep 20; do
      printf '    ... %s: %ss, %s packages compiled\n' "$label" "$((SECONDS - start))" "$(grep -c . "$log" 2>/dev/null || echo 0)" >&2
    done
  ) &
  ticker=$!
  (
    cd "$dir" && env CGO_ENABLED=0 GOWORK=off \
      "$go" build -v -trimpath -buildvcs=false -ldflags="$ldflags" -o "$out/" "$@"
  ) >"$log" 2>&1
  rc=$?
  kill "$ticker" 2>/dev/null; wait "$ticker" 2>/dev/null
  if [ "$rc" -ne 0 ]; then
    bcl_log "    go build of $label failed (exit $rc); last lines of $log:"
    tail -n 40 "$log" >&2
    return 1
  fi
  bcl_log "    built $label in $((SECONDS - start))s"
}

# ensure_k8s_binaries: sets K8S_BIN (and K8S_CACHE_DIR); builds the binaries if not cached.
ensure_k8s_binaries() {
  local cache tmp start major minor ld k lockfd
  cache="$(k8s_cache_dir)"
  K8S_CACHE_DIR="$cache"
  K8S_BIN="$cache/bin"
  if _k8s_have_all "$K8S_BIN"; then export K8S_BIN K8S_CACHE_DIR; return 0; fi

  mkdir -p "$BCL_CACHE"
  # One build at a time per cache (two `up`s started together wait for each other).
  exec {lockfd}>"$BCL_CACHE/.k8s-build.lock"
  if ! flock -n "$lockfd"; then
    bcl_log "another build of the Kubernetes binaries is running; waiting for it ..."
    flock "$lockfd"
  fi
  if _k8s_have_all "$K8S_BIN"; then exec {lockfd}>&-; export K8S_BIN K8S_CACHE_DIR; return 0; fi

  start=$SECONDS
  bcl_step "building Kubernetes $K8S_VERSION control plane + etcd + kwok $KWOK_VERSION from the Go module proxy (first time only: ~5 minutes on 2 cores)"
  bcl_log "    cache: $cache"
  bcl_log "    Go: $("$(_k8s_go)" version)"
  tmp="$BCL_CACHE/.tmp-k8s-$K8S_VERSION-$$"
  rm -rf "$tmp" && mkdir -p "$tmp/bin" "$tmp/build-logs"

  # Version stamps as Kubernetes' own build sets them (hack/lib/version.sh), so that
  # `kubectl version` and /version report v1.34.4 instead of v0.0.0-master.
  major="${K8S_VERSION#v}"; major="${major%%.*}"
  minor="${K8S_VERSION#v*.}"; minor="${minor%%.*}"
  ld="-s -w"
  for k in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ld="$ld -X $k.gitVersion=$K8S_VERSION -X $k.gitMajor=$major -X $k.gitMinor=$minor -X $k.gitTreeState=clean -X $k.buildDate=1970-01-01T00:00:00Z"
  done

  if ! _k8s_go_build "kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd ($K8S_VERSION)" \
      "$K8S_MODULE_DIR" "$tmp/bin" "$tmp/build-logs/k8s.log" "$ld" ./cmd/...; then
    rm -rf "$tmp"; exec {lockfd}>&-; bcl_die "building the Kubernetes binaries failed"
  fi
  if ! _k8s_go_build "kwok ($KWOK_VERSION)" "$K8S_MODULE_DIR/kwok" "$tmp/bin" "$tmp/build-logs/kwok.log" "-s -w" ./cmd/kwok; then
    rm -rf "$tmp"; exec {lockfd}>&-; bcl_die "building kwok failed"
  fi
  _k8s_have_all "$tmp/bin" || { rm -rf "$tmp"; exec {lockfd}>&-; bcl_die "build finished but binaries are missing in $tmp/bin"; }
  {
    printf 'k8s=%s\nkwok=%s\netcd=%s\ngo=%s\nbuilt=%s\nbuild_seconds=%s\n' "$K8S_VERSION" "$KWOK_VERSION" \
      "$("$tmp/bin/etcd" --version 2>/dev/null | sed -n 's/^etcd Version: //p')" \
      "$("$(_k8s_go)" env GOVERSION)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$((SECONDS - start))"
  } >"$tmp/VERSIONS"
  rm -rf "$cache" && mv "$tmp" "$cache"
  exec {lockfd}>&-
  bcl_log "    Kubernetes binaries ready in $((SECONDS - start))s: $K8S_BIN"
  export K8S_BIN K8S_CACHE_DIR
}
