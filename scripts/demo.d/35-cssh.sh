# shellcheck shell=bash
# csshctl + cssh-authz: SSH access that flows from the PKI. Continues from the pkictl part (its
# CA in $DEMO_DIR/pki, its store and identity in this HOME's configuration); otherwise makes a
# small PKI with pkictl first.
demo_section "csshctl + cssh-authz: short-lived SSH certificates from the PKI"
C="$DEMO_DIR/cssh"
mkdir -p "$C"
[ "$(id -u)" -eq 0 ] && { . "$BCL_ROOT/scripts/lib/cssh.sh"; ensure_cssh_deps; }
command -v ssh-keygen >/dev/null || { demo_say "ssh-keygen is missing (Debian: openssh-client); skipping this part."; return 0; }

# json_get <path> < json: one value of a JSON document ("result.identity.chain").
json_get() { node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>{let v=JSON.parse(d);for(const k of process.argv[1].split("."))v=v==null?undefined:v[k];process.stdout.write(v==null?"":String(v))})' "$1"; }

# The PKI: pkictl's part left its CA (key and passphrase in $DEMO_DIR/pki) and the store in the
# configuration; without it, this part makes its own with pkictl.
store="$(bcl config get pkictl.store)"
if [ -f "$DEMO_DIR/pki/ca.key" ] && [ -f "$DEMO_DIR/pki/passphrase" ] && [ -n "$store" ]; then
  continued=1
  admin=(--ca-key "$DEMO_DIR/pki/ca.key" --passphrase-file "$DEMO_DIR/pki/passphrase")
  demo_say "Continuing from pkictl: its CA and store, and $(bcl config get pkictl.email)'s certificates."
else
  continued=0
  demo_say "No pkictl part ran before: create a CA and a store with pkictl first."
  printf 'demo CA passphrase\n' >"$C/pki-pass" && chmod 600 "$C/pki-pass"
  admin=(--ca-key "$C/pki-ca.key" --passphrase-file "$C/pki-pass")
  store="$C/pki.git"
  demo_run pkictl ca init --store "$store" --name "Demo Corp CA" --email-domain example.com "${admin[@]}" >/dev/null
  bcl config set pkictl.store "$store" >/dev/null
  bcl config set pkictl.email ann@example.com >/dev/null
fi
email="$(bcl config get pkictl.email)"
# cssh-authz trusts the PKI's CA and checks its CRL (a fresh one, signed and published now).
git --git-dir "$store" show main:ca/root.pem >"$C/pki-ca.pem"
pkictl crl --out "$C/pki-crl.pem" "${admin[@]}" >/dev/null

# cssh-authz's own TLS certificate, from a small web CA (any CA the clients trust will do).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -keyout "$C/web-ca.key" -out "$C/web-ca.pem" -subj "/CN=Demo web CA" -days 1 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -keyout "$C/server.key" -out "$C/server.csr" -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:false\n' >"$C/server.ext"
openssl x509 -req -in "$C/server.csr" -CA "$C/web-ca.pem" -CAkey "$C/web-ca.key" -CAcreateserial -out "$C/server.pem" -days 1 -extfile "$C/server.ext" 2>/dev/null

# The principal: a test login when we can run sshd (root), else our own name.
if [ "$(id -u)" -eq 0 ]; then
  login=bcl-ops
  id -u "$login" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh --comment 'BCL demo login' --password '*' "$login"
else
  login="$(id -un)"
fi

demo_say "The SSH user CA: a new Ed25519 key, and the access rules."
demo_run cssh-authz keygen --out "$C/ssh_user_ca"
cat >"$C/rules.yaml" <<EOF
groups:
  sre: [$email]
hostGroups:
  local: [127.0.0.1, localhost]
grants:
  - group: sre
    hosts: local
    principals: [$login]
    maxTtl: 8h
admins: [sre]
EOF
cat >"$C/config.yaml" <<EOF
listen: 127.0.0.1:0
tls: {cert: server.pem, key: server.key, clientCa: pki-ca.pem, crl: pki-crl.pem}
ca: {key: ssh_user_ca}
rules: rules.yaml
stateDir: state
auditLog: audit.jsonl
EOF
demo_run cat "$C/rules.yaml"
demo_run cssh-authz check --config "$C/config.yaml"
cssh-authz serve --config "$C/config.yaml" 2>"$C/serve.log" &
authz_pid=$!
printf '#!/bin/sh\nkill %s 2>/dev/null\n' "$authz_pid" >"$DEMO_DIR/cleanup.d/35-cssh-authz" && chmod +x "$DEMO_DIR/cleanup.d/35-cssh-authz"
for _ in $(seq 100); do grep -q 'listening on' "$C/serve.log" && break; sleep 0.1; done
url="$(sed -n 's/.*listening on \(https:[^ ]*\).*/\1/p' "$C/serve.log" | head -n1)"
[ -n "$url" ] || { cat "$C/serve.log" >&2; return 1; }
demo_say "cssh-authz listens on $url"

