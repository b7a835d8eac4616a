# shellcheck shell=bash
# What the PKI Toolbox's browser tests need: Debian's chromium (driven by playwright-core with
# executablePath /usr/bin/chromium; playwright's own browser download cannot work here), fonts
# for readable screenshots, and openssl/openvpn to check what the pages hand out. Sourced after
# common.sh; idempotent and quiet when everything is there.

ensure_toolbox_test_deps() {
  ensure_apt chromium fonts-dejavu-core openssl openvpn
}
