/**
 * The Toolbox in a real headless Chromium, as the real PKI server serves it (bin/pki-server on a
 * real PostgreSQL) with sign-in on the real OIDC provider's own page: the first page's weight and
 * policy; refusals in plain words; the VPN flow to the .ovpn, checked with openssl and a real
 * openvpn handshake; the PKCS#12 with OpenSSL 3; no private key in any request; renewal and "I
 * lost this device" against the server's own checks and CRL; the admin pages; a session that ends;
 * axe-core, keyboard only, 200 % zoom and a phone's viewport. Screenshots go to
 * $BCL_TOOLBOX_SCREENSHOTS (docs/pki-toolbox to refresh the committed ones), else a temp dir.
 */
import {createPrivateKey, createPublicKey, X509Certificate} from 'node:crypto';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import type {Download, Page} from 'playwright-core';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {openvpnHandshake, repoRoot, run} from '@bcl/testkit';
import {newDeviceRequest} from '../src/web/crypto/index.js';
import {axeViolations, type Browser, launchChromium, overflowsHorizontally} from './chromium.js';
import {startToolboxOnPkiServer, type ToolboxOnPkiServer} from './toolbox-on-pki-server.js';

const DAY = 86_400_000;
const certOf = (profile: string) => new X509Certificate(/<cert>\n([\s\S]+?)<\/cert>/.exec(profile)![1]!);

