# shellcheck shell=bash
# svapp: the svctl back end on the local cluster (from the svctl part), with PKI client
# certificates from the pkictl part: deploys through it, a deprecation notice, detaching from and
# re-attaching to a running deploy, and the deploy policy: an allowed deploy, a refused production
# deploy with its reason, can-i, and an approval by a second person.
demo_section "svapp: svctl through its back end, with deploy access control"
# The svctl part left the local cluster running (its kubeconfig path in kubeconfig.path).
KUBECONFIG="$(tail -n 1 "$DEMO_DIR/kubeconfig.path" 2>/dev/null || true)"
export KUBECONFIG
if [ ! -f "$KUBECONFIG" ] || [ ! -f "$DEMO_DIR/pki/ca.key" ]; then
  demo_say "This part needs the local cluster (svctl part) and the PKI (pkictl part); run the whole demo."
  return 0
fi
S="$DEMO_DIR/svapp"
mkdir -p "$S/services" "$S/home-rita"
. "$BCL_ROOT/scripts/lib/k8s-build.sh" && ensure_k8s_binaries
kubectl="$K8S_BIN/kubectl"
json_get() { node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>{let v=JSON.parse(d);for(const k of process.argv[1].split("."))v=v==null?undefined:v[k];process.stdout.write(v==null?"":String(v))})' "$1"; }
admin=(--ca-key "$DEMO_DIR/pki/ca.key" --passphrase-file "$DEMO_DIR/pki/passphrase")
store="$(bcl config get pkictl.store)"

demo_say "svapp keeps operations and their events in PostgreSQL (here a local server), so any replica serves any client."
node "$BCL_ROOT/scripts/lib/svapp-demo-db.mjs" "$S/db.env" &
db_pid=$!
printf '#!/bin/sh\nkill %s 2>/dev/null\n' "$db_pid" >"$DEMO_DIR/cleanup.d/55-svapp-db" && chmod +x "$DEMO_DIR/cleanup.d/55-svapp-db"
for _ in $(seq 200); do [ -s "$S/db.env" ] && break; sleep 0.1; done
# shellcheck source=/dev/null
. "$S/db.env"
export SVAPP_DATABASE_URL SVAPP_MIGRATE_URL

demo_say "It trusts the PKI's CA and checks its CRL; its own TLS certificate is from a small web CA."
git --git-dir "$store" show main:ca/root.pem >"$S/pki-ca.pem"
pkictl crl --out "$S/pki-crl.pem" "${admin[@]}" >/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -keyout "$S/web-ca.key" -out "$S/web-ca.pem" -subj "/CN=Demo web CA" -days 1 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -keyout "$S/server.key" -out "$S/server.csr" -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:false\n' >"$S/server.ext"
openssl x509 -req -in "$S/server.csr" -CA "$S/web-ca.pem" -CAkey "$S/web-ca.key" -CAcreateserial -out "$S/server.pem" -days 1 -extfile "$S/server.ext" 2>/dev/null
chmod 600 "$S/server.key"

demo_say "svapp talks to the cluster with credentials of its own: a ServiceAccount bound to the svapp-deployer role (packages/svapp/deploy/rbac.yaml)."
"$kubectl" apply -f "$BCL_ROOT/packages/svapp/deploy/rbac.yaml" >/dev/null
"$kubectl" create serviceaccount svapp -n default >/dev/null
"$kubectl" create clusterrolebinding svapp-demo --clusterrole=svapp-deployer --serviceaccount=default:svapp >/dev/null
server="$("$kubectl" config view --raw --minify -o jsonpath='{.clusters[0].cluster.server}')"
"$kubectl" config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$S/cluster-ca.pem"
KUBECONFIG="$S/kubeconfig" "$kubectl" config set-cluster local --server "$server" --certificate-authority "$S/cluster-ca.pem" --embed-certs >/dev/null
KUBECONFIG="$S/kubeconfig" "$kubectl" config set-credentials svapp --token "$("$kubectl" create token svapp -n default --duration=2h)" >/dev/null
KUBECONFIG="$S/kubeconfig" "$kubectl" config set-context svapp --cluster local --user svapp >/dev/null
KUBECONFIG="$S/kubeconfig" "$kubectl" config use-context svapp >/dev/null
chmod 600 "$S/kubeconfig"