demo_run bcl config set csshctl.server "$url"
demo_run bcl config set csshctl.serverCa "$C/web-ca.pem"
if [ "$continued" = 1 ]; then
  demo_say "$email's client certificate was revoked in the pkictl part: cssh-authz checks the PKI's CRL and refuses it."
  demo_expect_fail 4 csshctl cert
fi
demo_say "$email gets a (new) client certificate from the PKI: request, approve, fetch; csshctl will use it."
id="$(pkictl request --json | json_get result.id)"
pkictl approve "$id" "${admin[@]}" >/dev/null
serial="$(pkictl fetch "$id" --json | json_get result.serial)"
demo_run bcl config set csshctl.certificate "$serial"
demo_say "A certificate for every principal the rules allow, with the PKI certificate over mutual TLS."
demo_run csshctl cert --ttl 1h
demo_run ssh-keygen -L -f "$XDG_DATA_HOME/bcl/csshctl/default/id-cert.pub"
demo_say "A principal the rules do not grant is refused, by name, and nothing is issued."
demo_expect_fail 4 csshctl cert --principal root
demo_run csshctl status
demo_say "Every issuance and refusal is in the audit log (JSON lines):"
demo_run tail -n 2 "$C/audit.jsonl"

if [ "$(id -u)" -ne 0 ]; then
  demo_say "Not root: skipping the loopback sshd (sshd needs root for privilege separation)."
  return 0
fi

demo_section "A host that trusts cssh-authz, and csshctl ssh"
# sshd accepts an AuthorizedPrincipalsCommand only under root-owned, non-writable directories: /run, not /tmp.
H="$(mktemp -d -p /run bcl-demo-sshd-XXXXXX)"
chmod 755 "$H"
printf '#!/bin/sh\nrm -rf %s\n' "$H" >"$DEMO_DIR/cleanup.d/35-cssh-host" && chmod +x "$DEMO_DIR/cleanup.d/35-cssh-host"
command_user=nobody
runuser -u nobody -- test -x "$BCL_ROOT/bin/csshctl" 2>/dev/null || command_user=root
printf '#!/bin/sh\nexec %s "$@" --config %s\n' "$BCL_ROOT/bin/csshctl" "$H/bcl-config.yaml" >"$H/csshctl" && chmod 755 "$H/csshctl"
demo_run cssh-authz host-setup --server "$url" --cacert "$C/web-ca.pem" --hostname 127.0.0.1 --csshctl "$H/csshctl" --command-user "$command_user" --out-dir "$H"
port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
ssh-keygen -q -t ed25519 -N '' -f "$H/host_key"
{ cat "$H/sshd_config"; printf 'HostKey %s\nListenAddress 127.0.0.1:%s\nPidFile %s\nAuthorizedKeysFile none\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n' "$H/host_key" "$port" "$H/sshd.pid"; } >"$H/sshd_config.full"
mkdir -p /run/sshd
/usr/sbin/sshd -D -f "$H/sshd_config.full" -E "$H/sshd.log" &
sshd_pid=$!
printf '#!/bin/sh\nkill %s 2>/dev/null\nrm -rf %s\n' "$sshd_pid" "$H" >"$DEMO_DIR/cleanup.d/35-cssh-host"
for _ in $(seq 100); do grep -q 'Server listening' "$H/sshd.log" 2>/dev/null && break; sleep 0.1; done
printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$H/host_key.pub")" >"$H/known_hosts"
sshopts=(-F /dev/null -p "$port" -o "UserKnownHostsFile=$H/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes)

demo_say "Log in: csshctl gets a certificate for $login on 127.0.0.1 and runs the system ssh with it."
demo_run csshctl ssh "$login@127.0.0.1" -- "${sshopts[@]}" 'echo "hello from $(whoami) on $(hostname)"'
demo_run grep -m1 'Accepted publickey' "$H/sshd.log"
demo_say "Revoke everything of $email (laptop lost); once the host fetches the KRL, sshd refuses those certificates."
demo_run csshctl revoke --key-id "$email" --reason "demo: laptop lost"
cssh-authz host-setup --server "$url" --cacert "$C/web-ca.pem" --hostname 127.0.0.1 --csshctl "$H/csshctl" --command-user "$command_user" --out-dir "$H" >/dev/null
demo_run ssh-keygen -Q -l -f "$H/cssh_revoked.krl"
demo_expect_fail 255 csshctl ssh "$login@127.0.0.1" -- "${sshopts[@]}" true
demo_say "A new certificate works again (the PKI certificate itself was not revoked)."
demo_run csshctl ssh --renew "$login@127.0.0.1" -- "${sshopts[@]}" 'echo "back in as $(whoami)"'
