# shellcheck shell=bash
# What pkictl's and the PKI server's tests need beyond the toolchain: PostgreSQL (the server's
# database), openssl (verify, pkcs12, crl, ocsp), git (the store),
# Debian's openvpn (the VPN profile is checked by a real TLS handshake on loopback), util-linux's
# `script` (a terminal for prompt tests), and the certificate linters the field trusts: zlint
# (built from the Go module proxy) and DigiCert's pkilint (from PyPI, in a virtualenv). The
# linters are cached under $BCL_CACHE by version, so a second run needs no network. Sourced after
# common.sh; idempotent and quiet when everything is there.

BCL_ZLINT_VERSION="v3.7.3"
BCL_PKILINT_VERSION="0.13.3"

ensure_pki_test_deps() {
  ensure_apt postgresql openssl git openvpn python3 python3-venv bsdutils
  ensure_zlint
  ensure_pkilint
}

# ensure_zlint: `go install github.com/zmap/zlint/v3/cmd/zlint@<version>` into
# $BCL_CACHE/zlint-<version>/zlint (the test helper finds it there, or through BCL_ZLINT).
ensure_zlint() {
  local dir="$BCL_CACHE/zlint-$BCL_ZLINT_VERSION" go tmp
  if [ ! -x "$dir/zlint" ]; then
    go="$(command -v go || echo /usr/local/go/bin/go)"
    [ -x "$go" ] || bcl_die "Go is needed to build zlint $BCL_ZLINT_VERSION (pkictl's certificate lint tests)"
    bcl_step "building zlint $BCL_ZLINT_VERSION from the Go module proxy into $dir"
    tmp="$(mktemp -d)"
    # GOTOOLCHAIN=local: build with the installed Go, never download another toolchain.
    GOBIN="$tmp" CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-mod=mod -trimpath" \
      "$go" install "github.com/zmap/zlint/v3/cmd/zlint@$BCL_ZLINT_VERSION" >&2 \
      || { rm -rf "$tmp"; bcl_die "building zlint $BCL_ZLINT_VERSION failed"; }
    mkdir -p "$dir"
    mv "$tmp/zlint" "$dir/zlint.partial" && rm -rf "$tmp"
    "$dir/zlint.partial" -list-lints-source >/dev/null || bcl_die "the zlint binary does not run here"
    mv "$dir/zlint.partial" "$dir/zlint"
  fi
  export BCL_ZLINT="$dir/zlint"
}

# ensure_pkilint: a virtualenv with pkilint==<version> in $BCL_CACHE/pkilint-<version>/ (its
# lint_pkix_cert, lint_crl... commands in bin/; the test helper finds them there or through
# BCL_PKILINT_BIN). A virtualenv records its own path, so it is built in place and marked complete
# only at the end: an interrupted install is removed and redone by the next run.
ensure_pkilint() {
  local dir="$BCL_CACHE/pkilint-$BCL_PKILINT_VERSION" python
  if [ ! -f "$dir/.complete" ]; then
    # Debian's python3 (with python3-venv), not whatever interpreter happens to be first on PATH.
    python="$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || command -v python3 || true)"
    [ -n "$python" ] || bcl_die "python3 is needed for pkilint (pkictl's certificate lint tests)"
    bcl_step "installing pkilint $BCL_PKILINT_VERSION from PyPI into $dir"
    rm -rf "$dir"
    "$python" -m venv "$dir" >&2 || { rm -rf "$dir"; bcl_die "cannot create a Python virtualenv (python3-venv) for pkilint"; }
    "$dir/bin/python" -m pip install -q --disable-pip-version-check --no-input "pkilint==$BCL_PKILINT_VERSION" >&2 \
      || { rm -rf "$dir"; bcl_die "cannot install pkilint==$BCL_PKILINT_VERSION from PyPI"; }
    "$dir/bin/lint_pkix_cert" validations >/dev/null || { rm -rf "$dir"; bcl_die "pkilint does not run here"; }
    touch "$dir/.complete"
  fi
  export BCL_PKILINT_BIN="$dir/bin"
}
