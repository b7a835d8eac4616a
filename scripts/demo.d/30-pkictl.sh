# shellcheck shell=bash
# pkictl: a CA and a Git store in a temp dir; request, approve, fetch, verify with openssl, revoke,
# publish a CRL, and write an OpenVPN profile.
demo_section "pkictl: client certificates from a Git-backed PKI"
pki="$DEMO_DIR/pki"
mkdir -p "$pki"
printf 'demo CA passphrase\n' >"$pki/passphrase" && chmod 600 "$pki/passphrase"
admin=(--ca-key "$pki/ca.key" --passphrase-file "$pki/passphrase")

demo_say "A CA admin creates the CA and the store (a bare git repository); the CA key stays outside it, encrypted."
demo_run pkictl ca init --store "$pki/store.git" --name "Demo Corp CA" --email-domain example.com "${admin[@]}"
demo_say "Employees set the store and their email once; daily use is just 'pkictl request' and 'pkictl fetch'."
demo_run bcl config set pkictl.store "$pki/store.git"
demo_run bcl config set pkictl.email ann@example.com
demo_run pkictl request
demo_run pkictl request --profile vpn --key-type rsa-3072
demo_say "The admin sees what waits and approves it all: one commit, certificates per the store's policy."
demo_run pkictl requests
demo_run pkictl approve --all "${admin[@]}"
demo_say "Fetch writes the certificate and the CA chain beside the local key (which never left this machine)."
client="$(pkictl list --json --email ann@example.com | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s).result;console.log(r.find(c=>c.profile==="client").serial)})')"
first="$(pkictl requests --status issued --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const r of JSON.parse(s).result)console.log(r.id)})')"
for id in $first; do demo_run pkictl fetch "$id"; done
creds="$XDG_DATA_HOME/bcl/pkictl/credentials"
demo_say "openssl agrees: every issued certificate verifies against the CA."
for d in "$creds"/*/; do demo_run openssl verify -CAfile "$d/chain.pem" "$d/cert.pem"; done
demo_run pkictl list
demo_say "A CSR asking for more than the policy allows is refused before anything is written (exit 4)."
demo_expect_fail 4 pkictl request --dns evil.example.com
demo_say "Revoke the client certificate and publish a CRL; openssl -crl_check now rejects it."
demo_run pkictl revoke "$client" --reason keyCompromise "${admin[@]}"
demo_run pkictl crl --out "$pki/crl.pem"
revoked_cert="$(pkictl show "$client" --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).result.local.certPath))')"
demo_expect_fail 2 openssl verify -crl_check -CAfile "$(dirname "$revoked_cert")/chain.pem" -CRLfile "$pki/crl.pem" "$revoked_cert"
demo_say "An OpenVPN client profile with the CA, the VPN certificate and its key inline (mode 0600)."
demo_run pkictl vpn-config --remote vpn.example.com:1194 --proto udp --out "$pki/ann.ovpn"
demo_run grep -E '^(client|remote|proto|<ca>|<cert>|<key>)' "$pki/ann.ovpn"
