# shellcheck shell=bash
demo_section "BCL: doctor and configuration"
demo_say "bcl doctor checks the toolchain, the configuration and configured endpoints."
demo_run bcl doctor
demo_say "A configuration round trip: set a user value, override it in a project file, see the origins."
demo_run bcl config set svctl.defaultEnv staging
mkdir -p "$DEMO_DIR/project" && cd "$DEMO_DIR/project"
demo_run bcl config set svctl.defaultEnv prod --project
demo_run bcl config get svctl.defaultEnv --show-origin
demo_run env BCL_SVCTL_DEFAULT_ENV=qa bcl config list svctl --show-origin
demo_say "Every command speaks JSON for scripts."
demo_run bcl --json config get svctl.defaultEnv
demo_say "A broken project file is refused with exit 3, naming the file, line and key."
printf 'svctl:\n  reconnectSeconds: soon\n' > .bcl.yaml
demo_expect_fail 3 svctl config
demo_say "A project file comes with git clone: it may not choose a cluster, a program, a server or a trust root until you trust its content."
printf 'svctl:\n  clusters:\n    prod: {context: theirs}\n' > .bcl.yaml
demo_run svctl config
cd "$DEMO_DIR"
