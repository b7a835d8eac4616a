import {existsSync, mkdirSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runCli, tempDir} from '@bcl/testkit';
import {generateSigningKeyPair, parsePrivateKey} from '@bcl/release';
import {startStaticServer, type StaticServer} from './static-server.js';
import {Machine, platform, publishSynthetic, syntheticRelease} from './support.js';

// A store that stalls or asks to come back later, on loopback, met by `bcl install` through the
// real launcher: one deadline per operation (bcl.http.timeoutSeconds), no second try of a stalled
// download, and Ctrl-C ends a wait between retries at once.
let work: {path: string; remove(): void};
let server: StaticServer;
let trusted: string;
const machines: Machine[] = [];
const tarball = `tl-1.0.0-${platform()}.tar.gz`;
const gets = (suffix: string) => server.requests.filter((r) => r === `GET ${suffix}` || (r.startsWith('GET ') && r.endsWith(suffix))).length;

beforeAll(async () => {
  work = tempDir('bcl-deadline-');
  const pair = generateSigningKeyPair();
  trusted = pair.publicText;
  const store = join(work.path, 'store');
  mkdirSync(store);
  const tree = syntheticRelease(join(work.path, 'tree'), 'tl', '1.0.0');
  await publishSynthetic(store, join(work.path, 'build'), tree, 'tl', '1.0.0', parsePrivateKey(pair.privatePem, 'release.pem'));
  server = await startStaticServer(store);
});

afterAll(async () => {
  await server?.stop();
  for (const m of machines) m.remove();
  work?.remove();
});

function machine(): Machine {
  const m = new Machine(server.url, [trusted]);
  machines.push(m);
  return m;
}

describe('a stalled or busy store', () => {
  it('a stalled channel manifest fails the install at the deadline, asked once despite three retries', async () => {
    server.fault('/channels/stable/tl.json', 'stall');
    try {
      const m = machine();
      const started = Date.now();
      const res = await m.bcl(['install', 'tl', '--json'], {BCL_BCL_HTTP_TIMEOUT_SECONDS: '2', BCL_BCL_HTTP_RETRIES: '3'});
      expect(res.exitCode, res.stderr).toBe(5);
      expect(res.json().error).toMatchObject({code: 'http.timeout'});
      expect(res.json().error!.message).toBe(`GET ${server.url}/channels/stable/tl.json timed out after 2s, the deadline of the whole operation (retries included)`);
      expect(gets('/channels/stable/tl.json')).toBe(1);
      // Seconds, not minutes.
      expect(Date.now() - started).toBeLessThan(60_000);
      expect(existsSync(join(m.toolDir('tl'), 'current'))).toBe(false);
    } finally {
      server.fault('/channels/stable/tl.json', undefined);
    }
  });

  it('a download whose server stalls is not asked again, and nothing is installed', async () => {
    server.fault(tarball, 'stall');
    try {
      const m = machine();
      const before = gets(tarball);
      const res = await m.bcl(['install', 'tl', '--json'], {BCL_BCL_HTTP_TIMEOUT_SECONDS: '2', BCL_BCL_HTTP_RETRIES: '3'});
      expect(res.exitCode, res.stderr).toBe(5);
      expect(res.json().error!.code).toBe('http.timeout');
      expect(res.json().error!.message).toContain(`${tarball} timed out after 2s, the deadline of the whole operation`);
      expect(gets(tarball) - before).toBe(1);
      expect(existsSync(join(m.toolDir('tl'), 'current'))).toBe(false);
    } finally {
      server.fault(tarball, undefined);
    }
    // With the server healthy again, the same install goes through.
    const m = machine();
    const ok = await m.bcl(['install', 'tl', '--json']);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(await m.version('tl')).toBe('1.0.0');
  });

  it('Ctrl-C during the wait a Retry-After asked for stops the install at once (exit 130)', async () => {
    server.fault('/channels/stable/tl.json', 'busy');
    try {
      const m = machine();
      const before = gets('/channels/stable/tl.json');
      const started = Date.now();
      // --verbose says when it waits; the test presses Ctrl-C then.
      const res = await runCli('bcl', ['install', 'tl', '--verbose'], {env: {...m.env, BCL_BCL_HTTP_TIMEOUT_SECONDS: '1200', BCL_BCL_HTTP_RETRIES: '3'}, interruptOn: /retrying in 600\.0s \(Retry-After\)/});
      expect(res.exitCode, res.stderr).toBe(130);
      expect(res.stderr).toContain('Interrupting');
      expect(gets('/channels/stable/tl.json') - before).toBe(1);
      // Not the ten minutes the server asked for (nor the 30 s an uninterruptible wait was capped at).
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      server.fault('/channels/stable/tl.json', undefined);
    }
  });
});
