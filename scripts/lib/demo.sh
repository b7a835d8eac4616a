# shellcheck shell=bash
# Helpers for the parts of scripts/demo (scripts/demo.d/NN-name.sh). Sourced by scripts/demo.

# demo_section "Title": a heading for one part of the demo.
demo_section() { printf '\n\033[1;36m━━ %s ━━\033[0m\n' "$*" >&2; }
# demo_say "text": a sentence explaining what comes next.
demo_say() { printf '\033[2m# %s\033[0m\n' "$*" >&2; }
# demo_run cmd args...: shows the command, then runs it (its stdout and stderr pass through).
demo_run() { printf '\033[1m$ %s\033[0m\n' "$*" >&2; "$@"; }
# demo_expect_fail code cmd args...: runs a command that must fail with exit <code>.
demo_expect_fail() {
  local want="$1" got=0; shift
  printf '\033[1m$ %s\033[0m   \033[2m(expected to fail with exit %s)\033[0m\n' "$*" "$want" >&2
  "$@" || got=$?
  [ "$got" = "$want" ] || { printf 'demo: expected exit %s, got %s\n' "$want" "$got" >&2; return 1; }
}
# demo_start_pki_services <dir> <name>: PostgreSQL, the OIDC provider and the PKI server (with the
# Toolbox) of scripts/lib/pki-server-demo.mjs in the background, stopped when the demo ends; then
# its settings ($PKI_SERVER_URL, $PKI_CA_CHAIN, ...) from <dir>/env.
demo_start_pki_services() {
  local dir="$1" name="$2"
  node "$BCL_ROOT/scripts/lib/pki-server-demo.mjs" "$dir" >"$dir/services.log" 2>&1 &
  echo $! >"$dir/services.pid"
  printf '#!/bin/sh\nkill "$(cat %q)" 2>/dev/null; sleep 2\n' "$dir/services.pid" >"$DEMO_DIR/cleanup.d/$name" && chmod +x "$DEMO_DIR/cleanup.d/$name"
  for _ in $(seq 1 120); do [ -f "$dir/env" ] && break; sleep 0.5; done
  [ -f "$dir/env" ] || { cat "$dir/services.log" >&2; echo "demo: the PKI server did not start" >&2; return 1; }
  # shellcheck source=/dev/null
  . "$dir/env"
}
