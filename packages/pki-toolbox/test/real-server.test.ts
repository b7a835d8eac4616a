/**
 * The Toolbox as the real PKI server serves it (bin/pki-server on a real PostgreSQL), signed in
 * through the real OIDC provider's own pages (panva's oidc-provider with Google-like claims) in a
 * real headless Chromium: the whole VPN flow to a working openvpn handshake, the refusals of a
 * consumer account and an unverified email, renewal and "I lost this device" against the server's
 * own checks and CRL, and the admin pages on the server's admin API.
 */
import {createPrivateKey, createPublicKey, X509Certificate} from 'node:crypto';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import type {Page} from 'playwright-core';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {freePort, type OidcProvider, openvpnHandshake, type PkiServer, type PostgresServer, run, startOidcProvider, startPkiServer, startPostgres, tempDir} from '@bcl/testkit';
import {newDeviceRequest} from '../src/web/crypto/index.js';
import {axeViolations, type Browser, launchChromium} from './chromium.js';
import {vpnServerCertificate} from './toolbox-server.js';

describe('the Toolbox on the real PKI server', () => {
  let pg: PostgresServer;
  let oidc: OidcProvider;
  let server: PkiServer;
  let browser: Browser;
  let vpn: {cert: string; key: string};
  const work = tempDir('bcl-toolbox-real-');
  const file = (name: string) => join(work.path, name);
  let profilePath = '';

  beforeAll(async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    pg = await startPostgres();
    oidc = await startOidcProvider({
      users: [
        {sub: '100000000000000000001', email: 'ann@example.com', hd: 'example.com', name: 'Ann Example'},
        {sub: '100000000000000000002', email: 'bob@example.com', hd: 'example.com', name: 'Bob Example'},
        {sub: '100000000000000000003', email: 'mallory@gmail.com', name: 'Mallory (consumer account)'},
        {sub: '100000000000000000004', email: 'carl@example.com', hd: 'example.com', emailVerified: false, name: 'Carl (unverified)'},
      ],
      clients: [{clientId: 'bcl-cli'}, {clientId: 'pki-toolbox', clientSecret: 'toolbox secret', applicationType: 'web', redirectUris: [`${base}/v1/auth/callback`]}],
    });
    server = await startPkiServer({
      postgres: pg,
      oidc,
      ports: [port],
      web: {clientId: 'pki-toolbox', clientSecret: 'toolbox secret'},
      extraConfig: ['admins: {emails: [ann@example.com]}', 'vpnServers:', '  - {name: Berlin office, location: "Berlin, Germany", remote: "127.0.0.1:1194", proto: tcp}', '  - {name: New York office, location: "New York, USA", remote: "vpn-nyc.example.com:443", proto: tcp}'].join('\n'),
    });
    vpn = await vpnServerCertificate(work.path, server.caCert, server.caKey);
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await oidc?.stop();
    await pg?.stop();
    work.remove();
  });

  /** Signs in on the Toolbox through the provider's account chooser, as a person clicks it. */
  async function signIn(page: Page, account: RegExp, path = '/') {
    await browser.context.clearCookies();
    await page.goto(`${server.url}${path}`);
    await page.getByRole('link', {name: 'Sign in with your company account'}).click();
    await page.getByRole('button', {name: account}).click();
  }
  const crlNow = async (name: string) => {
    writeFileSync(file(name), await (await fetch(`${server.url}/crl.pem`)).text());
    return file(name);
  };
  const count = async (where: string) => Number((await server.sql(`select count(*) from certificates where ${where}`)).trim().split('\n').find((l) => /^\d+$/.test(l.trim())));

  it('a consumer account and an unverified email see what to do and get nothing', async () => {
    const page = await browser.newPage();
    await signIn(page, /mallory@gmail\.com/, '/vpn');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('That account is not a company account');
    expect(await page.getByRole('alert').textContent()).toContain('Sign in with your work account');
    expect(await page.getByRole('button', {name: 'Create my VPN profile'}).count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    await signIn(page, /carl@example\.com/, '/vpn');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Your email address is not confirmed yet');
    expect(await count("email in ('mallory@gmail.com', 'carl@example.com')")).toBe(0);
    expect(browser.sent.filter((r) => r.method === 'POST' && r.url.startsWith(server.url))).toEqual([]);
  });

  it('sign in with the company account, choose a server, download: the profile connects to a real openvpn server', async () => {
    const page = await browser.newPage();
    await signIn(page, /bob@example\.com/);
    await page.getByRole('button', {name: 'Sign out'}).waitFor();
    await page.getByRole('navigation', {name: 'Main'}).getByRole('link', {name: 'Get VPN access'}).click();
    await page.getByRole('radio', {name: /Berlin office/}).check();
    await page.getByLabel('Name of this device').fill('Bob laptop');
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('button', {name: 'Create my VPN profile'}).click();
    await page.getByRole('heading', {name: 'Your VPN profile is ready'}).waitFor();
    const downloading = page.waitForEvent('download');
    await page.getByRole('button', {name: /Download VPN profile/}).click();
    profilePath = file('berlin-office.ovpn');
    await (await downloading).saveAs(profilePath);
    const profile = readFileSync(profilePath, 'utf8');
    const key = /<key>\n([\s\S]+?)<\/key>/.exec(profile)![1]!;
    const cert = new X509Certificate(/<cert>\n([\s\S]+?)<\/cert>/.exec(profile)![1]!);
    // The names come from the verified identity: the email and iss#sub, whatever the request said.
    expect(cert.subject).toBe('CN=bob@example.com');
    expect(cert.subjectAltName).toContain('email:bob@example.com');
    expect(cert.subjectAltName).toContain(`${oidc.issuer}#100000000000000000002`);
    expect(createPublicKey(createPrivateKey(key)).export({type: 'spki', format: 'der'}).equals(cert.publicKey.export({type: 'spki', format: 'der'}))).toBe(true);
    writeFileSync(file('bob.pem'), cert.toString());
    expect((await run('openssl', ['verify', '-CAfile', server.caCert, '-purpose', 'sslclient', file('bob.pem')])).stdout).toContain(': OK');
    expect(await count(`email = 'bob@example.com' and device_label = 'Bob laptop'`)).toBe(1);

    const logs = await openvpnHandshake({profile: profilePath, crl: await crlNow('crl.pem'), server: {ca: server.caCert, cert: vpn.cert, key: vpn.key}, dir: work.path});
    expect(logs.server).toContain('VERIFY OK: depth=0, CN=bob@example.com');
    expect(logs.server).toMatch(/\[bob@example\.com\] Peer Connection Initiated/);
    expect(logs.client).toMatch(/Peer Connection Initiated/);

    // Nothing the page sent carries the key.
    const d = (createPrivateKey(key).export({format: 'jwk'}) as {d: string}).d;
    for (const r of browser.sent.filter((x) => x.body !== null)) {
      for (const secret of ['PRIVATE KEY', d, Buffer.from(d, 'base64url').toString('hex'), Buffer.from(d, 'base64url').toString('base64')]) expect(r.body, r.url).not.toContain(secret);
    }
  });

  it('renewal near the end proves the old key to the server; "I lost this device" revokes: the CRL lists it and openvpn refuses the profile', async () => {
    const page = await browser.newPage();
    // 80 days on, in the browser: the certificate is in its last 30 days and can be renewed.
    await page.clock.install({time: new Date(Date.now() + 80 * 86_400_000)});
    await signIn(page, /bob@example\.com/, '/certificates');
    const card = page.getByRole('listitem').filter({has: page.getByRole('heading', {name: 'Bob laptop'})});
    await expect.poll(() => card.textContent()).toMatch(/Expires in (9|10) days/);
    await card.getByRole('button', {name: /Renew/}).click();
    const dialog = page.getByRole('dialog', {name: "Renew this device's access"});
    await dialog.getByLabel('VPN file for this device').setInputFiles(profilePath);
    const renewed = page.waitForEvent('download');
    await dialog.getByRole('button', {name: 'Renew'}).click();
    const renewedPath = file('renewed.ovpn');
    await (await renewed).saveAs(renewedPath);
    const oldSerial = new X509Certificate(/<cert>\n([\s\S]+?)<\/cert>/.exec(readFileSync(profilePath, 'utf8'))![1]!).serialNumber.toUpperCase();
    const newSerial = new X509Certificate(/<cert>\n([\s\S]+?)<\/cert>/.exec(readFileSync(renewedPath, 'utf8'))![1]!).serialNumber.toUpperCase();
    expect(newSerial).not.toBe(oldSerial);
    expect(await count(`serial = '${oldSerial}' and status = 'revoked' and reason = 'superseded'`)).toBe(1);
    await page.clock.setSystemTime(new Date());

    // The renewed profile's device is lost.
    await page.reload();
    const current = page.getByRole('listitem').filter({has: page.getByRole('heading', {name: 'Bob laptop'})}).filter({hasText: 'Expires in'});
    await current.getByRole('button', {name: /I lost this device/}).click();
    const confirm = page.getByRole('dialog', {name: "Stop this device's access?"});
    expect(await confirm.textContent()).toContain('can no longer connect to the VPN');
    expect(await axeViolations(page)).toEqual([]);
    await confirm.getByRole('button', {name: 'Yes, stop it now'}).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('no longer works');
    const crl = await crlNow('crl-after.pem');
    const crlText = (await run('openssl', ['crl', '-in', crl, '-CAfile', server.caCert, '-noout', '-text'])).stdout;
    expect(crlText).toContain(`Serial Number: ${newSerial}`);
    expect(crlText).toContain('Key Compromise');
    const logs = await openvpnHandshake({profile: renewedPath, crl, server: {ca: server.caCert, cert: vpn.cert, key: vpn.key}, dir: work.path});
    expect(logs.server).not.toMatch(/\[bob@example\.com\] Peer Connection Initiated/);
    expect(logs.server).toMatch(/CRL CHECK FAILED|certificate revoked/i);
  });

  it('the admin pages on the server: a waiting request approved, the inventory, CRL and OCSP status, the audit trail', async () => {
    const page = await browser.newPage();
    // Bob asks for a server certificate (a privileged profile: it waits for an admin).
    await signIn(page, /bob@example\.com/);
    await page.getByRole('button', {name: 'Sign out'}).waitFor();
    const {request} = await newDeviceRequest('bob@example.com');
    const status = await page.evaluate(async (csr) => {
      const session = (await (await fetch('/v1/session')).json()) as {csrfToken: string};
      const r = await fetch('/v1/requests', {method: 'POST', headers: {'content-type': 'application/json', 'x-csrf-token': session.csrfToken}, body: JSON.stringify({csr, profile: 'server', dns: ['build.example.com']})});
      return r.status;
    }, request);
    expect(status).toBe(202);

    await signIn(page, /ann@example\.com/, '/admin/requests');
    const card = page.getByRole('listitem').filter({hasText: 'dns:build.example.com'});
    await card.waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await card.getByRole('button', {name: /Approve/}).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Approved: bob@example.com');
    expect(await count(`email = 'bob@example.com' and profile = 'server' and approved_by = 'ann@example.com'`)).toBe(1);

    await page.getByRole('navigation', {name: 'Administration'}).getByRole('link', {name: 'Certificates'}).click();
    await page.getByLabel('Search by email, name, device or serial').fill('bob@');
    await expect.poll(() => page.getByRole('status').first().textContent()).toMatch(/^[1-9]\d* of \d+ certificates$/);
    await page.getByRole('navigation', {name: 'Administration'}).getByRole('link', {name: 'Revocation status'}).click();
    await page.getByRole('heading', {name: 'Online status (OCSP)'}).waitFor();
    expect(await page.locator('.status-grid').textContent()).toMatch(/Responder certificate[0-9A-F]+/);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('navigation', {name: 'Administration'}).getByRole('link', {name: 'Audit trail'}).click();
    await expect.poll(() => page.locator('.audit-entry').count()).toBeGreaterThan(3);
    expect(await axeViolations(page)).toEqual([]);
    // The Toolbox's pages logged nothing (the identity provider's pages are not ours: its favicon is a 404).
    expect(browser.problems.filter((p) => p.startsWith(server.url))).toEqual([]);
  });
});