demo_say "The deploy policy: teams deploy their own services to local; production needs a release manager's approval."
cat >"$S/deploy-policy.yaml" <<POLICY
timeZone: Europe/Berlin
groups:
  release-managers: [rita@example.com]
teams:
  payments: [ann@example.com]
  search: [sue@example.com]
environments:
  local: {}
  prod: {description: Production}
rules:
  - id: own-team-local
    allow: [deploy, rollback, cancel, read]
    who: '*'
    services: {ownTeam: true}
    environments: [local]
  - id: prod-with-approval
    description: Teams deploy their own services to production with a release manager's approval
    allow: [deploy, rollback]
    who: {teams: [payments, search]}
    services: {ownTeam: true}
    environments: [prod]
    approval: {group: release-managers}
  - id: read-own-prod
    allow: [read]
    who: '*'
    services: {ownTeam: true}
    environments: [prod]
POLICY
demo_run svapp check-policy "$S/deploy-policy.yaml"
# The catalog: svapp's own copies of the services' specs, where teams and namespaces come from.
spec() { printf 'name: %s\nteam: %s\nimage: registry.example.com/%s/%s\nruntime: node\nport: 3000\nreplicas: %s\nmetrics: {enabled: false}\nrollout: {maxSurge: 1, maxUnavailable: 0}\nenvironments:\n  local: {namespace: %s-local}\n  prod: {namespace: %s-prod, production: true}\n' "$1" "$2" "$2" "$1" "$3" "$1" "$1"; }
spec shop payments 12 >"$S/services/shop.yaml"
spec search search 2 >"$S/services/search.yaml"
cat >"$S/svapp.yaml" <<CONFIG
listen: 127.0.0.1:0
tls: {cert: server.pem, key: server.key, clientCa: pki-ca.pem, crl: pki-crl.pem}
database:
  url: {env: SVAPP_DATABASE_URL}
  migrateUrl: {env: SVAPP_MIGRATE_URL}
policy: deploy-policy.yaml
catalog: services
clusters:
  local: {kubeconfig: kubeconfig}
  prod: {kubeconfig: kubeconfig, production: true}
CONFIG
start_svapp() { # start_svapp <name> [extra config lines]: a replica in the background, its URL on stdout
  local name="$1" config="$S/svapp.yaml"
  if [ -n "${2:-}" ]; then config="$S/svapp-$name.yaml"; { cat "$S/svapp.yaml"; printf '%s\n' "$2"; } >"$config"; fi
  POD_NAME="$name" svapp serve --config "$config" >>"$S/audit-$name.jsonl" 2>"$S/$name.log" &
  printf 'kill %s 2>/dev/null\n' "$!" >>"$DEMO_DIR/cleanup.d/55-svapp-replicas"
  for _ in $(seq 200); do grep -q 'svapp listening' "$S/$name.log" && break; sleep 0.1; done
  sed -n 's/.*svapp listening on \(https:[^"]*\)".*/\1/p' "$S/$name.log" | head -n1
}
printf '#!/bin/sh\n' >"$DEMO_DIR/cleanup.d/55-svapp-replicas" && chmod +x "$DEMO_DIR/cleanup.d/55-svapp-replicas"
url="$(start_svapp svapp-0)"
[ -n "$url" ] || { cat "$S/svapp-0.log" >&2; return 1; }
demo_say "svapp listens on $url (its audit log: JSON lines on stdout)."

demo_say "$(bcl config get pkictl.email) gets a new client certificate from the PKI (the pkictl part revoked the first); svctl authenticates with it."
id="$(pkictl request --json | json_get result.id)"
pkictl approve "$id" "${admin[@]}" >/dev/null
pkictl fetch "$id" >/dev/null
demo_run bcl config set svctl.server "{url: '$url', ca: '$S/web-ca.pem'}"

mkdir -p "$S/shop" && spec shop payments 12 >"$S/shop/service.yaml"
cd "$S/shop"
git init -q -b main && git add -A && git -c user.name=Demo -c user.email=demo@example.com commit -q -m "shop"
demo_say "The same svctl, the same command as before: svctl now needs no cluster credentials, svapp deploys."
demo_run svctl --verbose status --env local 2>&1 | grep -E 'server mode|shop'
demo_run svctl deploy --env local --image-tag 1.0.0
demo_run svctl history --env local

