/**
 * The Toolbox in a real headless Chromium against the test server (which really issues with
 * @bcl/pki-ca from an openssl CA): the VPN flow to the .ovpn, checked with openssl and a real
 * openvpn handshake; the PKCS#12 with OpenSSL 3; no private key in any request; refusals in plain
 * words; "I lost this device" and the CRL; renewal; the admin pages; axe-core, keyboard only,
 * 200 % zoom and a phone's viewport; the first page's weight. Screenshots go to
 * $BCL_TOOLBOX_SCREENSHOTS (docs/pki-toolbox to refresh the committed ones), else a temp dir.
 */
import {createPrivateKey, createPublicKey, X509Certificate} from 'node:crypto';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import type {Download, Page} from 'playwright-core';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {openvpnHandshake, repoRoot, run, tempDir} from '@bcl/testkit';
import {newDeviceRequest} from '../src/web/crypto/index.js';
import {axeViolations, type Browser, launchChromium, overflowsHorizontally} from './chromium.js';
import {makeTestCa, startToolboxTestServer, type TestCa, type TestUser, type ToolboxTestServer} from './toolbox-server.js';

const alice: TestUser = {email: 'alice@example.com', name: 'Alice Example'};
const ann: TestUser = {email: 'ann@example.com', name: 'Ann Admin', admin: true};
const bob: TestUser = {email: 'bob@example.com', name: 'Bob Builder'};

