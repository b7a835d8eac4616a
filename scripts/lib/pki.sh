# shellcheck shell=bash
# What pkictl's tests need beyond the toolchain: openssl (verify, pkcs12), git (the store) and
# Debian's openvpn (the VPN profile is checked by a real TLS handshake on loopback).
ensure_pki_test_deps() {
  ensure_apt openssl git openvpn
}
