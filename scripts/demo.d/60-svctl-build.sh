# shellcheck shell=bash
# svctl build and observability: the Jenkins pipeline of a service, its builds, and the Grafana
# dashboard and Prometheus alert rules of the sample service, checked by promtool.
demo_section "svctl: pipelines, builds, dashboards and alerts"
. "$BCL_ROOT/scripts/lib/svctl-obs.sh" && ensure_svctl_obs

demo_say "Jenkins and Grafana cannot run here: a local Jenkins-compatible endpoint (the testkit double) stands in."
node "$BCL_ROOT/scripts/lib/svctl-doubles.mjs" "$DEMO_DIR/doubles.env" hello-build &
doubles_pid=$!
printf '#!/bin/sh\nkill %s 2>/dev/null\n' "$doubles_pid" > "$DEMO_DIR/cleanup.d/60-svctl-doubles" && chmod +x "$DEMO_DIR/cleanup.d/60-svctl-doubles"
for _ in $(seq 100); do [ -s "$DEMO_DIR/doubles.env" ] && break; sleep 0.1; done
# shellcheck source=/dev/null
. "$DEMO_DIR/doubles.env"
export JENKINS_TOKEN GRAFANA_TOKEN

demo_say "A new service: svctl init writes service.yaml, a Dockerfile for the runtime, a Jenkinsfile and .dockerignore."
mkdir -p "$DEMO_DIR/hello-build" && cd "$DEMO_DIR/hello-build"
demo_run svctl init --name hello-build --team platform --runtime node
demo_run sed -n '1,12p' Dockerfile
git init -q -b main && git add -A && git -c user.name=Demo -c user.email=demo@example.com commit -q -m "hello-build: scaffold"
git remote add origin https://git.example.com/platform/hello-build.git

demo_say "The Jenkins server comes from the configuration (here the user file); the API token stays in an environment variable."
demo_run bcl config set svctl.jenkins.ci "{url: '$JENKINS_URL', user: $JENKINS_USER, tokenEnv: JENKINS_TOKEN}"
demo_run bcl config set svctl.grafana "{url: '$GRAFANA_URL', tokenEnv: GRAFANA_TOKEN}"
demo_run svctl config

demo_say "pipeline sync creates the job once, then leaves it alone while nothing changed."
demo_run svctl pipeline sync
demo_run svctl pipeline sync

demo_say "svctl build queues the build, says why it waits, streams the console log and exits with the result."
demo_run svctl build
demo_say "A failing build exits 7 with the end of its log."
demo_expect_fail 7 svctl build
demo_say "A build cancelled while queued exits 6."
demo_expect_fail 6 svctl build
demo_run svctl builds

demo_say "The sample service's dashboard (Grafana JSON, current schemaVersion) and alert rules, checked by promtool."
cd "$BCL_ROOT/packages/svctl/examples/hello"
demo_run svctl dashboard --out "$DEMO_DIR/hello.dashboard.json"
demo_run svctl alerts --out "$DEMO_DIR/hello.rules.yaml"
demo_run promtool check rules "$DEMO_DIR/hello.rules.yaml"
demo_say "--push saves the dashboard in the team's folder through Grafana's HTTP API (the Grafana double here)."
demo_run svctl dashboard --push
cd "$DEMO_DIR"
