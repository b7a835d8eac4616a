# shellcheck shell=bash
# The PKI Toolbox: the PKI server serves it; a scripted person in headless Chromium signs in with
# the company account on the identity provider's page, chooses a VPN server and downloads the
# profile (the key is made in the browser and never sent). The screenshots and the .ovpn are saved
# here; openssl and a real openvpn server on loopback accept the profile.
demo_section "PKI Toolbox: a VPN profile from the browser, for people who never open a terminal"
T="$DEMO_DIR/pki-toolbox"
mkdir -p "$T"
if [ "$(id -u)" -eq 0 ]; then
  . "$BCL_ROOT/scripts/lib/pki.sh"; ensure_apt postgresql openssl
  . "$BCL_ROOT/scripts/lib/toolbox.sh"; ensure_toolbox_test_deps
fi

demo_start_pki_services "$T" 37-pki-toolbox

demo_say "The Toolbox is served by the PKI server itself, with nothing to install: open $PKI_SERVER_URL/ in any browser."
demo_say "Here a scripted person (headless Chromium) signs in as bob@example.com on the identity provider's page, chooses the Berlin office and downloads the profile."
flow="$BCL_ROOT/packages/pki-toolbox/.bundle/vpn-flow.mjs"
"$BCL_ROOT/packages/pki-toolbox/node_modules/.bin/esbuild" --log-level=warning --bundle --platform=node --format=esm --packages=external \
  --outfile="$flow" "$BCL_ROOT/packages/pki-toolbox/demo/vpn-flow.ts"
demo_run node "$flow" "$PKI_SERVER_URL/" bob@example.com "$T"
demo_say "Saved in $T: a screenshot of each page and the profile."
demo_run ls "$T"
demo_say "The profile carries the CA, the certificate and the key made in the browser, and the server's settings:"
demo_run grep -E '^(client|remote|proto|remote-cert-tls|<ca>|<cert>|<key>)' "$T/berlin-office.ovpn"
sed -n '/<cert>/,/<\/cert>/p' "$T/berlin-office.ovpn" | sed '1d;$d' >"$T/bob.pem"
demo_say "openssl agrees: issued to the signed-in person, for client authentication, chained to the PKI's CA."
demo_run openssl x509 -in "$T/bob.pem" -noout -subject -ext subjectAltName,extendedKeyUsage
demo_run openssl verify -CAfile "$PKI_CA_CHAIN" -purpose sslclient "$T/bob.pem"

demo_say "A real OpenVPN server on loopback (its certificate from the same CA, the server's CRL) accepts the profile."
printf 'basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$T/vpn.ext"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -keyout "$T/vpn.key" -out "$T/vpn.csr" -subj /CN=localhost 2>/dev/null
openssl x509 -req -in "$T/vpn.csr" -CA "$PKI_CA_CHAIN" -CAkey "$PKI_CA_KEY" -CAserial "$T/vpn.srl" -CAcreateserial -days 30 -extfile "$T/vpn.ext" -out "$T/vpn.pem" 2>/dev/null
node --input-type=module -e '
  const [root, url, dir, ca, cert, key, profile] = process.argv.slice(1);
  const {openvpnHandshake} = await import(root + "/packages/testkit/dist/index.js");
  const {writeFileSync} = await import("node:fs");
  writeFileSync(dir + "/crl.pem", await (await fetch(url + "/crl.pem")).text());
  const logs = await openvpnHandshake({profile, crl: dir + "/crl.pem", server: {ca, cert, key}, dir});
  const line = logs.server.split("\n").find((l) => /Peer Connection Initiated/.test(l));
  if (!line) { console.error(logs.server); process.exit(1); }
  console.log("openvpn server: " + line.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /, ""));
' "$BCL_ROOT" "$PKI_SERVER_URL" "$T" "$PKI_CA_CHAIN" "$T/vpn.pem" "$T/vpn.key" "$T/berlin-office.ovpn"
