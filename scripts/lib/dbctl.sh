# shellcheck shell=bash
# What dbctl's tests need: Debian's mariadb-server (the tests start their own mariadbd), and the
# PostgreSQL Terraform provider double built from packages/testkit/terraform (cached by source hash).
# Source scripts/lib/common.sh first. Idempotent and quiet when everything is in place.

ensure_dbctl_test_deps() {
  ensure_apt mariadb-server mariadb-client
}
