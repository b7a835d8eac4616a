# shellcheck shell=bash
# svctl deploys: a local Kubernetes control plane, the sample service deployed and inspected, then
# a crash-looping image that fails fast and is rolled back automatically.
demo_section "svctl: safe deploys to Kubernetes"
. "$BCL_ROOT/scripts/lib/k8s-build.sh"
demo_say "A real Kubernetes control plane runs locally (kube-apiserver, controller-manager, scheduler; kwok plays the nodes)."
demo_say "The first time, its binaries are built from the Go module proxy (several minutes, progress below); then they are cached."
ensure_k8s_binaries
demo_run "$BCL_ROOT/scripts/local-cluster" up --dir "$DEMO_DIR/cluster" >"$DEMO_DIR/kubeconfig.path"
printf '#!/bin/sh\n"%s/scripts/local-cluster" down --dir "%s/cluster" --purge >/dev/null 2>&1\n' "$BCL_ROOT" "$DEMO_DIR" > "$DEMO_DIR/cleanup.d/50-local-cluster"
chmod +x "$DEMO_DIR/cleanup.d/50-local-cluster"
KUBECONFIG="$(tail -1 "$DEMO_DIR/kubeconfig.path")"
export KUBECONFIG

demo_say "The sample service, in its own git repository; the project file maps environment 'local' to the cluster's kubeconfig context."
mkdir -p "$DEMO_DIR/hello" && cp "$BCL_ROOT/packages/svctl/examples/hello/service.yaml" "$DEMO_DIR/hello/"
cd "$DEMO_DIR/hello"
printf 'svctl:\n  defaultEnv: local\n  clusters:\n    local: {context: bcl-local}\n' > .bcl.yaml
git init -q -b main && git add -A && git -c user.name=Demo -c user.email=demo@example.com commit -q -m "hello: first version"
demo_say "A project file may not choose a cluster until you trust it (it arrives with git clone): trust it once, by its content."
demo_run bcl config trust .bcl.yaml
demo_run svctl validate
demo_say "What svctl applies: standard objects with standard labels (first lines)."
demo_run svctl render --env local --image-tag 1.0.0 | sed -n '1,16p'

demo_say "Deploy 1.0.0: server-side apply in order, then the rollout is watched until every pod is ready."
demo_run svctl deploy --env local --image-tag 1.0.0
demo_say "Version 1.1.0 rolls out; --json gives revision, image, duration and outcome to scripts."
demo_run svctl deploy --env local --image-tag 1.1.0 --json
demo_run svctl status --env local

demo_say "A broken build: 1.2.0-crashloop crashes at start. svctl sees CrashLoopBackOff within seconds, reports the pod and its logs,"
demo_say "re-applies the previous good revision, waits for it, and exits 7. (kwok serves the pods' logs from a file, as a kubelet would.)"
# The crashed run's log (CRI format, as kubelets keep it), for the pods of namespace hello-local.
printf '%s stdout F %s\n' 2026-01-01T00:00:00.000000000Z 'hello 1.2.0 listening on :3000' \
  2026-01-01T00:00:00.100000000Z 'TypeError: Cannot read properties of undefined (reading '"'"'port'"'"')' \
  2026-01-01T00:00:00.100000000Z '    at loadConfig (/app/server.js:12:31)' > "$DEMO_DIR/hello-crash.log"
printf 'apiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterLogs\nmetadata: {name: demo-hello-local}\nspec:\n  selector: {matchNamespaces: [hello-local]}\n  logs: [{logsFile: %s, previousLogsFile: %s}]\n' \
  "$DEMO_DIR/hello-crash.log" "$DEMO_DIR/hello-crash.log" | "$K8S_BIN/kubectl" apply -f - >/dev/null
demo_expect_fail 7 svctl deploy --env local --image-tag 1.2.0-crashloop
demo_say "1.1.0 runs again; the history records every revision, the failure and the rollback."
demo_run svctl status --env local
demo_run svctl history --env local
cd "$DEMO_DIR"
