# shellcheck shell=bash
# What the distribution tests use besides Node: python3 (a plain static HTTP server), script
# (bsdutils: a pseudo-terminal for the update notice), mount (util-linux: a small tmpfs for a full
# disk), openssl (signature checks), tar and gzip (reading release tarballs). Idempotent.
ensure_distribution_tools() {
  ensure_apt python3 bsdutils util-linux openssl tar gzip
}
