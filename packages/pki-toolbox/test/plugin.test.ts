/**
 * registerToolbox on a Fastify app, through app.inject(): the pages and their headers, the
 * pre-compressed hashed assets, a prefix, the server's own routes left alone, and the message
 * when the assets were never built.
 */
import {existsSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import Fastify from 'fastify';
import {describe, expect, it} from 'vitest';
import {tempDir} from '@bcl/testkit';
import {CONTENT_SECURITY_POLICY, defaultSiteDir, registerToolbox} from '../src/index.js';

async function appWith(options?: Parameters<typeof registerToolbox>[1]) {
  const app = Fastify();
  app.get('/v1/info', async () => ({name: 'pki-server'}));
  await registerToolbox(app, options);
  return app;
}

describe('registerToolbox', () => {
  it('the built site is there (scripts/build.mjs runs build-assets.mjs): one page, hashed assets, each pre-compressed', () => {
    const assets = readdirSync(join(defaultSiteDir(), 'assets'));
    expect(existsSync(join(defaultSiteDir(), 'index.html'))).toBe(true);
    const js = assets.filter((f) => f.endsWith('.js'));
    expect(js.some((f) => /^main-[A-Z0-9]+\.js$/.test(f))).toBe(true);
    for (const f of [...js, ...assets.filter((a) => a.endsWith('.css'))]) {
      expect(assets).toContain(`${f}.br`);
      expect(assets).toContain(`${f}.gz`);
    }
  });

  it('serves every page with the strict policy, no caching, and the mount point in the page', async () => {
    const app = await appWith();
    for (const url of ['/', '/vpn', '/certificates', '/admin', '/admin/audit']) {
      const r = await app.inject({url});
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(r.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.body).toContain('data-base="/"');
      // No inline script: the only script is an external module of this server.
      expect(r.body.match(/<script[^>]*>/g)).toEqual([expect.stringMatching(/^<script type="module" src="\/assets\/main-[A-Z0-9]+\.js">$/)]);
      expect(r.body).not.toMatch(/https?:\/\//);
    }
    expect(CONTENT_SECURITY_POLICY).toMatch(/default-src 'none'; script-src 'self'; style-src 'self'/);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|http/);
    // The server's own routes get none of this.
    const info = await app.inject({url: '/v1/info'});
    expect(info.json()).toEqual({name: 'pki-server'});
    expect(info.headers['content-security-policy']).toBeUndefined();
    await app.close();
  });

  it('assets: brotli or gzip as the browser accepts, cached for a year, with the same policy; nothing outside the assets', async () => {
    const app = await appWith();
    const page = (await app.inject({url: '/'})).body;
    const main = /src="(\/assets\/main-[A-Z0-9]+\.js)"/.exec(page)![1]!;
    const br = await app.inject({url: main, headers: {'accept-encoding': 'br, gzip'}});
    expect(br.statusCode).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toMatch(/javascript/);
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(br.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    const gz = await app.inject({url: main, headers: {'accept-encoding': 'gzip'}});
    expect(gz.headers['content-encoding']).toBe('gzip');
    const plain = await app.inject({url: main});
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(Number(plain.headers['content-length'])).toBeGreaterThan(Number(br.headers['content-length']));
    expect((await app.inject({url: '/assets/../index.html'})).statusCode).not.toBe(200);
    expect((await app.inject({url: '/assets/%2e%2e/%2e%2e/package.json'})).statusCode).toBe(404);
    await app.close();
  });

  it('a prefix mounts the pages and assets below it', async () => {
    const app = await appWith({prefix: '/toolbox'});
    const r = await app.inject({url: '/toolbox/vpn'});
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('data-base="/toolbox/"');
    const main = /src="(\/toolbox\/assets\/main-[A-Z0-9]+\.js)"/.exec(r.body)![1]!;
    expect((await app.inject({url: main})).statusCode).toBe(200);
    expect((await app.inject({url: '/vpn'})).statusCode).toBe(404);
    await app.close();
    await expect(appWith({prefix: 'toolbox'})).rejects.toThrow(/prefix "toolbox" must be a path such as "\/" or "\/toolbox\/"/);
  });

  it('says how to build the pages when they are missing', async () => {
    const empty = tempDir('bcl-toolbox-empty-');
    try {
      await expect(appWith({siteDir: empty.path})).rejects.toThrow(`the PKI Toolbox's pages are not built: ${join(empty.path, 'index.html')} is missing (run node scripts/build.mjs)`);
    } finally {
      empty.remove();
    }
  });
});
