/**
 * A real headless Chromium (Debian's chromium, installed by scripts/lib/toolbox.sh) driven by
 * playwright-core, with a new empty profile; and the checks the browser tests share: axe-core
 * (injected from node_modules, not a CDN), horizontal overflow, every request the page sends.
 */
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {chromium, type BrowserContext, type Page, type Request} from 'playwright-core';
import {tempDir} from '@bcl/testkit';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  context: BrowserContext;
  /** Every request any page of this browser sent, in order. */
  sent: {method: string; url: string; body: string | null}[];
  /** Console errors and Content-Security-Policy violations the pages reported. */
  problems: string[];
  newPage(viewport?: {width: number; height: number}): Promise<Page>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  const profile = tempDir('bcl-chromium-');
  const context = await chromium.launchPersistentContext(profile.path, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    acceptDownloads: true,
    viewport: {width: 1280, height: 800},
    locale: 'en-GB',
    timezoneId: 'Europe/Berlin',
  });
  const sent: Browser['sent'] = [];
  const problems: string[] = [];
  const watch = (page: Page) => {
    page.on('console', (m) => {
      // The API answers 401 before sign-in and once a session ended, as the PKI server does; the
      // pages handle it, but Chromium logs every such answer.
      const expected = new URL(m.location().url || 'about:blank').pathname.startsWith('/v1/') && m.text().includes('status of 401');
      if (m.type() === 'error' && !expected) problems.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
  };
  context.on('request', (r: Request) => sent.push({method: r.method(), url: r.url(), body: r.postData()}));
  context.on('page', watch);
  // The window a persistent context opens with is left alone: pages are opened for each test.
  for (const page of context.pages()) watch(page);
  return {
    context,
    sent,
    problems,
    async newPage(viewport) {
      const page = await context.newPage();
      // Keyboard input goes to the window in front.
      await page.bringToFront();
      if (viewport) await page.setViewportSize(viewport);
      return page;
    },
    async close() {
      await context.close();
      profile.remove();
    },
  };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's violations on the page as it is now (WCAG 2.x A and AA rules and best practices). */
export async function axeViolations(page: Page): Promise<{id: string; impact: string | null; nodes: string[]}[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern (no <script> is added).
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as {axe: {run(ctx: Document, o: object): Promise<{violations: {id: string; impact: string | null; nodes: {target: string[]}[]}[]}>}}).axe;
    const result = await axe.run(document, {resultTypes: ['violations']});
    return result.violations.map((v) => ({id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' '))}));
  });
}

/** Whether the page is wider than its viewport (a horizontal scroll bar). */
export async function overflowsHorizontally(page: Page): Promise<{scrollWidth: number; clientWidth: number; widest: string}> {
  return page.evaluate(() => {
    const root = document.documentElement;
    let widest = '';
    let max = 0;
    for (const el of document.querySelectorAll('body *')) {
      const right = el.getBoundingClientRect().right;
      if (right > max) {
        max = right;
        widest = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ').join('.')}` : ''}`;
      }
    }
    return {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, widest};
  });
}
