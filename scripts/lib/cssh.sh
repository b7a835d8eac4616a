# shellcheck shell=bash
# What the csshctl, cssh-authz and cssh-daemon tests and demo need: a real OpenSSH server (Debian's
# openssh-server), the client tools (ssh, ssh-keygen, ssh-agent, ssh-add), and oathtool (Debian's
# oathtool, the RFC 6238 reference the TOTP tests check codes against). Idempotent and quiet
# when everything is there. The packaged sshd is never started (policy-rc.d in ensure_apt): the
# testkit harness runs its own, on loopback, with its own configuration.
[ -n "${BCL_ROOT:-}" ] || . "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_cssh_deps() {
  ensure_apt openssh-client openssh-server oathtool
  # sshd's privilege-separation directory (the packaged service would create it when started).
  if [ "$(id -u)" -eq 0 ] && [ ! -d /run/sshd ]; then mkdir -p /run/sshd && chmod 0755 /run/sshd; fi
}

# Run as a script, it installs; sourced (scripts/test, the demo), it only defines the function.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  ensure_cssh_deps
fi
