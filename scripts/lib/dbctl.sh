# shellcheck shell=bash
# What dbctl's tests need: Debian's mariadb-server (the tests start their own mariadbd), and the
# PostgreSQL Terraform provider double built from packages/testkit/terraform (cached by source hash).
# Source scripts/lib/common.sh first. Idempotent and quiet when everything is in place.

ensure_dbctl_test_deps() {
  ensure_apt mariadb-server mariadb-client
  ensure_terraform
  ensure_terraform_provider_double
}

# ensure_terraform_provider_double: builds packages/testkit/terraform/provider-postgresql into
# ${BCL_CACHE}/terraform-provider-postgresql-<source hash>/ (the test harness finds it there).
ensure_terraform_provider_double() {
  local src="$BCL_ROOT/packages/testkit/terraform/provider-postgresql" hash out go
  hash="$(cd "$src" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) -print | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)"
  out="$BCL_CACHE/terraform-provider-postgresql-$hash/terraform-provider-postgresql"
  [ -x "$out" ] && return 0
  go="$(command -v go || echo /usr/local/go/bin/go)"
  [ -x "$go" ] || bcl_die "Go is needed to build the Terraform provider double (packages/testkit/terraform)"
  bcl_step "building the PostgreSQL Terraform provider double ($hash)"
  mkdir -p "$(dirname "$out")"
  (cd "$src" && CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" "$go" build -trimpath -o "$out.partial" .) >&2 \
    || bcl_die "building the Terraform provider double failed"
  mv "$out.partial" "$out"
}

# ensure_terraform: the machine image ships terraform (/usr/local/bin/terraform). OpenTofu is built
# from the Go module proxy into ${BCL_CACHE}/opentofu-<version>/tofu on every machine: the
# provisioning tests run once with each engine (and dbctl finds tofu there or on PATH).
BCL_OPENTOFU_VERSION="v1.10.10"
ensure_terraform() {
  ensure_opentofu
}

ensure_opentofu() {
  local out="$BCL_CACHE/opentofu-$BCL_OPENTOFU_VERSION/tofu" go src tmp
  [ -x "$out" ] && return 0
  go="$(command -v go || echo /usr/local/go/bin/go)"
  [ -x "$go" ] || bcl_die "Go is needed to build OpenTofu $BCL_OPENTOFU_VERSION (the tests run every provisioning test with tofu too)"
  bcl_step "building OpenTofu $BCL_OPENTOFU_VERSION from the Go module proxy (once; cached in $(dirname "$out"))"
  # `go install module@version` refuses modules whose go.mod has replace directives (OpenTofu's
  # does), so build inside a writable copy of the module's source, with its own go.mod.
  src="$(GOFLAGS=-mod=mod "$go" mod download -json "github.com/opentofu/opentofu@$BCL_OPENTOFU_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -d "$src" ] || bcl_die "could not download github.com/opentofu/opentofu@$BCL_OPENTOFU_VERSION from the Go module proxy"
  tmp="$(mktemp -d)"
  cp -r "$src/." "$tmp/" && chmod -R u+w "$tmp"
  mkdir -p "$(dirname "$out")"
  (cd "$tmp" && CGO_ENABLED=0 GOFLAGS="-buildvcs=false" "$go" build -trimpath -ldflags="-s -w -X github.com/opentofu/opentofu/version.dev=no" -o "$out.partial" ./cmd/tofu) >&2 \
    || { rm -rf "$tmp"; bcl_die "building OpenTofu failed"; }
  rm -rf "$tmp"
  mv "$out.partial" "$out"
}
