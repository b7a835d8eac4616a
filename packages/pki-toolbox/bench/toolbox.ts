/**
 * The Toolbox's speed, in a real headless Chromium against the real PKI server on PostgreSQL
 * (scripts/bench-toolbox bundles and runs this; it is not a test): the first page until it can be used, and "Get VPN
 * access" from the click to the profile ready (key, request, issuance, profile), beside the same
 * work by hand with openssl (a key and request, the CA signing it, a PKCS#12). Medians of N rounds.
 */
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {run, tempDir} from '@bcl/testkit';
import {launchChromium} from '../test/chromium.js';
import {startToolboxOnPkiServer} from '../test/toolbox-on-pki-server.js';

const rounds = Number(process.argv[2] ?? 10);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const toolbox = await startToolboxOnPkiServer();
const browser = await launchChromium();
const work = tempDir('bcl-bench-toolbox-');
const firstPage: number[] = [];
const transferred: number[] = [];
const profile: number[] = [];
const pkcs12: number[] = [];
const byHand: number[] = [];
try {
  for (let i = 0; i < rounds; i++) {
    await browser.context.clearCookies();
    const page = await browser.newPage();
    let bytes = 0;
    page.on('requestfinished', (r) => void r.sizes().then((s) => (bytes += s.responseBodySize + s.responseHeadersSize)));
    await page.goto(`${toolbox.url}/`);
    await page.waitForFunction(() => performance.getEntriesByName('toolbox:interactive').length > 0);
    firstPage.push(await page.evaluate(() => performance.getEntriesByName('toolbox:interactive')[0]!.startTime));
    await page.waitForLoadState('networkidle');
    transferred.push(bytes);

    await page.getByRole('link', {name: 'Sign in with your company account'}).click();
    await page.getByRole('button', {name: /bob@example\.com/}).click();
    await page.getByRole('navigation', {name: 'Main'}).getByRole('link', {name: 'Get VPN access'}).click();
    await page.getByRole('radio', {name: /Berlin office/}).check();
    await page.waitForLoadState('networkidle');
    let t = performance.now();
    await page.getByRole('button', {name: 'Create my VPN profile'}).click();
    await page.getByRole('heading', {name: 'Your VPN profile is ready'}).waitFor({timeout: 15_000}).catch(async (error: Error) => {
      throw new Error(`round ${i + 1}: ${error.message}\n${await page.locator('main').innerText()}`);
    });
    profile.push(performance.now() - t);
    await page.getByText('Other formats').click();
    await page.getByLabel('Password for the file').fill('bench password');
    await page.getByLabel('The same password again').fill('bench password');
    t = performance.now();
    const download = page.waitForEvent('download');
    await page.getByRole('button', {name: 'Download .p12 file'}).click();
    await download;
    pkcs12.push(performance.now() - t);
    await page.close();

    // The same by hand: a key and request, the CA signs it, a PKCS#12 (AES-256, 100,000 iterations).
    const f = (n: string) => join(work.path, `${n}-${i}`);
    writeFileSync(f('pass'), 'bench password\n', {mode: 0o600});
    t = performance.now();
    await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc', '-keyout', f('key'), '-out', f('csr'), '-subj', `/CN=bench${i}@example.com`]);
    await run('openssl', ['x509', '-req', '-in', f('csr'), '-CA', toolbox.server.caCert, '-CAkey', toolbox.server.caKey, '-days', '90', '-out', f('crt')]);
    await run('openssl', ['pkcs12', '-export', '-inkey', f('key'), '-in', f('crt'), '-certfile', toolbox.server.caCert, '-out', f('p12'), '-passout', `file:${f('pass')}`]);
    byHand.push(performance.now() - t);
  }
} finally {
  await browser.close();
  await toolbox.stop();
  work.remove();
}
const ms = (x: number) => `${Math.round(x)} ms`;
const warm = firstPage.slice(1);
process.stdout.write(`PKI Toolbox, ${rounds} rounds (medians), headless Chromium on this machine:
  first page usable, first visit (empty cache)       ${ms(firstPage[0]!)}   (${(transferred[0]! / 1024).toFixed(1)} KB transferred)
  first page usable, later visits (cached assets)    ${warm.length ? ms(median(warm)) : '-'}   (${(median(transferred.slice(1).length ? transferred.slice(1) : transferred) / 1024).toFixed(1)} KB transferred)
  Get VPN access: click to profile ready             ${ms(median(profile))}   (key, request, issuance on the server, profile)
  PKCS#12 file: click to download                    ${ms(median(pkcs12))}   (100,000 PBKDF2 and MAC iterations)
  by hand: openssl req + x509 -req + pkcs12 -export   ${ms(median(byHand))}
  ratio profile and PKCS#12 / by hand                ${((median(profile) + median(pkcs12)) / median(byHand)).toFixed(2)}x
`);
