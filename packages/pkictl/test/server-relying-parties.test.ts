// The PKI server's certificates at the services that trust them: a real OpenVPN server with
// --crl-verify (the server's CRL) lets the valid profile in and refuses it once revoked, and
// cssh-authz issues SSH certificates for them exactly as it does for the Git store's.
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createOpensslPki, type CsshAuthz, type OidcProvider, openvpnHandshake, type OpensslPki, type PkiServer, type PostgresServer, runCli, startCsshAuthz, startOidcProvider, startPkiServer, startPostgres, tempDir, waitFor} from '@bcl/testkit';
import {ok, type ServerUser, serverUser} from './server-support.js';

let pg: PostgresServer;
let oidc: OidcProvider;
let server: PkiServer;
let dir: {path: string; remove(): void};
let ann: ServerUser;
let gateway: ServerUser;
let admin: ServerUser;

const crlTo = async (file: string) => writeFileSync(file, await (await fetch(`${server.url}/crl.pem`)).text());

beforeAll(async () => {
  dir = tempDir('pkictl-relying-');
  pg = await startPostgres();
  oidc = await startOidcProvider({
    users: [
      {sub: '100000000000000000001', email: 'ann@example.com', hd: 'example.com', name: 'Ann'},
      {sub: '100000000000000000007', email: 'vpn-gateway@example.com', hd: 'example.com', name: 'VPN gateway operator'},
      {sub: '100000000000000000009', email: 'pki-admin@example.com', hd: 'example.com', name: 'PKI Admin'},
    ],
  });
  server = await startPkiServer({postgres: pg, oidc, extraConfig: 'admins: {emails: [pki-admin@example.com]}\n'});
  ann = serverUser(server, oidc, 'ann@example.com');
  gateway = serverUser(server, oidc, 'vpn-gateway@example.com');
  admin = serverUser(server, oidc, 'pki-admin@example.com');
  for (const u of [ann, gateway, admin]) expect((await u.loginDevice()).exitCode).toBe(0);
}, 300_000);

afterAll(async () => {
  for (const u of [ann, gateway, admin]) u?.home.remove();
  await server?.stop();
  await oidc?.stop();
  await pg?.stop();
  dir?.remove();
});

describe('a real OpenVPN server with --crl-verify', () => {
  it('the server-issued profile connects; once revoked, the same profile is refused', async () => {
    const pending = await ok(gateway.pk(['request', '--profile', 'server', '--dns', 'localhost', '--ip', '127.0.0.1']));
    await ok(admin.pk(['approve', pending.id]));
    const gw = await ok(gateway.pk(['fetch', pending.id]));
    const vpn = await ok(ann.pk(['request', '--profile', 'vpn']));
    expect(vpn.status).toBe('issued');
    const profile = join(ann.home.home, 'ann.ovpn');
    await ok(ann.pk(['vpn-config', '--remote', '127.0.0.1:1194', '--proto', 'tcp', '--out', profile]));
    const crl = join(dir.path, 'crl.pem');
    await crlTo(crl);
    const openvpnServer = {ca: gw.chainPath, cert: gw.certPath, key: gw.keyPath};
    const good = await openvpnHandshake({profile, crl, server: openvpnServer, dir: dir.path});
    expect(good.server).toContain('VERIFY OK: depth=0, CN=ann@example.com');
    expect(good.server).toMatch(/\[ann@example\.com\] Peer Connection Initiated/);
    expect(good.client).toContain('VERIFY OK: depth=0, CN=localhost');

    // "I lost this device": the owner revokes; the gateway's CRL refresh refuses the profile.
    await ok(ann.pk(['revoke', vpn.serial, '--reason', 'keyCompromise']));
    await crlTo(crl);
    const refused = await openvpnHandshake({profile, crl, server: openvpnServer, dir: dir.path});
    expect(refused.server).not.toMatch(/\[ann@example\.com\] Peer Connection Initiated/);
    expect(refused.server).toMatch(/CRL CHECK FAILED|certificate revoked/i);
  });
});

describe('cssh-authz', () => {
  let webPki: OpensslPki;
  let authz: CsshAuthz;
  afterAll(async () => {
    await authz?.stop();
    webPki?.remove();
  });

  it('accepts the server\'s client certificates as it does the store\'s, and refuses them once revoked', async () => {
    const cert = await ok(ann.pk(['request']));
    expect(cert.status).toBe('issued');
    webPki = await createOpensslPki('Example Corp web CA');
    const crl = join(dir.path, 'authz-crl.pem');
    await crlTo(crl);
    authz = await startCsshAuthz({
      pki: webPki,
      clientCa: server.caCert,
      crl,
      rules: 'groups:\n  sre: [ann@example.com]\nhostGroups:\n  local: [127.0.0.1]\ngrants:\n  - {group: sre, hosts: local, principals: [ops]}\n',
    });
    const env = {...ann.home.env};
    writeFileSync(join(ann.home.xdg.config, 'bcl', 'config.yaml'), `pkictl:\n  server: ${server.url}\n  caFingerprint: ${server.caFingerprint}\ncsshctl:\n  server: ${authz.url}\n  serverCa: ${authz.serverCa}\n`);
    const issued = await runCli('csshctl', ['cert', '--principal', 'ops', '--json'], {env});
    expect(issued.exitCode, issued.stderr).toBe(0);
    expect(authz.audit().find((a) => a.event === 'certificate.issued')).toMatchObject({email: 'ann@example.com', x509Serial: cert.serial});

    await ok(ann.pk(['revoke', cert.serial, '--reason', 'keyCompromise']));
    await crlTo(crl);
    const refused = await waitFor('cssh-authz to load the new CRL', async () => {
      const r = await runCli('csshctl', ['cert', '--principal', 'ops'], {env});
      return r.exitCode === 4 ? r : undefined;
    }, {timeoutMs: 20_000, intervalMs: 500});
    expect(refused.stderr).toContain('the client certificate is revoked (PKI CRL)');
  });
});
