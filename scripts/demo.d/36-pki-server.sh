# shellcheck shell=bash
# pkictl + the PKI server: PostgreSQL, the OIDC provider (Google-like claims) and the PKI server
# on loopback; sign in with the device flow (the demo's scripted browser enters the code), a
# certificate in one command, checked with openssl and OCSP, revoked, and the CRL.
demo_section "pkictl + the PKI server: company sign-in, a certificate in one command, CRL and OCSP"
S="$DEMO_DIR/pki-server"
mkdir -p "$S"
[ "$(id -u)" -eq 0 ] && { . "$BCL_ROOT/scripts/lib/pki.sh"; ensure_apt postgresql openssl; }

demo_start_pki_services "$S" 36-pki-server

# This part's settings are environment variables (this part's own shell): the store and CA pin of the pkictl part stay as they were.
demo_say "PostgreSQL, the identity provider and the PKI server run on loopback ($PKI_SERVER_URL). Point pkictl at the server and pin its CA (here for this shell; bcl config set pkictl.server ... keeps it):"
export BCL_PKICTL_SERVER="$PKI_SERVER_URL" BCL_PKICTL_CA_FINGERPRINT="$PKI_CA_FINGERPRINT"
demo_run bcl config get pkictl.server

demo_say "Sign in with the company account. --device prints a code to enter on any device; here the demo's scripted browser enters it as ann@example.com."
printf '\033[1m$ pkictl login --device\033[0m\n' >&2
pkictl login --device 2> >(tee "$S/login.err" >&2) &
login_pid=$!
code=""
for _ in $(seq 1 60); do code="$(awk 'f && NF {print $1; exit} /enter the code:/ {f=1}' "$S/login.err" 2>/dev/null || true)"; [ -n "$code" ] && break; sleep 0.5; done
node -e 'fetch(process.argv[1], {method: "POST"}).then((r) => process.exit(r.ok ? 0 : 1))' "$PKI_DEMO_CONTROL/approve-device?code=$code&user=ann@example.com"
wait "$login_pid"

demo_say "A VPN certificate in one command: the key is made here, the server checks the sign-in and issues at once."
demo_run pkictl request --profile vpn
cred="$(pkictl list --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s).result;console.log(r.at(-1).serial)})')"
cert="$(pkictl show "$cred" --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).result.local.certPath))')"
demo_say "openssl agrees: the certificate is the signed-in person's, for client authentication only, and chains to the CA."
demo_run openssl x509 -in "$cert" -noout -subject -ext subjectAltName,extendedKeyUsage,crlDistributionPoints,authorityInfoAccess
demo_run openssl verify -CAfile "$PKI_CA_CHAIN" "$cert"
demo_say "The OCSP responder (signed by its delegated responder certificate) says it is good."
demo_run openssl ocsp -issuer "$PKI_CA_CHAIN" -cert "$cert" -url "$PKI_SERVER_URL/ocsp" -CAfile "$PKI_CA_CHAIN"
demo_say "Lost the laptop: the owner revokes it. The CRL is re-published at once; OCSP says revoked."
demo_run pkictl revoke "$cred" --reason keyCompromise
demo_run openssl ocsp -issuer "$PKI_CA_CHAIN" -cert "$cert" -url "$PKI_SERVER_URL/ocsp" -CAfile "$PKI_CA_CHAIN"
demo_run pkictl crl --out "$S/crl.pem"
demo_run openssl crl -in "$S/crl.pem" -CAfile "$PKI_CA_CHAIN" -noout -text
demo_say "A revoked certificate never renews (exit 6)."
demo_expect_fail 6 pkictl renew "$cred"
