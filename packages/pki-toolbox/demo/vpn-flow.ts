/**
 * The demo's scripted person: a headless Chromium signs in to the Toolbox (through the identity
 * provider's own account page when there is one), gets VPN access for a server, downloads the
 * profile and looks at "My certificates", saving a screenshot of each page and the .ovpn in
 * `outDir`. Bundled and run by the demo (scripts/demo.d); usage: node vpn-flow.mjs <url> <account> <outDir>.
 */
import {mkdirSync} from 'node:fs';
import {join} from 'node:path';
import {launchChromium} from '../test/chromium.js';

export interface VpnFlowResult {
  profile: string;
  screenshots: string[];
}

export async function driveVpnFlow(o: {url: string; account: string; outDir: string; deviceLabel?: string}): Promise<VpnFlowResult> {
  mkdirSync(o.outDir, {recursive: true});
  const browser = await launchChromium();
  const screenshots: string[] = [];
  try {
    const page = await browser.newPage();
    const shot = async (name: string) => {
      const file = join(o.outDir, `${name}.png`);
      await page.screenshot({path: file, fullPage: true});
      screenshots.push(file);
    };
    await page.goto(o.url);
    await page.getByRole('link', {name: 'Sign in with your company account'}).waitFor();
    await shot('1-sign-in');
    await page.getByRole('link', {name: 'Sign in with your company account'}).click();
    // The identity provider's account chooser, when it asks (the test provider lists its users).
    const signedIn = page.getByRole('button', {name: 'Sign out'});
    const account = page.getByRole('button', {name: new RegExp(o.account.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))});
    await Promise.race([signedIn.waitFor(), account.waitFor()]);
    if (await account.count()) await account.click();
    await signedIn.waitFor();
    await page.getByRole('navigation', {name: 'Main'}).getByRole('link', {name: 'Get VPN access'}).click();
    await page.getByRole('radio').first().check();
    await page.getByLabel('Name of this device').fill(o.deviceLabel ?? 'Demo laptop');
    await shot('2-get-vpn-access');
    await page.getByRole('button', {name: 'Create my VPN profile'}).click();
    await page.getByRole('heading', {name: 'Your VPN profile is ready'}).waitFor();
    await shot('3-profile-ready');
    const downloading = page.waitForEvent('download');
    await page.getByRole('button', {name: /Download VPN profile/}).click();
    const download = await downloading;
    const profile = join(o.outDir, download.suggestedFilename());
    await download.saveAs(profile);
    await page.getByRole('navigation', {name: 'Main'}).getByRole('link', {name: 'My certificates'}).click();
    await page.locator('.card').first().waitFor();
    await shot('4-my-certificates');
    return {profile, screenshots};
  } finally {
    await browser.close();
  }
}

if (process.argv[1] && /vpn-flow\.(mjs|ts)$/.test(process.argv[1])) {
  const [url, account, outDir] = process.argv.slice(2);
  if (!url || !account || !outDir) {
    process.stderr.write('usage: vpn-flow <toolbox url> <account shown by the identity provider> <output directory>\n');
    process.exit(2);
  }
  const result = await driveVpnFlow({url, account, outDir});
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