describe('the PKI Toolbox in Chromium', () => {
  let ca: TestCa & {remove(): void};
  let server: ToolboxTestServer;
  let browser: Browser;
  const work = tempDir('bcl-toolbox-test-');
  const shots = process.env['BCL_TOOLBOX_SCREENSHOTS'] ? resolve(repoRoot, process.env['BCL_TOOLBOX_SCREENSHOTS']) : join(work.path, 'screenshots');
  const file = (name: string) => join(work.path, name);
  let profilePath = '';

  beforeAll(async () => {
    mkdirSync(shots, {recursive: true});
    ca = await makeTestCa();
    server = await startToolboxTestServer({
      ca,
      vpnServers: [
        {name: 'Berlin office', location: 'Berlin, Germany', host: '127.0.0.1', port: 1194, proto: 'tcp', profile: 'vpn'},
        {name: 'New York office', location: 'New York, USA', host: 'vpn-nyc.example.com', port: 443, proto: 'tcp', profile: 'vpn'},
      ],
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    ca?.remove();
    work.remove();
  });

  async function signIn(page: Page, user: TestUser, path = '/') {
    await browser.context.clearCookies();
    server.signInNext(user);
    await page.goto(`${server.url}${path}`);
    await page.getByRole('link', {name: 'Sign in with your company account'}).click();
    await page.getByRole('button', {name: 'Sign out'}).waitFor();
  }
  const shot = async (page: Page, name: string) => {
    const png = await page.screenshot({fullPage: true});
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    writeFileSync(join(shots, `${name}.png`), png);
  };
  const noViolations = async (page: Page, where: string) => expect(await axeViolations(page), where).toEqual([]);
  /** The main path speaks plainly: none of the words only PKI people know. */
  const plainWords = async (page: Page) => expect(await page.locator('body').innerText()).not.toMatch(/\b(CSR|PEM|SAN|X\.509|PKCS|CRL|OCSP)\b/i);
  const save = async (download: Download, name: string) => {
    await download.saveAs(file(name));
    return readFileSync(file(name));
  };

  it('the first page: under 200 KB transferred, served with a strict CSP, nothing from elsewhere', async () => {
    await browser.context.clearCookies();
    const page = await browser.newPage();
    const responses: {url: string; bytes: number}[] = [];
    page.on('requestfinished', async (r) => responses.push({url: r.url(), bytes: (await r.sizes()).responseBodySize + (await r.sizes()).responseHeadersSize}));
    const started = Date.now();
    const response = await page.goto(server.url);
    await page.getByRole('link', {name: 'Sign in with your company account'}).waitFor();
    const interactiveMs = Date.now() - started;
    await page.waitForLoadState('networkidle');
    const csp = response!.headers()['content-security-policy']!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const total = responses.reduce((n, r) => n + r.bytes, 0);
    expect(responses.every((r) => r.url.startsWith(server.url)), JSON.stringify(responses)).toBe(true);
    expect(total, JSON.stringify(responses)).toBeLessThan(200 * 1024);
    // The page's scripts are compressed in transit (pre-compressed at build time).
    expect(responses.find((r) => /main-.*\.js$/.test(r.url))!.bytes).toBeLessThan(25 * 1024);
    process.stderr.write(`first page: ${responses.length} requests, ${(total / 1024).toFixed(1)} KB transferred, sign-in link shown after ${interactiveMs} ms\n`);
    await noViolations(page, 'sign-in page');
    await plainWords(page);
    await shot(page, '1-sign-in');
  });

  it('a person outside the company domain, or with an unconfirmed email, sees what to do and gets nothing', async () => {
    const page = await browser.newPage();
    const before = server.inventory().length;
    await browser.context.clearCookies();
    server.signInNext({refuse: 'hd_not_allowed', message: "your account belongs to gmail.com, which is not the company's domain (example.com)."});
    await page.goto(`${server.url}/vpn`);
    await page.getByRole('link', {name: 'Sign in with your company account'}).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('That account is not a company account');
    expect(await alert.textContent()).toContain('Sign in with your work account');
    await noViolations(page, 'refused sign-in');
    await plainWords(page);
    await shot(page, '6-refused-outside-domain');
    expect(await page.getByRole('button', {name: 'Create my VPN profile'}).count()).toBe(0);

    server.signInNext({refuse: 'email_unverified', message: 'the email address carol@example.com is not verified by the identity provider.'});
    await page.goto(`${server.url}/vpn`);
    await page.getByRole('link', {name: 'Sign in with your company account'}).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Your email address is not confirmed yet');
    expect(server.inventory().length).toBe(before);
    expect(browser.sent.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('Get VPN access: choose a server, download the .ovpn; its key matches its certificate, the chain verifies, and openvpn completes the TLS handshake', async () => {
    const page = await browser.newPage();
    await signIn(page, alice);
    await noViolations(page, 'home');
    await page.getByRole('navigation', {name: 'Main'}).getByRole('link', {name: 'Get VPN access'}).click();
    await page.getByRole('radio', {name: /Berlin office/}).check();
    await page.getByLabel('Name of this device').fill('Work laptop');
    await noViolations(page, 'vpn page');
    await plainWords(page);
    await shot(page, '2-get-vpn-access');
    await page.getByRole('button', {name: 'Create my VPN profile'}).click();
    await page.getByRole('heading', {name: 'Your VPN profile is ready'}).waitFor();
    expect(await page.getByText('Install OpenVPN Connect', {exact: false}).count() + (await page.getByText('Tunnelblick', {exact: false}).count()) + (await page.getByText('Import from file', {exact: false}).count())).toBeGreaterThan(0);
    await noViolations(page, 'profile ready');
    await plainWords(page);
    await shot(page, '3-profile-ready');

    const downloading = page.waitForEvent('download');
    await page.getByRole('button', {name: /Download VPN profile/}).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe('berlin-office.ovpn');
    const profile = (await save(download, 'berlin-office.ovpn')).toString('utf8');
    profilePath = file('berlin-office.ovpn');
    expect(profile).toMatch(/^remote 127\.0\.0\.1 1194$/m);
    expect(profile).toMatch(/^proto tcp-client$/m);
    const key = /<key>\n([\s\S]+?)<\/key>/.exec(profile)![1]!;
    const cert = /<cert>\n([\s\S]+?)<\/cert>/.exec(profile)![1]!;
    const issued = new X509Certificate(cert);
    expect(issued.subject).toContain('CN=alice@example.com');
    expect(createPublicKey(createPrivateKey(key)).export({type: 'spki', format: 'der'}).equals(issued.publicKey.export({type: 'spki', format: 'der'}))).toBe(true);
    writeFileSync(file('leaf.pem'), cert);
    expect((await run('openssl', ['verify', '-CAfile', ca.certFile, '-purpose', 'sslclient', file('leaf.pem')])).stdout).toContain(': OK');
    expect(server.inventory().find((r) => r.serial === issued.serialNumber.toUpperCase())?.deviceLabel).toBe('Work laptop');

    writeFileSync(file('crl.pem'), server.crlPem());
    const logs = await openvpnHandshake({profile: profilePath, crl: file('crl.pem'), server: {ca: ca.certFile, cert: ca.server.cert, key: ca.server.key}, dir: work.path});
    expect(logs.server).toContain('VERIFY OK: depth=0, CN=alice@example.com');
    expect(logs.server).toMatch(/\[alice@example\.com\] Peer Connection Initiated/);
    expect(logs.client).toMatch(/Peer Connection Initiated/);

    // The PKCS#12, with a password the person chooses; OpenSSL 3 opens it without -legacy.
    await page.getByText('Other formats').click();
    await page.getByLabel('Password for the file').fill('short');
    await page.getByLabel('The same password again').fill('short');
    await page.getByRole('button', {name: 'Download .p12 file'}).click();
    await expect.poll(() => page.locator('.field-error').textContent()).toContain('at least 8 characters');
    const password = 'Blue-Harbour-42';
    await page.getByLabel('Password for the file').fill(password);
    await page.getByLabel('The same password again').fill(password);
    const p12Download = page.waitForEvent('download');
    await page.getByRole('button', {name: 'Download .p12 file'}).click();
    await save(await p12Download, 'alice.p12');
    const right = await run('openssl', ['pkcs12', '-info', '-noout', '-in', file('alice.p12'), '-passin', 'env:P12_PASSWORD'], {env: {...process.env, P12_PASSWORD: password}});
    expect(right.stderr).toContain('MAC: sha256');
    expect(right.stderr).toMatch(/PBES2, PBKDF2, AES-256-CBC/);
    const wrong = await run('openssl', ['pkcs12', '-info', '-noout', '-in', file('alice.p12'), '-passin', 'env:P12_PASSWORD'], {env: {...process.env, P12_PASSWORD: 'Blue-Harbour-43'}, allowFailure: true});
    expect(wrong.code).not.toBe(0);
    await noViolations(page, 'other formats');

    // The separate files.
    const keyDownload = page.waitForEvent('download');
    await page.getByRole('button', {name: 'Private key'}).click();
    expect((await save(await keyDownload, 'key.pem')).toString()).toBe(`${key.trim()}\n`);

    // Nothing the page sent carries the private key: the only body with key material is the request.
    const pkcs8 = createPrivateKey(key).export({type: 'pkcs8', format: 'der'});
    const d = (createPrivateKey(key).export({format: 'jwk'}) as {d: string}).d;
    const secrets = ['PRIVATE KEY', pkcs8.toString('base64').slice(0, 60), d, Buffer.from(d, 'base64url').toString('hex'), Buffer.from(d, 'base64url').toString('base64')];
    const bodies = browser.sent.filter((r) => r.body !== null);
    expect(bodies.length).toBeGreaterThan(0);
    for (const r of bodies) for (const s of secrets) expect(r.body, `${r.method} ${r.url}`).not.toContain(s);
    for (const r of server.bodies) for (const s of secrets) expect(r.body, `${r.method} ${r.url}`).not.toContain(s);
    const issues = bodies.filter((r) => r.url.endsWith('/v1/requests'));
    expect(issues).toHaveLength(1);
    expect(Object.keys(JSON.parse(issues[0]!.body!)).sort()).toEqual(['csr', 'deviceLabel', 'profile']);
    expect(browser.problems).toEqual([]);
  });

  it('My certificates: expiry in days, a renew button before that, and "I lost this device" revokes: the CRL lists it and openvpn refuses the profile', async () => {
    // A certificate made 80 days ago on another laptop, with its profile on disk, for the renewal.
    const old = await newDeviceRequest(alice.email);
    const row = await server.seedCertificate({user: alice, profile: 'vpn', deviceLabel: 'Old laptop', issuedDaysAgo: 80, csr: old.request});
    const oldProfile = await old.device.vpnProfile({name: 'Berlin office', location: null, host: '127.0.0.1', port: 1194, proto: 'tcp', profile: 'vpn'}, {...row, chainPem: ca.certPem, sha256Fingerprint: ''});
    writeFileSync(file('old-laptop.ovpn'), oldProfile);

    const page = await browser.newPage();
    await signIn(page, alice, '/certificates');
    const oldCard = page.getByRole('listitem').filter({has: page.getByRole('heading', {name: 'Old laptop'})});
    const newCard = page.getByRole('listitem').filter({has: page.getByRole('heading', {name: 'Work laptop'})});
    await expect.poll(() => oldCard.textContent()).toMatch(/Expires in (9|10) days/);
    expect(await newCard.textContent()).toMatch(/Expires in (89|90) days/);
    expect(await newCard.textContent()).toContain('VPN access');
    expect(await oldCard.getByRole('button', {name: /Renew/}).count()).toBe(1);
    expect(await newCard.getByRole('button', {name: /Renew/}).count()).toBe(0);
    await noViolations(page, 'my certificates');
    await plainWords(page);
    await shot(page, '4-my-certificates');

    // Renewal: the old profile's key proves possession; a new profile for the same server comes back.
    await oldCard.getByRole('button', {name: /Renew/}).click();
    const dialog = page.getByRole('dialog', {name: "Renew this device's access"});
    await dialog.getByLabel('VPN file for this device').setInputFiles(file('old-laptop.ovpn'));
    const renewed = page.waitForEvent('download');
    await dialog.getByRole('button', {name: 'Renew'}).click();
    const renewedProfile = (await save(await renewed, 'renewed.ovpn')).toString();
    expect(renewedProfile).toMatch(/^remote 127\.0\.0\.1 1194$/m);
    const renewedCert = new X509Certificate(/<cert>\n([\s\S]+?)<\/cert>/.exec(renewedProfile)![1]!);
    const oldRow = server.inventory().find((r) => r.serial === row.serial)!;
    expect(oldRow.status).toBe('revoked');
    expect(oldRow.supersededBy).toBe(renewedCert.serialNumber.toUpperCase());
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Renewed');
    // The renewal sent no key either.
    const renewBody = browser.sent.find((r) => r.url.endsWith(`/v1/certificates/${row.serial}/renew`))!;
    expect(Object.keys(JSON.parse(renewBody.body!)).sort()).toEqual(['csr', 'deviceLabel', 'signature']);
    expect(renewBody.body).not.toContain('PRIVATE KEY');

    // "I lost this device" for the laptop of the VPN flow.
    await newCard.getByRole('button', {name: /I lost this device/}).click();
    const confirm = page.getByRole('dialog', {name: "Stop this device's access?"});
    expect(await confirm.textContent()).toContain('can no longer connect to the VPN');
    expect(await confirm.textContent()).toContain('Your other devices keep working');
    await noViolations(page, 'lost device dialog');
    await shot(page, '5-lost-device');
    await confirm.getByRole('button', {name: 'Yes, stop it now'}).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('no longer works');
    expect(await newCard.textContent()).toContain('Stopped working on');

    const lostSerial = new X509Certificate(/<cert>\n([\s\S]+?)<\/cert>/.exec(readFileSync(profilePath, 'utf8'))![1]!).serialNumber.toUpperCase();
    writeFileSync(file('crl-after.pem'), server.crlPem());
    const crlText = (await run('openssl', ['crl', '-in', file('crl-after.pem'), '-CAfile', ca.certFile, '-noout', '-text'])).stdout;
    expect(crlText).toContain(`Serial Number: ${lostSerial}`);
    expect(crlText).toContain('Key Compromise');
    const logs = await openvpnHandshake({profile: profilePath, crl: file('crl-after.pem'), server: {ca: ca.certFile, cert: ca.server.cert, key: ca.server.key}, dir: work.path});
    expect(logs.server).not.toMatch(/\[alice@example\.com\] Peer Connection Initiated/);
    expect(logs.server).toMatch(/CRL CHECK FAILED|certificate revoked/i);
  });

  it('the admin pages: search the inventory, revoke with a reason, approve a waiting request, revocation status, audit trail', async () => {
    const waiting = await newDeviceRequest(bob.email);
    const pending = server.seedPendingRequest({user: bob, profile: 'server', dns: ['build.example.com'], csr: waiting.request});
    const bobs = await newDeviceRequest(bob.email);
    const bobCert = await server.seedCertificate({user: bob, profile: 'vpn', deviceLabel: 'Bob\'s Mac', issuedDaysAgo: 3, csr: bobs.request});

    const page = await browser.newPage();
    await signIn(page, ann, '/admin');
    await page.getByLabel('Search by email, name, device or serial').fill('bob@');
    await expect.poll(() => page.getByRole('status').first().textContent()).toMatch(/^1 of \d+ certificates$/);
    await noViolations(page, 'admin inventory');
    await shot(page, '7-admin-inventory');
    await page.getByRole('button', {name: `Revoke ${bobCert.serial}`}).click();
    const dialog = page.getByRole('dialog', {name: 'Revoke this certificate?'});
    await dialog.getByLabel('Reason').selectOption('affiliationChanged');
    await dialog.getByRole('button', {name: 'Revoke'}).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain(`Revoked ${bobCert.serial}`);
    expect(server.inventory().find((r) => r.serial === bobCert.serial)).toMatchObject({status: 'revoked', reason: 'affiliationChanged'});

    await page.getByRole('navigation', {name: 'Administration'}).getByRole('link', {name: 'Waiting requests'}).click();
    const card = page.getByRole('listitem').filter({hasText: 'dns:build.example.com'});
    await card.waitFor();
    await noViolations(page, 'admin requests');
    await shot(page, '8-admin-requests');
    await card.getByRole('button', {name: /Approve/}).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Approved: bob@example.com');
    expect(server.inventory().some((r) => r.requestId === pending.id && r.approvedBy === ann.email)).toBe(true);

    await page.getByRole('navigation', {name: 'Administration'}).getByRole('link', {name: 'Revocation status'}).click();
    await page.getByRole('heading', {name: 'Revocation list (CRL)'}).waitFor();
    const crlCard = await page.locator('.card').first().textContent();
    expect(crlCard).toMatch(/Revoked certificates\d+/);
    await noViolations(page, 'admin status');
    await shot(page, '9-admin-status');

    await page.getByRole('navigation', {name: 'Administration'}).getByRole('link', {name: 'Audit trail'}).click();
    await expect.poll(() => page.locator('.audit-entry').count()).toBeGreaterThan(3);
    expect(await page.locator('.audit').textContent()).toContain('request_approved');
    await noViolations(page, 'admin audit');
    await shot(page, '10-admin-audit');

    // A person who is not an admin sees no administration.
    await signIn(page, alice, '/admin');
    expect(await page.getByRole('link', {name: 'Administration'}).count()).toBe(0);
  });

  it('a sign-in that ends under the page brings the sign-in back, and the person goes on where they were', async () => {
    const page = await browser.newPage();
    await signIn(page, alice, '/vpn');
    await page.getByRole('radio', {name: /Berlin office/}).check();
    const before = server.inventory().length;
    server.endSessions();
    await page.getByRole('button', {name: 'Create my VPN profile'}).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Your sign-in has ended');
    expect(server.inventory().length).toBe(before);
    server.signInNext(alice);
    await page.getByRole('link', {name: 'Sign in with your company account'}).click();
    await page.getByRole('button', {name: 'Create my VPN profile'}).waitFor();
    expect(new URL(page.url()).pathname).toBe('/vpn');
  });

  it('keyboard only: sign in, get a VPN profile and download it without a mouse', async () => {
    const page = await browser.newPage();
    await browser.context.clearCookies();
    server.signInNext(alice);
    await page.goto(server.url);
    const press = async (key: string, times = 1) => {
      for (let i = 0; i < times; i++) await page.keyboard.press(key);
    };
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement;
        return !el || el === document.body ? 'BODY' : `${el.tagName} ${el.textContent?.trim() ?? ''} ${(el as HTMLInputElement).id ?? ''}`;
      });
    const tabTo = async (pattern: RegExp) => {
      for (let i = 0; i < 30; i++) {
        await press('Tab');
        if (pattern.test(await focused())) return;
      }
      throw new Error(`Tab never reached ${pattern} (last: ${await focused()})`);
    };
    await tabTo(/Sign in with your company account/);
    // The focus is visible where it is.
    await expect.poll(() => page.evaluate(() => `${document.activeElement!.matches(':focus-visible')} ${getComputedStyle(document.activeElement!).outlineStyle}`)).toBe('true solid');
    await press('Enter');
    await page.getByRole('button', {name: 'Sign out'}).waitFor();
    await tabTo(/^A Get VPN access/);
    await press('Enter');
    await page.getByRole('radio', {name: /Berlin office/}).waitFor();
    await tabTo(/INPUT.*server-/);
    await press('Space');
    await press('ArrowDown');
    expect(await page.getByRole('radio', {name: /New York office/}).isChecked()).toBe(true);
    await tabTo(/device-label/);
    // Tabbing into the field selects its text: typing replaces it.
    await page.keyboard.type('Keyboard laptop');
    expect(await page.getByLabel('Name of this device').inputValue()).toBe('Keyboard laptop');
    await tabTo(/Create my VPN profile/);
    await press('Enter');
    await page.getByRole('heading', {name: 'Your VPN profile is ready'}).waitFor();
    const downloading = page.waitForEvent('download');
    await tabTo(/Download VPN profile/);
    await press('Enter');
    expect((await downloading).suggestedFilename()).toBe('new-york-office.ovpn');
    // The confirmation dialog is reached, used and left with the keyboard too (Escape cancels).
    await page.goto(`${server.url}/certificates`);
    await tabTo(/I lost this device/);
    await press('Enter');
    await expect.poll(focused).toMatch(/Yes, stop it now/);
    await press('Escape');
    expect(await page.getByRole('dialog').count()).toBe(0);
  });

  it('readable at 200 % zoom and on a 375x667 phone: no page scrolls sideways', async () => {
    const page = await browser.newPage();
    await signIn(page, ann);
    const paths = ['/', '/vpn', '/certificates', '/admin', '/admin/requests', '/admin/status', '/admin/audit'];
    // 200 % zoom of a 1280x800 window is a 640x400 CSS-pixel viewport.
    for (const viewport of [{width: 640, height: 400}, {width: 375, height: 667}]) {
      await page.setViewportSize(viewport);
      for (const path of paths) {
        await page.goto(`${server.url}${path}`);
        await page.locator('main h1').waitFor();
        await page.waitForLoadState('networkidle');
        const o = await overflowsHorizontally(page);
        expect(o.scrollWidth, `${path} at ${viewport.width}px: ${o.widest}`).toBeLessThanOrEqual(o.clientWidth);
      }
    }
    await signIn(page, alice, '/certificates');
    await page.locator('.card').first().waitFor();
    await shot(page, '11-phone-my-certificates');
    await browser.context.clearCookies();
    await page.goto(server.url);
    await page.getByRole('link', {name: 'Sign in with your company account'}).waitFor();
    expect((await overflowsHorizontally(page)).scrollWidth).toBeLessThanOrEqual(375);
    await page.setViewportSize({width: 1280, height: 800});
    expect(browser.problems).toEqual([]);
  });
});
