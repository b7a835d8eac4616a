#!/usr/bin/env bash
# Smoke checks of the local Kubernetes control plane (scripts/local-cluster) with kubectl:
# Deployment rollout and update, CrashLoopBackOff and ImagePullBackOff stages, pod deletion,
# Lease create/renew, server-side apply with a field manager and its conflicts.
#
#   packages/testkit/k8s/smoke-test.sh               # starts a cluster in a temp dir, stops it after
#   packages/testkit/k8s/smoke-test.sh --kubeconfig F  # uses a running cluster
#
# Prints one line per check and a closing "N passed, N failed"; exits non-zero on a failure.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
KCFG=""
if [ "${1:-}" = "--kubeconfig" ]; then KCFG="$2"; fi

PASS=0; FAIL=0; OWN_DIR=""
ok() { PASS=$((PASS + 1)); printf 'ok   %s\n' "$*"; }
bad() { FAIL=$((FAIL + 1)); printf 'FAIL %s\n' "$*"; }
finish() {
  [ -n "${NS:-}" ] && k delete namespace "$NS" --wait=false >/dev/null 2>&1
  [ -n "$OWN_DIR" ] && "$ROOT/scripts/local-cluster" down --dir "$OWN_DIR" --purge >&2
  printf '%s passed, %s failed\n' "$PASS" "$FAIL"
  [ "$FAIL" -eq 0 ]
}
trap 'finish; exit $?' EXIT

if [ -z "$KCFG" ]; then
  OWN_DIR="$(mktemp -d /tmp/bcl-smoke.XXXXXX)"
  start=$(date +%s%3N)
  KCFG="$("$ROOT/scripts/local-cluster" up --dir "$OWN_DIR")" || { bad "local-cluster up"; exit 1; }
  ok "local-cluster up in $(( ($(date +%s%3N) - start) / 100 ))00ms: $KCFG"
fi
BIN="$(jq -r .binDir < <("$ROOT/scripts/local-cluster" status --json --dir "$(dirname "$KCFG")"))"
KUBECTL="$BIN/kubectl"
[ -x "$KUBECTL" ] || KUBECTL="$(command -v kubectl)"
k() { "$KUBECTL" --kubeconfig "$KCFG" "$@"; }
NS="smoke-$$"
k create namespace "$NS" >/dev/null && ok "namespace $NS" || bad "create namespace"
# ServiceAccount admission needs the namespace's default ServiceAccount (made by the controller manager).
for _ in $(seq 1 50); do k -n "$NS" get sa default >/dev/null 2>&1 && break; sleep 0.2; done

# wait_for <seconds> <description> <command...>
wait_for() {
  local t="$1" what="$2" end
  shift 2
  end=$(( $(date +%s) + t ))
  while [ "$(date +%s)" -le "$end" ]; do
    if "$@" >/dev/null 2>&1; then ok "$what"; return 0; fi
    sleep 0.5
  done
  bad "$what (not within ${t}s)"; return 1
}

# ---- nodes
[ "$(k get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{end}')" != "" ] \
  && k get nodes -o jsonpath='{.items[0].status.allocatable.pods}' | grep -q . && ok "nodes Ready with allocatable pods" || bad "nodes"

# ---- Deployment: rollout, image update, delete
k -n "$NS" create deployment app --image=registry.example/app:v1 --replicas=3 >/dev/null || bad "create deployment"
t0=$(date +%s%3N)
if k -n "$NS" rollout status deploy/app --timeout=60s >/dev/null; then ok "deployment v1 Available (3 replicas) in $(( $(date +%s%3N) - t0 ))ms"; else bad "rollout v1"; fi
k -n "$NS" set image deploy/app app=registry.example/app:v2 >/dev/null
t0=$(date +%s%3N)
if k -n "$NS" rollout status deploy/app --timeout=60s >/dev/null; then ok "rollout to v2 complete in $(( $(date +%s%3N) - t0 ))ms"; else bad "rollout v2"; fi
imgs="$(k -n "$NS" get pods -l app=app -o jsonpath='{range .items[*]}{.spec.containers[0].image}{" "}{.status.phase}{"\n"}{end}')"
[ "$(grep -c 'app:v2 Running' <<<"$imgs")" = 3 ] && ok "3 pods Running with v2" || bad "pods after update: $imgs"
k -n "$NS" delete deploy app --wait=true >/dev/null && ok "deployment deleted"
wait_for 30 "pods of the deleted deployment are gone" bash -c "[ -z \"\$('$KUBECTL' --kubeconfig '$KCFG' -n '$NS' get pods -l app=app -o name)\" ]"