describe('the PKI Toolbox in Chromium, served by the PKI server', () => {
  let t: ToolboxOnPkiServer;
  let browser: Browser;
  let shots = '';
  let profilePath = '';
  const file = (name: string) => join(t.dir, name);

  beforeAll(async () => {
    t = await startToolboxOnPkiServer();
    shots = process.env['BCL_TOOLBOX_SCREENSHOTS'] ? resolve(repoRoot, process.env['BCL_TOOLBOX_SCREENSHOTS']) : join(t.dir, 'screenshots');
    mkdirSync(shots, {recursive: true});
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

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
  const signedIn = (page: Page) => page.getByRole('button', {name: 'Sign out'}).waitFor();

  it('the first page: under 200 KB transferred, served with a strict CSP, nothing from elsewhere', async () => {
    await browser.context.clearCookies();
    const page = await browser.newPage();
    const responses: {url: string; bytes: number}[] = [];
    page.on('requestfinished', async (r) => {
      const sizes = await r.sizes();
      responses.push({url: r.url(), bytes: sizes.responseBodySize + sizes.responseHeadersSize});
    });
    const response = await page.goto(`${t.url}/`);
    await page.getByRole('link', {name: 'Sign in with your company account'}).waitFor();
    await page.waitForLoadState('networkidle');
    const csp = response!.headers()['content-security-policy']!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const total = responses.reduce((n, r) => n + r.bytes, 0);
    expect(responses.every((r) => r.url.startsWith(t.url)), JSON.stringify(responses)).toBe(true);
    expect(total, JSON.stringify(responses)).toBeLessThan(200 * 1024);
    // The page's scripts are compressed in transit (pre-compressed at build time).
    expect(responses.find((r) => /main-.*\.js$/.test(r.url))!.bytes).toBeLessThan(25 * 1024);
    await noViolations(page, 'sign-in page');
    await plainWords(page);
    await shot(page, '1-sign-in');
  });

  it('a consumer account and an unverified email see what to do and get nothing', async () => {
    const page = await browser.newPage();
    await t.signIn(page, /mallory@gmail\.com/, '/vpn');
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('That account is not a company account');
    expect(await alert.textContent()).toContain('Sign in with your work account');
    expect(await page.getByRole('button', {name: 'Create my VPN profile'}).count()).toBe(0);
    await noViolations(page, 'refused sign-in');
    await plainWords(page);
    await shot(page, '6-refused-outside-domain');
    await t.signIn(page, /carl@example\.com/, '/vpn');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Your email address is not confirmed yet');
    expect(await t.count("email in ('mallory@gmail.com', 'carl@example.com')")).toBe(0);
    expect(browser.sent.filter((r) => r.method === 'POST' && r.url.startsWith(t.url))).toEqual([]);
  });

  it('Get VPN access: sign in, choose a server, download; the key matches the certificate, the chain verifies, openvpn completes the handshake; the PKCS#12 opens in OpenSSL 3; no key in any request', async () => {
    const page = await browser.newPage();
    await t.signIn(page, /alice@example\.com/);
    await signedIn(page);
    await noViolations(page, 'home');
    await page.getByRole('navigation', {name: 'Main'}).getByRole('link', {name: 'Get VPN access'}).click();
    await page.getByRole('radio', {name: /Berlin office/}).check();
    await page.getByLabel('Name of this device').fill('Work laptop');
    await noViolations(page, 'vpn page');
    await plainWords(page);
    await shot(page, '2-get-vpn-access');
    await page.getByRole('button', {name: 'Create my VPN profile'}).click();
    await page.getByRole('heading', {name: 'Your VPN profile is ready'}).waitFor();
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
    const cert = certOf(profile);
    // The names come from the verified identity (the email, iss#sub), whatever the request said.
    expect(cert.subject).toBe('CN=alice@example.com');
    expect(cert.subjectAltName).toContain('email:alice@example.com');
    expect(cert.subjectAltName).toContain(`${t.oidc.issuer}#100000000000000000005`);
    expect(createPublicKey(createPrivateKey(key)).export({type: 'spki', format: 'der'}).equals(cert.publicKey.export({type: 'spki', format: 'der'}))).toBe(true);
    writeFileSync(file('alice.pem'), cert.toString());
    expect((await run('openssl', ['verify', '-CAfile', t.server.caCert, '-purpose', 'sslclient', file('alice.pem')])).stdout).toContain(': OK');
    expect(await t.count(`email = 'alice@example.com' and device_label = 'Work laptop'`)).toBe(1);

    const logs = await openvpnHandshake({profile: profilePath, crl: await t.crl('crl.pem'), server: {ca: t.server.caCert, cert: t.vpn.cert, key: t.vpn.key}, dir: t.dir});
    expect(logs.server).toContain('VERIFY OK: depth=0, CN=alice@example.com');
    expect(logs.server).toMatch(/\[alice@example\.com\] Peer Connection Initiated/);
    expect(logs.client).toMatch(/Peer Connection Initiated/);

    // The PKCS#12, locked with a password the person chooses; OpenSSL 3 opens it without -legacy.
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
    const issues = bodies.filter((r) => r.url === `${t.url}/v1/requests`);
    expect(issues).toHaveLength(1);
    expect(Object.keys(JSON.parse(issues[0]!.body!)).sort()).toEqual(['csr', 'deviceLabel', 'profile']);
  });

  it('My certificates: expiry in days, renewal near the end proved with the old key, and "I lost this device": the CRL lists it and openvpn refuses the profile', async () => {
    const page = await browser.newPage();
    // 80 days on, in the browser: the certificate is in its last 30 days and can be renewed.
    await page.clock.install({time: new Date(Date.now() + 80 * DAY)});
    await t.signIn(page, /alice@example\.com/, '/certificates');
    const card = page.getByRole('listitem').filter({has: page.getByRole('heading', {name: 'Work laptop'})});
    await expect.poll(() => card.textContent()).toMatch(/Expires in (9|10) days/);
    expect(await card.textContent()).toContain('VPN access');
    await noViolations(page, 'my certificates');
    await plainWords(page);
    await shot(page, '4-my-certificates');
    await card.getByRole('button', {name: /Renew/}).click();
    const dialog = page.getByRole('dialog', {name: "Renew this device's access"});
    await dialog.getByLabel('VPN file for this device').setInputFiles(profilePath);
    const renewed = page.waitForEvent('download');
    await dialog.getByRole('button', {name: 'Renew'}).click();
    const renewedProfile = (await save(await renewed, 'renewed.ovpn')).toString();
    expect(renewedProfile).toMatch(/^remote 127\.0\.0\.1 1194$/m);
    const oldSerial = certOf(readFileSync(profilePath, 'utf8')).serialNumber.toUpperCase();
    const newSerial = certOf(renewedProfile).serialNumber.toUpperCase();
    expect(newSerial).not.toBe(oldSerial);
    expect(await t.count(`serial = '${oldSerial}' and status = 'revoked' and reason = 'superseded' and superseded_by = '${newSerial}'`)).toBe(1);
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Renewed');
    const renewBody = browser.sent.find((r) => r.url.endsWith(`/v1/certificates/${oldSerial}/renew`))!;
    expect(Object.keys(JSON.parse(renewBody.body!)).sort()).toEqual(['csr', 'deviceLabel', 'signature']);
    expect(renewBody.body).not.toContain('PRIVATE KEY');

    // Back to today; the renewed laptop is lost.
    await page.clock.setSystemTime(new Date());
    await page.reload();
    const current = page.getByRole('listitem').filter({has: page.getByRole('heading', {name: 'Work laptop'})}).filter({hasText: 'Expires in'});
    await current.getByRole('button', {name: /I lost this device/}).click();
    const confirm = page.getByRole('dialog', {name: "Stop this device's access?"});
    expect(await confirm.textContent()).toContain('can no longer connect to the VPN');
    expect(await confirm.textContent()).toContain('Your other devices keep working');
    await noViolations(page, 'lost device dialog');
    await shot(page, '5-lost-device');
    await confirm.getByRole('button', {name: 'Yes, stop it now'}).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('no longer works');
    // The list is read again after the answer: the card goes once it has been.
    await expect.poll(() => current.count()).toBe(0);

    const crl = await t.crl('crl-after.pem');
    const crlText = (await run('openssl', ['crl', '-in', crl, '-CAfile', t.server.caCert, '-noout', '-text'])).stdout;
    expect(crlText).toContain(`Serial Number: ${newSerial}`);
    expect(crlText).toContain('Key Compromise');
    const logs = await openvpnHandshake({profile: file('renewed.ovpn'), crl, server: {ca: t.server.caCert, cert: t.vpn.cert, key: t.vpn.key}, dir: t.dir});
    expect(logs.server).not.toMatch(/\[alice@example\.com\] Peer Connection Initiated/);
    expect(logs.server).toMatch(/CRL CHECK FAILED|certificate revoked/i);
  });

  it('the admin pages: approve a waiting request, search the inventory, revoke with a reason, CRL and OCSP status, the audit trail', async () => {
    const page = await browser.newPage();
    // Bob gets VPN access, then asks for a server certificate (a privileged profile: it waits for an admin).
    await t.signIn(page, /bob@example\.com/, '/vpn');
    await page.getByRole('radio', {name: /New York office/}).check();
    await page.getByLabel('Name of this device').fill("Bob's Mac");
    await page.getByRole('button', {name: 'Create my VPN profile'}).click();
    await page.getByRole('heading', {name: 'Your VPN profile is ready'}).waitFor();
    const {request} = await newDeviceRequest('bob@example.com');
    const status = await page.evaluate(async (csr) => {
      const session = (await (await fetch('/v1/session')).json()) as {csrfToken: string};
      const r = await fetch('/v1/requests', {method: 'POST', headers: {'content-type': 'application/json', 'x-csrf-token': session.csrfToken}, body: JSON.stringify({csr, profile: 'server', dns: ['build.example.com']})});
      return r.status;
    }, request);
    expect(status).toBe(202);

    await t.signIn(page, /ann@example\.com/, '/admin/requests');
    const card = page.getByRole('listitem').filter({hasText: 'dns:build.example.com'});
    await card.waitFor();
    await noViolations(page, 'admin requests');
    await shot(page, '8-admin-requests');
    await card.getByRole('button', {name: /Approve/}).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Approved: bob@example.com');
    expect(await t.count(`email = 'bob@example.com' and profile = 'server' and approved_by = 'ann@example.com'`)).toBe(1);

    await page.getByRole('navigation', {name: 'Administration'}).getByRole('link', {name: 'Certificates'}).click();
    await page.getByLabel('Search by email, name, device or serial').fill("Bob's Mac");
    await expect.poll(() => page.getByRole('status').first().textContent()).toMatch(/^1 of \d+ certificates$/);
    await noViolations(page, 'admin inventory');
    await shot(page, '7-admin-inventory');
    const bobs = page.getByRole('listitem').filter({hasText: "Bob's Mac"});
    await bobs.getByRole('button', {name: /Revoke/}).click();
    const dialog = page.getByRole('dialog', {name: 'Revoke this certificate?'});
    await dialog.getByLabel('Reason').selectOption('affiliationChanged');
    await dialog.getByRole('button', {name: 'Revoke'}).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toMatch(/Revoked [0-9A-F]+ \(bob@example\.com\)/);
    expect(await t.count(`device_label = 'Bob''s Mac' and status = 'revoked' and reason = 'affiliationChanged'`)).toBe(1);

    await page.getByRole('navigation', {name: 'Administration'}).getByRole('link', {name: 'Revocation status'}).click();
    await page.getByRole('heading', {name: 'Online status (OCSP)'}).waitFor();
    expect(await page.locator('.status-grid').textContent()).toMatch(/Responder certificate[0-9A-F]+/);
    expect(await page.locator('.status-grid').textContent()).toMatch(/Revoked certificates[1-9]/);
    await noViolations(page, 'admin status');
    await shot(page, '9-admin-status');
    await page.getByRole('navigation', {name: 'Administration'}).getByRole('link', {name: 'Audit trail'}).click();
    await expect.poll(() => page.locator('.audit-entry').count()).toBeGreaterThan(3);
    expect(await page.locator('.audit').textContent()).toContain('request.approved');
    await noViolations(page, 'admin audit');
    await shot(page, '10-admin-audit');

    // A person who is not an admin sees no administration.
    await t.signIn(page, /alice@example\.com/, '/admin');
    await signedIn(page);
    expect(await page.getByRole('link', {name: 'Administration'}).count()).toBe(0);
  });

  it('a sign-in that ends under the page brings the sign-in back, and the person goes on where they were', async () => {
    const page = await browser.newPage();
    await t.signIn(page, /alice@example\.com/, '/vpn');
    await page.getByRole('radio', {name: /Berlin office/}).check();
    const before = await t.count("email = 'alice@example.com'");
    await t.server.sql('delete from sessions');
    await page.getByRole('button', {name: 'Create my VPN profile'}).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Your sign-in has ended');
    expect(await t.count("email = 'alice@example.com'")).toBe(before);
    // Signing in again: the identity provider still knows the person, so no account page this time.
    await page.getByRole('link', {name: 'Sign in with your company account'}).click();
    await page.getByRole('button', {name: 'Create my VPN profile'}).waitFor();
    expect(new URL(page.url()).pathname).toBe('/vpn');
  });

  it('keyboard only: sign in, get a VPN profile and download it without a mouse', async () => {
    const page = await browser.newPage();
    await browser.context.clearCookies();
    await page.goto(`${t.url}/`);
    const press = async (key: string) => page.keyboard.press(key);
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
    // The identity provider's account page, by keyboard too.
    await page.getByRole('button', {name: /alice@example\.com/}).waitFor();
    await tabTo(/alice@example\.com/);
    await press('Enter');
    await signedIn(page);
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
    await page.goto(`${t.url}/certificates`);
    await tabTo(/I lost this device/);
    await press('Enter');
    await expect.poll(focused).toMatch(/Yes, stop it now/);
    await press('Escape');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
  });

  it('readable at 200 % zoom and on a 375x667 phone: no page scrolls sideways', async () => {
    const page = await browser.newPage();
    await t.signIn(page, /ann@example\.com/);
    await signedIn(page);
    const paths = ['/', '/vpn', '/certificates', '/admin', '/admin/requests', '/admin/status', '/admin/audit'];
    // 200 % zoom of a 1280x800 window is a 640x400 CSS-pixel viewport.
    for (const viewport of [{width: 640, height: 400}, {width: 375, height: 667}]) {
      await page.setViewportSize(viewport);
      for (const path of paths) {
        await page.goto(`${t.url}${path}`);
        await page.locator('main h1').waitFor();
        await page.waitForLoadState('networkidle');
        const o = await overflowsHorizontally(page);
        expect(o.scrollWidth, `${path} at ${viewport.width}px: ${o.widest}`).toBeLessThanOrEqual(o.clientWidth);
      }
    }
    await t.signIn(page, /alice@example\.com/, '/certificates');
    await page.locator('.card').first().waitFor();
    await shot(page, '11-phone-my-certificates');
    await browser.context.clearCookies();
    await page.goto(`${t.url}/`);
    await page.getByRole('link', {name: 'Sign in with your company account'}).waitFor();
    expect((await overflowsHorizontally(page)).scrollWidth).toBeLessThanOrEqual(375);
    // The Toolbox's pages logged nothing (the identity provider's pages are not ours: its favicon is a 404).
    expect(browser.problems.filter((p) => p.startsWith(t.url))).toEqual([]);
  });
});
