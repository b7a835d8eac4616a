import {readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {openvpnHandshake} from '@bcl/testkit';
import {git, issue, type Person, type Pki, setupPki} from './support.js';

describe('pkictl vpn-config with a real OpenVPN', () => {
  let pki: Pki;
  let bob: Person;
  let server: {certPath: string; keyPath: string; chainPath: string};
  let client: {serial: string};

  beforeAll(async () => {
    pki = await setupPki();
    const vpnHost = pki.person('vpn-gateway@example.com');
    server = await issue(pki, vpnHost, ['--profile', 'server', '--dns', 'localhost', '--ip', '127.0.0.1']);
    bob = pki.person('bob@example.com');
    client = await issue(pki, bob, ['--profile', 'vpn']);
  });
  afterAll(async () => {
    pki?.remove();
  });

  const handshake = (profile: string, crlFile: string) => openvpnHandshake({profile, crl: crlFile, server: {ca: server.chainPath, cert: server.certPath, key: server.keyPath}, dir: pki.dir});

  it('the generated profile (CA, certificate and key inline) completes a TLS handshake with the issued certificates', async () => {
    const profile = join(bob.home.home, 'bob.ovpn');
    const res = await bob.pk(['vpn-config', '--remote', '127.0.0.1:1194', '--proto', 'tcp', '--out', profile]);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.json().result).toMatchObject({serial: client.serial, proto: 'tcp', port: 1194});
    expect(statSync(profile).mode & 0o777).toBe(0o600);
    const text = readFileSync(profile, 'utf8');
    expect(text).toMatch(/<ca>\n-----BEGIN CERTIFICATE-----[\s\S]+<\/ca>\n<cert>[\s\S]+<\/cert>\n<key>\n-----BEGIN PRIVATE KEY-----[\s\S]+<\/key>/);
    expect(text).toContain('remote-cert-tls server');

    const crlFile = join(pki.dir, 'crl.pem');
    writeFileSync(crlFile, git(['show', 'main:crl/crl.pem'], pki.store));
    const logs = await handshake(profile, crlFile);
    expect(logs.server).toContain('VERIFY OK: depth=0, CN=bob@example.com');
    expect(logs.server).toMatch(/\[bob@example\.com\] Peer Connection Initiated/);
    // A server certificate is named after its first DNS name, not after whoever requested it.
    expect(logs.client).toContain('VERIFY OK: depth=0, CN=localhost');
    expect(logs.client).toMatch(/Peer Connection Initiated/);
  });

  it('once revoked and the CRL published, the server refuses the same profile', async () => {
    const profile = join(bob.home.home, 'bob.ovpn');
    expect((await pki.admin.pk(['revoke', client.serial, '--reason', 'keyCompromise', ...pki.adminFlags])).exitCode).toBe(0);
    const crlFile = join(pki.dir, 'crl-revoked.pem');
    expect((await bob.pk(['crl', '--out', crlFile])).exitCode).toBe(0);
    const logs = await handshake(profile, crlFile);
    expect(logs.server).not.toMatch(/\[bob@example\.com\] Peer Connection Initiated/);
    expect(logs.server).toMatch(/CRL CHECK FAILED|certificate revoked/i);
  });

  it('vpn-config refuses when there is no usable certificate', async () => {
    const res = await bob.pk(['vpn-config', '--remote', 'vpn.example.com', '--out', join(bob.home.home, 'x.ovpn'), '--email', 'nobody@example.com']);
    expect(res.exitCode).toBe(3);
    expect(res.json().error?.message).toContain('no valid vpn or client certificate');
    const bad = await bob.pk(['vpn-config', '--remote', 'vpn.example.com:99999', '--out', join(bob.home.home, 'x.ovpn')]);
    expect(bad.exitCode).toBe(3);
    expect(bad.json().error?.message).toContain('--remote');
  });
});