# ---- CrashLoopBackOff
k -n "$NS" create deployment crash --image=registry.example/app:v1-crashloop >/dev/null
crashloop() {
  local s
  s="$(k -n "$NS" get pods -l app=crash -o jsonpath='{.items[0].status.containerStatuses[0].state.waiting.reason} {.items[0].status.containerStatuses[0].restartCount} {.items[0].status.containerStatuses[0].lastState.terminated.exitCode}')"
  read -r reason restarts code <<<"$s"
  [ "$reason" = CrashLoopBackOff ] && [ "${restarts:-0}" -ge "$1" ] && [ "${code:-0}" != 0 ]
}
wait_for 10 "crashloop image: CrashLoopBackOff, restartCount>=1, lastState exit code != 0" crashloop 1
wait_for 20 "crashloop image: restartCount keeps increasing (>=3)" crashloop 3
k -n "$NS" get pods -l app=crash --no-headers | grep -q CrashLoopBackOff && ok "kubectl get pods shows CrashLoopBackOff" || true
[ "$(k -n "$NS" get deploy crash -o jsonpath='{.status.availableReplicas}')" = "" ] && ok "crashloop deployment is not Available" || bad "crashloop deployment became available"

# ---- ErrImagePull / ImagePullBackOff
k -n "$NS" create deployment nf --image=registry.example/app:v1-notfound >/dev/null
pullfail() {
  local s
  s="$(k -n "$NS" get pods -l app=nf -o jsonpath='{.items[0].status.containerStatuses[0].state.waiting.reason}|{.items[0].status.containerStatuses[0].state.waiting.message}')"
  [[ "${s%%|*}" =~ ^(ErrImagePull|ImagePullBackOff)$ ]] && [[ "${s#*|}" == *"not found"* ]] && [[ "${s#*|}" == *'failed to pull and unpack image "registry.example/app:v1-notfound"'* ]]
}
wait_for 5 "notfound image: ErrImagePull/ImagePullBackOff with 'not found' message" pullfail
wait_for 10 "notfound image: ImagePullBackOff" bash -c "'$KUBECTL' --kubeconfig '$KCFG' -n '$NS' get pods -l app=nf --no-headers | grep -q ImagePullBackOff"

# ---- pod deletion
pod="$(k -n "$NS" get pods -l app=crash -o jsonpath='{.items[0].metadata.name}')"
t0=$(date +%s%3N)
k -n "$NS" delete pod "$pod" --wait=true --timeout=30s >/dev/null && ok "pod deleted in $(( $(date +%s%3N) - t0 ))ms" || bad "delete pod"

# ---- Job completes
k -n "$NS" create job once --image=registry.example/job:v1 >/dev/null
wait_for 20 "job completes" bash -c "'$KUBECTL' --kubeconfig '$KCFG' -n '$NS' wait --for=condition=Complete job/once --timeout=1s"

# ---- Lease: create and renew
k -n "$NS" apply -f - >/dev/null <<EOF && ok "lease created" || bad "lease create"
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: svctl-lock}
spec: {holderIdentity: smoke, leaseDurationSeconds: 15, acquireTime: "$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)", renewTime: "$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)"}
EOF
rv1="$(k -n "$NS" get lease svctl-lock -o jsonpath='{.metadata.resourceVersion}')"
sleep 1
renew="$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)"
k -n "$NS" patch lease svctl-lock --type=merge -p "{\"spec\":{\"renewTime\":\"$renew\"}}" >/dev/null
[ "$(k -n "$NS" get lease svctl-lock -o jsonpath='{.spec.renewTime}')" = "$renew" ] \
  && [ "$(k -n "$NS" get lease svctl-lock -o jsonpath='{.metadata.resourceVersion}')" != "$rv1" ] && ok "lease renewed" || bad "lease renew"
# optimistic concurrency: an update with a stale resourceVersion is refused
if k -n "$NS" get lease svctl-lock -o json | jq --arg rv "$rv1" '.metadata.resourceVersion=$rv' | k replace -f - >/dev/null 2>&1; then
  bad "stale resourceVersion accepted"; else ok "stale resourceVersion refused (409 Conflict)"; fi

# ---- server-side apply with field managers
cm() { printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: %s}\ndata: {key: "%s"}\n' "$NS" "$1"; }
cm one | k apply --server-side --field-manager=x -f - >/dev/null && ok "server-side apply --field-manager=x" || bad "ssa"
[ "$(k -n "$NS" get cm ssa -o jsonpath='{.metadata.managedFields[0].manager}')" = x ] && ok "managedFields names manager x" || bad "managedFields"
if cm two | k apply --server-side --field-manager=y -f - >/dev/null 2>&1; then bad "ssa conflict not detected"; else ok "ssa conflict with another manager detected"; fi
cm two | k apply --server-side --field-manager=y --force-conflicts -f - >/dev/null && ok "ssa --force-conflicts takes over" || bad "force-conflicts"

# ---- core API surface svctl uses
k auth can-i '*' '*' >/dev/null && ok "admin is cluster-admin (system:masters)" || bad "admin rights"
k get --raw /readyz >/dev/null && ok "/readyz" || bad "/readyz"
[ "$(k version -o json | jq -r .serverVersion.gitVersion)" != "" ] && ok "server version $(k version -o json | jq -r .serverVersion.gitVersion)" || bad "version"
