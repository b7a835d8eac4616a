# shellcheck shell=bash
# What csshctl and cssh-authz tests need: a real OpenSSH server (Debian's openssh-server) and the
# ssh client tools (ssh, ssh-keygen, ssh-agent, ssh-add). Sourced by scripts/test and the demo;
# idempotent and quiet when everything is there. The packaged sshd is never started (policy-rc.d
# in ensure_apt): the testkit harness runs its own on loopback.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_cssh_deps() {
  ensure_apt openssh-client openssh-server
  # sshd's privilege-separation directory; the packaged service would create it on start.
  if [ "$(id -u)" -eq 0 ] && [ ! -d /run/sshd ]; then mkdir -p /run/sshd && chmod 0755 /run/sshd; fi
}

# Run as a script (scripts/test calls it), it installs; sourced, it only defines the function.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  ensure_cssh_deps
fi
