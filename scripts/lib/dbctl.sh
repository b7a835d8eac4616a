# shellcheck shell=bash
# What dbctl's tests need: Debian's mariadb-server (the tests start their own mariadbd), and the
# PostgreSQL Terraform provider double built from packages/testkit/terraform (cached by source hash).
# Source scripts/lib/common.sh first. Idempotent and quiet when everything is in place.

ensure_dbctl_test_deps() {
  ensure_apt mariadb-server mariadb-client
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
