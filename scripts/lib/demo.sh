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
