import {type ChildProcess, spawn} from 'node:child_process';
import {readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {freePort, waitFor} from '@bcl/testkit';
import {git, issue, type Person, type Pki, setupPki} from './support.js';

/** A real OpenVPN (Debian's openvpn) server on loopback TCP, with --dev null: no tun device needed. */
function openvpn(args: string[]): {proc: ChildProcess; log: () => string; stop: () => Promise<void>} {
  let log = '';
  const proc = spawn('openvpn', args, {stdio: ['ignore', 'pipe', 'pipe']});
  proc.stdout!.on('data', (d) => (log += d));
  proc.stderr!.on('data', (d) => (log += d));
  return {
    proc,
    log: () => log,
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 3000).unref();
      }),
  };
}

describe('pkictl vpn-config with a real OpenVPN', () => {
  let pki: Pki;
  let bob: Person;
  let server: {certPath: string; keyPath: string; chainPath: string};
  let client: {serial: string};
  const running: {stop: () => Promise<void>}[] = [];

  beforeAll(async () => {
    pki = await setupPki();
    const vpnHost = pki.person('vpn-gateway@example.com');
    server = await issue(pki, vpnHost, ['--profile', 'server', '--dns', 'localhost', '--ip', '127.0.0.1']);
    bob = pki.person('bob@example.com');
    client = await issue(pki, bob, ['--profile', 'vpn']);
  });
  afterAll(async () => {
    await Promise.all(running.map((r) => r.stop()));
    pki?.remove();
  });

  async function handshake(profile: string, crlFile: string): Promise<{server: string; client: string}> {
    const port = await freePort();
    const srv = openvpn([
      '--dev', 'null', '--proto', 'tcp-server', '--local', '127.0.0.1', '--lport', String(port),
      '--tls-server', '--dh', 'none', '--ca', server.chainPath, '--cert', server.certPath, '--key', server.keyPath,
      '--remote-cert-tls', 'client', '--crl-verify', crlFile, '--verb', '3',
    ]);
    running.push(srv);
    await waitFor('openvpn server listening', () => /Listening for incoming TCP connection/.test(srv.log()), {timeoutMs: 20_000});
    const profileText = readFileSync(profile, 'utf8').replace(/^remote .*$/m, `remote 127.0.0.1 ${port}`);
    const local = join(pki.dir, `local-${port}.ovpn`);
    writeFileSync(local, profileText, {mode: 0o600});
    const cli = openvpn(['--config', local, '--dev', 'null', '--verb', '3', '--connect-retry-max', '1']);
    running.push(cli);
    await waitFor(
      'the TLS handshake to finish or fail',
      () => /Peer Connection Initiated/.test(srv.log()) && /Peer Connection Initiated/.test(cli.log()) || /TLS Error|VERIFY ERROR|CRL CHECK FAILED|certificate revoked|Fatal TLS error/i.test(srv.log() + cli.log()),
      {timeoutMs: 30_000},
    ).catch(() => undefined);
    await Promise.all([cli.stop(), srv.stop()]);
    return {server: srv.log(), client: cli.log()};
  }

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
