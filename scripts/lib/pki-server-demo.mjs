// The services of the PKI server's demo parts, kept running until SIGTERM: a real PostgreSQL,
// the test OIDC provider (Google-like claims) and a PKI server serving the PKI Toolbox (its web
// client for browser sign-in, one VPN server on loopback), plus a loopback control endpoint
// through which the demo's scripted browser completes a device sign-in. Writes <dir>/env.
import {writeFileSync} from 'node:fs';
import {createServer} from 'node:http';
import {join} from 'node:path';
import {freePort, startOidcProvider, startPkiServer, startPostgres} from '../../packages/testkit/dist/index.js';

const dir = process.argv[2];
const port = await freePort();
const pg = await startPostgres();
const oidc = await startOidcProvider({
  clients: [
    {clientId: 'bcl-cli', redirectUris: ['http://127.0.0.1/callback']},
    {clientId: 'pki-toolbox', clientSecret: 'demo toolbox secret', applicationType: 'web', redirectUris: [`http://127.0.0.1:${port}/v1/auth/callback`]},
  ],
});
const server = await startPkiServer({
  postgres: pg,
  oidc,
  ports: [port],
  web: {clientId: 'pki-toolbox', clientSecret: 'demo toolbox secret'},
  extraConfig: ['admins: {emails: [ann@example.com]}', 'vpnServers:', '  - {name: Berlin office, location: "Berlin, Germany", remote: "127.0.0.1:1194", proto: tcp}', ''].join('\n'),
});
// The scripted browser: enters a device code on the provider's own pages as a test user.
const control = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method !== 'POST' || url.pathname !== '/approve-device') return void res.writeHead(404).end();
  oidc.approveDevice(url.searchParams.get('code') ?? '', url.searchParams.get('user') ?? 'ann@example.com').then(
    () => res.writeHead(204).end(),
    (error) => res.writeHead(500).end(String(error.message)),
  );
});
await new Promise((resolve) => control.listen(0, '127.0.0.1', resolve));
writeFileSync(
  join(dir, 'env'),
  [
    `PKI_SERVER_URL=${server.url}`,
    `PKI_CA_FINGERPRINT=${server.caFingerprint}`,
    `PKI_CA_CHAIN=${server.caCert}`,
    `PKI_CA_KEY=${server.caKey}`,
    `PKI_OIDC_ISSUER=${oidc.issuer}`,
    `PKI_DEMO_CONTROL=http://127.0.0.1:${control.address().port}`,
    '',
  ].join('\n'),
);
process.stderr.write(`pki-server demo services ready: ${server.url}\n`);
const stop = async () => {
  control.close();
  await server.stop();
  await oidc.stop();
  await pg.stop();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