demo_say "A second replica tells old clients they are deprecated: the notice comes with the answer, printed once, on stderr."
url_dep="$(start_svapp svapp-1 'clients: {deprecations: [{clientBelow: 9.0.0, sunset: 2031-01-01, message: "svctl before 9.0 is deprecated"}]}')"
BCL_SVCTL_SERVER_URL="$url_dep" demo_run svctl status --env local

demo_say "A long rollout (12 replicas, one at a time). Ctrl-C off a terminal detaches: the deploy goes on in svapp."
svctl deploy --env local --image-tag 1.1.0 --non-interactive 2>"$S/detached.err" &
deploy_pid=$!
for _ in $(seq 300); do grep -q 'updated' "$S/detached.err" 2>/dev/null && break; sleep 0.1; done
kill -INT "$deploy_pid"
wait "$deploy_pid" || true
tail -n 3 "$S/detached.err" >&2
op="$(svctl ops list --json --limit 1 | json_get result.operations.0.id)"
demo_run svctl ops list --limit 3
demo_say "Attach again: every event from the start, then the rest live, and the result."
demo_run svctl ops attach "$op"

demo_say "The policy at work. search belongs to team search: $(bcl config get pkictl.email) may not deploy it to production, and is told why (exit 4); nothing is applied."
mkdir -p "$S/search" && spec search search 2 >"$S/search/service.yaml"
(cd "$S/search" && git init -q -b main && git add -A && git -c user.name=Demo -c user.email=demo@example.com commit -q -m search)
(cd "$S/search" && demo_expect_fail 4 svctl deploy --env prod --image-tag 1.0.0)
demo_say "can-i asks the same function that enforces, and shows every rule it considered."
demo_run svctl can-i deploy shop --env prod

demo_say "So the production deploy of shop waits for a release manager; rita (a second person, with her own certificate) approves it."
# as_rita cmd...: a command in rita's own HOME (her configuration and her PKI key and certificate).
as_rita() { HOME="$S/home-rita" XDG_CONFIG_HOME="$S/home-rita/.config" XDG_DATA_HOME="$S/home-rita/.local/share" XDG_CACHE_HOME="$S/home-rita/.cache" XDG_STATE_HOME="$S/home-rita/.local/state" "$@"; }
as_rita bcl config set pkictl.store "$store" >/dev/null
as_rita bcl config set pkictl.email rita@example.com >/dev/null
as_rita bcl config set pkictl.caFingerprint "$(bcl config get pkictl.caFingerprint)" >/dev/null
rita_req="$(as_rita pkictl request --json | json_get result.id)"
pkictl approve "$rita_req" "${admin[@]}" >/dev/null
as_rita pkictl fetch "$rita_req" >/dev/null
as_rita bcl config set svctl.server "{url: '$url', ca: '$S/web-ca.pem'}" >/dev/null
svctl deploy --env prod --image-tag 1.0.0 --non-interactive 2>"$S/prod.err" &
prod_pid=$!
for _ in $(seq 300); do grep -q 'Waiting for approval' "$S/prod.err" 2>/dev/null && break; sleep 0.1; done
demo_run grep 'Waiting for approval' "$S/prod.err"
waiting="$(as_rita svctl ops list --state waiting-approval --json | json_get result.operations.0.id)"
demo_run as_rita svctl ops list --state waiting-approval
demo_run as_rita svctl ops approve "$waiting"
wait "$prod_pid"
demo_say "ann's svctl saw the approval live, then the rollout:"
demo_run grep -E 'Approved by|done:' "$S/prod.err"
demo_say "Every decision and operation is in svapp's audit log (hash-chained, in PostgreSQL; also these JSON lines):"
demo_run sh -c "grep -h '\"event\":\"operation' '$S'/audit-*.jsonl | tail -n 4 | cut -c1-220"
cd "$DEMO_DIR"
demo_say "Without svctl.server, svctl works directly against the cluster again (the next parts)."
demo_run bcl config unset svctl.server
