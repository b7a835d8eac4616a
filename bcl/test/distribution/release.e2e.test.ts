import {spawn} from 'node:child_process';
import {existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, truncateSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {isolatedHome, type IsolatedHome, repoRoot, run, runCli, tempDir, waitFor} from '@bcl/testkit';
import {startStaticServer, type StaticServer} from './static-server.js';
import {buildRelease, copyStore, exec, Machine, platform, publish, sha256} from './support.js';

// End to end on loopback: real release builds (esbuild bundles + the npm registry's Node),
// real stores (a directory and HTTP servers), the installed tools updating themselves.
const V1 = '1.0.0';
const V2 = '1.1.0';
let work: {path: string; remove(): void};
let builder: IsolatedHome;
let key: string;
let trusted: string;
let otherKey: string;
let otherTrusted: string;
const builds = {svctl1: '', svctl1again: '', svctl2: '', bcl1: '', bcl2: ''};
/** A directory store with svctl 1.0.0 on stable, and one with 1.0.0 then 1.1.0. */
let storeV1: string;
let storeV2: string;
const machines: Machine[] = [];
const servers: StaticServer[] = [];

function machine(store: string, keys = [trusted], env: Record<string, string> = {}): Machine {
  const m = new Machine(store, keys, env);
  machines.push(m);
  return m;
}

async function keygen(file: string): Promise<string> {
  const res = await runCli('bcl', ['release', 'keygen', '--out', file, '--json'], {env: builder.env});
  expect(res.exitCode, res.stderr).toBe(0);
  return (res.json().result as {trustedKey: string}).trustedKey;
}

function tarball(build: string): string {
  return join(build, readdirSync(build).find((f) => f.endsWith('.tar.gz'))!);
}

function storeArtifact(store: string, tool: string, version: string): string {
  return join(store, 'versions', tool, version, `${tool}-${version}-${platform()}.tar.gz`);
}

/** What an interrupted or refused update may leave: nothing but the versions, current and state. */
function workLeft(m: Machine, tool: string): string[] {
  return readdirSync(m.toolDir(tool)).filter((n) => n.startsWith('.'));
}

async function installed(store: string, keys = [trusted], env: Record<string, string> = {}): Promise<Machine> {
  const m = machine(store, keys, env);
  const res = await m.bcl(['install', 'svctl', '--json']);
  expect(res.exitCode, res.stderr).toBe(0);
  expect(res.json().result).toMatchObject({tool: 'svctl', to: V1, action: 'installed'});
  return m;
}

beforeAll(async () => {
  work = tempDir('bcl-dist-');
  builder = isolatedHome();
  key = join(work.path, 'keys', 'release.pem');
  otherKey = join(work.path, 'keys', 'other.pem');
  trusted = await keygen(key);
  otherTrusted = await keygen(otherKey);
  builds.svctl1 = join(work.path, 'builds', 'svctl1');
  builds.svctl1again = join(work.path, 'builds', 'svctl1again');
  // Two builds of one commit. This checkout may gain commits meanwhile: then build both again.
  for (let attempt = 1; attempt <= 3; attempt++) {
    for (const b of [builds.svctl1, builds.svctl1again]) {
      rmSync(b, {recursive: true, force: true});
      await buildRelease(builder, 'svctl', V1, b);
    }
    const commit = (b: string) => JSON.parse(readFileSync(join(b, 'build.json'), 'utf8')).commit;
    if (commit(builds.svctl1) === commit(builds.svctl1again)) break;
  }
  for (const [name, tool, version] of [
    ['svctl2', 'svctl', V2],
    ['bcl1', 'bcl', V1],
    ['bcl2', 'bcl', V2],
  ] as const) {
    builds[name] = join(work.path, 'builds', name);
    await buildRelease(builder, tool, version, builds[name]);
  }
  storeV1 = join(work.path, 'store-v1');
  expect((await publish(builder, builds.svctl1, storeV1, key)).exitCode).toBe(0);
  storeV2 = copyStore(storeV1, join(work.path, 'store-v2'));
  expect((await publish(builder, builds.svctl2, storeV2, key)).exitCode).toBe(0);
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const m of machines) m.remove();
  builder?.remove();
  work?.remove();
});

describe('release build', () => {
  it('builds byte-identical tarballs from the same commit', () => {
    expect(sha256(tarball(builds.svctl1))).toBe(sha256(tarball(builds.svctl1again)));
    expect(readFileSync(join(builds.svctl1, 'build.json'), 'utf8')).toBe(readFileSync(join(builds.svctl1again, 'build.json'), 'utf8'));
    expect(sha256(tarball(builds.svctl1))).not.toBe(sha256(tarball(builds.svctl2)));
  });

  it('writes sorted entries owned by 0:0 with one mtime (as GNU tar lists them)', async () => {
    const {stdout} = await run('tar', ['--numeric-owner', '-tvzf', tarball(builds.svctl1)]);
    const lines = stdout.trim().split('\n');
    const names = lines.map((l) => l.split(/\s+/).at(-1)!);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['bin/svctl', 'lib/bin/run.js', 'lib/package.json', 'lib/oclif.manifest.json', 'lib/dist/help.json', 'runtime/bin/node', 'release.json']));
    expect(names.some((n) => n.includes('node_modules'))).toBe(false);
    expect(new Set(lines.map((l) => l.split(/\s+/)[1]))).toEqual(new Set(['0/0']));
    expect(new Set(lines.map((l) => l.split(/\s+/).slice(3, 5).join(' '))).size).toBe(1);
  });

  it('runs from the unpacked tarball with no node_modules and no Node on PATH', async () => {
    const dir = join(work.path, 'unpacked');
    mkdirSync(dir);
    await run('tar', ['-xzf', tarball(builds.svctl1), '-C', dir]);
    const env = {...builder.env, PATH: '/usr/bin:/bin'};
    const version = await exec(join(dir, 'bin', 'svctl'), ['--version'], {env});
    expect(version.stdout.trim()).toBe(`svctl/${V1} ${platform()} node-v24.21.0`);
    const help = await exec(join(dir, 'bin', 'svctl'), ['--help'], {env});
    expect(help.stdout).toContain(`@bcl/svctl/${V1} ${platform()} node-v24.21.0`);
    expect(help.stdout).toContain('update');
    const config = await exec(join(dir, 'bin', 'svctl'), ['config', '--json'], {env, cwd: dir});
    expect(config.exitCode, config.stderr).toBe(0);
    expect(config.json().ok).toBe(true);
    // A tarball unpacked by hand says how to get updates instead of trying.
    const update = await exec(join(dir, 'bin', 'svctl'), ['update', '--json'], {env});
    expect(update.exitCode).toBe(6);
    expect(update.json().error).toMatchObject({code: 'update.unmanaged', details: {how: 'unpacked'}});
    expect(update.json().error!.hint).toContain('bcl install svctl');
  });

  it('bundles bcl with its oclif plugin', async () => {
    const dir = join(work.path, 'unpacked-bcl');
    mkdirSync(dir);
    await run('tar', ['-xzf', tarball(builds.bcl1), '-C', dir]);
    const res = await exec(join(dir, 'bin', 'bcl'), ['autocomplete', 'script', 'bash'], {env: {...builder.env, PATH: '/usr/bin:/bin'}});
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toContain('bcl');
  });
});

describe('publish', () => {
  it('signs the exact manifest bytes: openssl verifies the signature with the .pub file', async () => {
    const manifest = join(storeV2, 'channels', 'stable', 'svctl.json');
    const sig = JSON.parse(readFileSync(`${manifest}.sig`, 'utf8')) as {signatures: {sig: string}[]};
    const sigFile = join(work.path, 'sig.bin');
    writeFileSync(sigFile, Buffer.from(sig.signatures[0]!.sig, 'base64'));
    const ok = await run('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', `${key}.pub`, '-rawin', '-in', manifest, '-sigfile', sigFile]);
    expect(ok.stdout).toContain('Signature Verified Successfully');
    const bad = await run('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', `${otherKey}.pub`, '-rawin', '-in', manifest, '-sigfile', sigFile], {allowFailure: true});
    expect(bad.code).not.toBe(0);
    const doc = JSON.parse(readFileSync(manifest, 'utf8'));
    expect(doc).toMatchObject({tool: 'svctl', channel: 'stable', version: V2, artifacts: [{platform: platform(), url: `versions/svctl/${V2}/svctl-${V2}-${platform()}.tar.gz`, size: expect.any(Number)}]});
    expect(Date.parse(doc.expires) - Date.parse(doc.published)).toBe(30 * 86_400_000);
    expect(doc.artifacts[0].sha256).toBe(sha256(storeArtifact(storeV2, 'svctl', V2)));
  });

  it('refuses to publish different bytes under a version already published', async () => {
    const store = copyStore(storeV1, join(work.path, 'store-immutable'));
    const res = await publish(builder, builds.svctl2, store, key);
    expect(res.exitCode).toBe(0);
    // Rebuild "1.0.0" content under 1.1.0's name: same version, other bytes.
    const fake = join(work.path, 'builds', 'fake');
    copyStore(builds.svctl1, fake);
    const record = readFileSync(join(fake, 'build.json'), 'utf8').replaceAll(V1, V2);
    writeFileSync(join(fake, 'build.json'), record);
    for (const f of readdirSync(fake)) if (f.endsWith('.tar.gz')) copyStore(join(fake, f), join(fake, f.replace(V1, V2)));
    const again = await publish(builder, fake, store, key);
    expect(again.exitCode).toBe(6);
    expect(again.json().error!.code).toBe('release.immutable');
  });
});

describe('install, update, roll back', () => {
  it('from a directory store: install v1, update to v2, roll back to v1, each one running', async () => {
    const store = copyStore(storeV1, join(work.path, 'store-dir-e2e'));
    const m = machine(store);
    const install = await m.bcl(['install', 'svctl', '--json']);
    expect(install.exitCode, install.stderr).toBe(0);
    expect(install.json().result).toMatchObject({tool: 'svctl', from: null, to: V1, action: 'installed', channel: 'stable', shim: m.shim('svctl')});
    expect(await m.version('svctl')).toBe(V1);
    await m.runsRealCommand('svctl');
    expect(readlinkSync(join(m.toolDir('svctl'), 'current'))).toBe(V1);

    expect((await publish(builder, builds.svctl2, store, key)).exitCode).toBe(0);
    const check = await m.run('svctl', ['update', '--check', '--json']);
    expect(check.json().result).toMatchObject({current: V1, latest: V2, updateAvailable: true});
    // The installed v1 updates itself.
    const update = await m.run('svctl', ['update', '--json']);
    expect(update.exitCode, update.stderr).toBe(0);
    expect(update.json().result).toMatchObject({from: V1, to: V2, action: 'updated', downloaded: true});
    expect(await m.version('svctl')).toBe(V2);
    await m.runsRealCommand('svctl');

    const rollback = await m.run('svctl', ['update', '--rollback', '--json']);
    expect(rollback.exitCode, rollback.stderr).toBe(0);
    expect(rollback.json().result).toMatchObject({from: V2, to: V1, action: 'rolled back'});
    expect(await m.version('svctl')).toBe(V1);
    await m.runsRealCommand('svctl');

    // Forward again: the kept version is switched to without a download.
    const forward = await m.run('svctl', ['update', '--json']);
    expect(forward.json().result).toMatchObject({from: V1, to: V2, downloaded: false});
    const again = await m.run('svctl', ['update', '--json']);
    expect(again.json().result).toMatchObject({action: 'unchanged'});
    expect(workLeft(m, 'svctl')).toEqual([]);
  });

  it('from HTTP stores: publish with PUT, install and update with GET (also from python -m http.server)', async () => {
    const root = join(work.path, 'store-http');
    mkdirSync(root);
    const token = 'store-token-5f3a9c';
    const server = await startStaticServer(root, {allowPut: true, putToken: token});
    servers.push(server);
    const anonymous = await publish(builder, builds.svctl1, server.url, key);
    expect(anonymous.exitCode).toBe(4);
    expect(anonymous.json().error!.code).toBe('http.unauthenticated');
    const withToken = await runCli('bcl', ['release', 'publish', '--store', server.url, '--channel', 'stable', '--key', key, builds.svctl1, '--verbose'], {env: {...builder.env, BCL_STORE_TOKEN: token}});
    expect(withToken.exitCode, withToken.stderr).toBe(0);
    expect(withToken.stdout + withToken.stderr).not.toContain(token);
    expect(server.requests).toContain(`PUT /channels/stable/svctl.json`);
    const m = machine(`${server.url}/`);
    const install = await m.bcl(['install', 'svctl', '--json']);
    expect(install.exitCode, install.stderr).toBe(0);
    expect(await m.version('svctl')).toBe(V1);
    expect((await publish(builder, builds.svctl2, server.url, key, [], {BCL_STORE_TOKEN: token})).exitCode).toBe(0);

    // Any static server will do for clients: Python's, serving the same files.
    const port = await (await import('@bcl/testkit')).freePort();
    const python = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', root], {stdio: 'ignore'});
    try {
      await waitFor('python http.server', async () => (await fetch(`http://127.0.0.1:${port}/channels/stable/svctl.json`).catch(() => undefined))?.ok);
      const res = await m.run('svctl', ['update', '--json'], {BCL_BCL_UPDATE_STORE: `http://127.0.0.1:${port}`});
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.json().result).toMatchObject({from: V1, to: V2});
    } finally {
      python.kill();
    }
    expect(await m.version('svctl')).toBe(V2);
    await m.runsRealCommand('svctl');
    const rollback = await m.run('svctl', ['update', '--rollback', '--json']);
    expect(rollback.json().result).toMatchObject({to: V1});
    expect(await m.version('svctl')).toBe(V1);
    // bcl update brings every installed tool to its channel's version.
    const all = await m.bcl(['update', '--json']);
    expect(all.exitCode, all.stderr).toBe(0);
    expect(all.json().result).toMatchObject({tools: [{tool: 'svctl', ok: true, outcome: {to: V2}}]});
    expect(await m.version('svctl')).toBe(V2);
  });

  it('keeps the previous version beside the current one, sharing one Node runtime, and reinstalls in place', async () => {
    const m = machine(storeV2);
    expect((await m.bcl(['install', 'svctl', '--version', V1])).exitCode).toBe(0);
    expect((await m.run('svctl', ['update'])).exitCode).toBe(0);
    expect(readdirSync(m.toolDir('svctl')).sort()).toEqual([V1, V2, 'current', 'state.json']);
    const runtimes = join(m.home.xdg.data, 'bcl', 'runtimes');
    expect(readdirSync(runtimes)).toHaveLength(1);
    // Reinstalling the current version never leaves `current` pointing at nothing.
    const res = await m.run('svctl', ['update', '--force', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.json().result).toMatchObject({action: 'reinstalled', to: V2, downloaded: true});
    expect(await m.version('svctl')).toBe(V2);
    expect(readlinkSync(join(m.toolDir('svctl'), 'current'))).toBe(V2);
    expect(workLeft(m, 'svctl')).toEqual([]);
  });

  it('a checkout says how to update itself instead of trying', async () => {
    const home = isolatedHome();
    try {
      const res = await runCli('svctl', ['update', '--json'], {env: home.env});
      expect(res.exitCode).toBe(6);
      expect(res.json().error).toMatchObject({code: 'update.unmanaged', details: {how: 'checkout'}});
      expect(res.json().error!.hint).toContain('git');
    } finally {
      home.remove();
    }
  });
});

describe('refusals leave the current version running', () => {
  async function refused(m: Machine, expectCode: string, expectExit: number, env: Record<string, string> = {}) {
    const res = await m.run('svctl', ['update', '--json'], env);
    expect(res.exitCode, res.stdout + res.stderr).toBe(expectExit);
    expect(res.json().error!.code).toBe(expectCode);
    expect(await m.version('svctl')).toBe(V1);
    await m.runsRealCommand('svctl');
    expect(workLeft(m, 'svctl')).toEqual([]);
    return res.json().error as {message: string; hint?: string};
  }

  it('a tampered artifact (checksum check)', async () => {
    const store = copyStore(storeV2, join(work.path, 'store-tampered'));
    const m = await installed(storeV1);
    const artifact = storeArtifact(store, 'svctl', V2);
    const bytes = readFileSync(artifact);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    writeFileSync(artifact, bytes);
    const error = await refused(m, 'update.checksum_mismatch', 4, {BCL_BCL_UPDATE_STORE: store});
    expect(error.message).toContain('checksum check failed');
  });

  it('a manifest changed after signing (signature check)', async () => {
    const store = copyStore(storeV2, join(work.path, 'store-badsig'));
    const m = await installed(storeV1);
    const manifest = join(store, 'channels', 'stable', 'svctl.json');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/"expires": "[^"]+"/, '"expires": "2099-01-01T00:00:00.000Z"'));
    const error = await refused(m, 'update.signature_invalid', 4, {BCL_BCL_UPDATE_STORE: store});
    expect(error.message).toContain('does not match its content');
  });

  it('a manifest signed by a key that is not trusted', async () => {
    const store = copyStore(storeV1, join(work.path, 'store-untrusted'));
    const m = await installed(store);
    expect((await publish(builder, builds.svctl2, store, otherKey)).exitCode).toBe(0);
    const error = await refused(m, 'update.untrusted_key', 4);
    expect(error.message).toContain('not in bcl.update.trustedKeys');
    // Trusting the new key too (a rotation) lets the update through.
    const rotated = await m.run('svctl', ['update', '--json'], {BCL_BCL_UPDATE_TRUSTED_KEYS: `${trusted},${otherTrusted}`});
    expect(rotated.exitCode, rotated.stderr).toBe(0);
    expect(await m.version('svctl')).toBe(V2);
  });

  it('an expired channel manifest (a frozen mirror)', async () => {
    const store = copyStore(storeV1, join(work.path, 'store-expired'));
    const m = await installed(store);
    expect((await publish(builder, builds.svctl2, store, key, ['--expires', '1s'])).exitCode).toBe(0);
    await new Promise((r) => setTimeout(r, 1500));
    const error = await refused(m, 'update.expired', 4);
    expect(error.message).toContain('freshness check failed');
  });

  it('a truncated artifact in the store (size check)', async () => {
    const store = copyStore(storeV2, join(work.path, 'store-truncated'));
    const m = await installed(storeV1);
    const artifact = storeArtifact(store, 'svctl', V2);
    truncateSync(artifact, Math.floor(readFileSync(artifact).length / 2));
    const error = await refused(m, 'update.size_mismatch', 4, {BCL_BCL_UPDATE_STORE: store});
    expect(error.message).toContain('size check failed');
  });

  it('a downgrade below the highest version installed from the channel (rollback protection)', async () => {
    const store = copyStore(storeV2, join(work.path, 'store-downgrade'));
    const m = machine(store);
    expect((await m.bcl(['install', 'svctl'])).exitCode).toBe(0);
    expect(await m.version('svctl')).toBe(V2);
    // The channel is pointed back at 1.0.0 (an attacker replaying an old signed manifest would look the same).
    expect((await publish(builder, builds.svctl1, store, key, ['--allow-downgrade'])).exitCode).toBe(0);
    const res = await m.run('svctl', ['update', '--json']);
    expect(res.exitCode).toBe(6);
    expect(res.json().error).toMatchObject({code: 'update.downgrade', details: {offered: V1, highest: V2}});
    expect(await m.version('svctl')).toBe(V2);
    const explicit = await m.run('svctl', ['update', '--version', V1, '--json']);
    expect(explicit.exitCode, explicit.stderr).toBe(0);
    expect(await m.version('svctl')).toBe(V1);
  });

  describe('over HTTP', () => {
    let server: StaticServer;
    let m: Machine;
    beforeAll(async () => {
      server = await startStaticServer(storeV2);
      servers.push(server);
      m = await installed(storeV1);
    });
    const viaServer = () => ({BCL_BCL_UPDATE_STORE: server.url, BCL_BCL_HTTP_TIMEOUT_SECONDS: '1', BCL_BCL_HTTP_RETRIES: '0'});

    it('a download cut off halfway', async () => {
      server.fault(`svctl-${V2}-${platform()}.tar.gz`, 'cut');
      try {
        const error = await refused(m, 'update.download_cut', 5, viaServer());
        expect(error.message).toMatch(/cut off after \d+ of \d+ bytes/);
      } finally {
        server.fault(`svctl-${V2}-${platform()}.tar.gz`, undefined);
      }
    });

    it('a server answering 404', async () => {
      server.fault('/channels/stable/svctl.json', 'not-found');
      try {
        const error = await refused(m, 'update.not_found', 3, viaServer());
        expect(error.message).toContain(`${server.url}/channels/stable/svctl.json does not exist`);
      } finally {
        server.fault('/channels/stable/svctl.json', undefined);
      }
    });

    it('a server answering 500', async () => {
      server.fault('/channels/stable/svctl.json', 'error');
      try {
        const error = await refused(m, 'http.status', 5, viaServer());
        expect(error.message).toContain('answered 500');
      } finally {
        server.fault('/channels/stable/svctl.json', undefined);
      }
    });

    it('a server that stalls', async () => {
      server.fault(`svctl-${V2}-${platform()}.tar.gz`, 'stall');
      try {
        const error = await refused(m, 'http.timeout', 5, viaServer());
        expect(error.message).toContain('timed out after 1s');
      } finally {
        server.fault(`svctl-${V2}-${platform()}.tar.gz`, undefined);
      }
    });

    it('and then, with the server healthy, the update goes through', async () => {
      const res = await m.run('svctl', ['update', '--json'], viaServer());
      expect(res.exitCode, res.stderr).toBe(0);
      expect(await m.version('svctl')).toBe(V2);
    });
  });
});

describe('kill -9 of the updater', () => {
  // Each point holds the updater (BCL_UPDATE_TEST_PAUSE) until the test kills it.
  it.each([
    ['download', V1],
    ['extracted', V1],
    ['staged', V1],
    ['switch', V1],
    ['switched', V2],
  ] as const)('at %s: the installed tool still runs (%s), and the next update completes', async (point, expected) => {
    const m = await installed(storeV1);
    const marker = join(m.home.home, `paused-${point}`);
    const child = spawn(m.shim('svctl'), ['update'], {env: {...process.env, ...m.env, BCL_BCL_UPDATE_STORE: storeV2, BCL_UPDATE_TEST_PAUSE: `${point}:${marker}`}, stdio: 'ignore'});
    const exited = new Promise<void>((r) => child.on('close', () => r()));
    await waitFor(`the updater to reach ${point}`, () => existsSync(marker), {timeoutMs: 60_000});
    if (point === 'download') {
      // Meanwhile a second update is refused: the lock is held by a live process.
      const concurrent = await m.run('svctl', ['update', '--json'], {BCL_BCL_UPDATE_STORE: storeV2});
      expect(concurrent.exitCode).toBe(6);
      expect(concurrent.json().error!.code).toBe('update.locked');
    }
    child.kill('SIGKILL');
    await waitFor(`the updater killed at ${point} to be gone`, () => child.exitCode !== null || child.signalCode !== null, {timeoutMs: 30_000});
    await exited;
    expect(await m.version('svctl')).toBe(expected);
    await m.runsRealCommand('svctl');
    const next = await m.run('svctl', ['update', '--json'], {BCL_BCL_UPDATE_STORE: storeV2});
    expect(next.exitCode, next.stderr).toBe(0);
    expect(await m.version('svctl')).toBe(V2);
    expect(workLeft(m, 'svctl')).toEqual([]);
  });
});

describe('kill -9 of a forced reinstall of the installed version', () => {
  // `current` never points at a staging tree; at replacing and replaced it points at the new tree
  // under a .replacing-* name, which the next update (forced or not) makes the version directory.
  const killed = async (m: Machine, command: string[], point: string) => {
    const marker = join(m.home.home, `paused-force-${point}`);
    const child = spawn(command[0]!, command.slice(1), {env: {...process.env, ...m.env, BCL_UPDATE_TEST_PAUSE: `${point}:${marker}`}, stdio: 'ignore'});
    const exited = new Promise<void>((r) => child.on('close', () => r()));
    await waitFor(`the reinstall to reach ${point}`, () => existsSync(marker), {timeoutMs: 60_000});
    child.kill('SIGKILL');
    await waitFor(`the reinstall killed at ${point} to be gone`, () => child.exitCode !== null || child.signalCode !== null, {timeoutMs: 30_000});
    await exited;
  };

  it.each(['download', 'extracted', 'replacing', 'replaced', 'staged', 'switch', 'switched'] as const)('svctl update --force killed at %s: it still runs, and the next update repairs it by itself', async (point) => {
    const m = await installed(storeV1);
    await killed(m, [m.shim('svctl'), 'update', '--force'], point);
    expect(await m.version('svctl')).toBe(V1);
    await m.runsRealCommand('svctl');
    const next = await m.run('svctl', ['update', '--json']);
    expect(next.exitCode, `${next.stderr}\n${next.stdout}`).toBe(0);
    expect(next.json().result).toMatchObject({from: V1, to: V1});
    expect(readlinkSync(join(m.toolDir('svctl'), 'current'))).toBe(V1);
    expect(workLeft(m, 'svctl')).toEqual([]);
    const again = await m.run('svctl', ['update', '--force', '--json']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.json().result).toMatchObject({action: 'reinstalled', to: V1});
    expect(readlinkSync(join(m.toolDir('svctl'), 'current'))).toBe(V1);
    // And a real update after it.
    const update = await m.run('svctl', ['update', '--json'], {BCL_BCL_UPDATE_STORE: storeV2});
    expect(update.exitCode, update.stderr).toBe(0);
    expect(await m.version('svctl')).toBe(V2);
  });

  it('bcl install --force killed while replacing: the next bcl install finishes it', async () => {
    const m = await installed(storeV1);
    await killed(m, [join(repoRoot, 'bin', 'bcl'), 'install', 'svctl', '--force'], 'replacing');
    expect(readlinkSync(join(m.toolDir('svctl'), 'current'))).toMatch(/^\.replacing-/);
    expect(await m.version('svctl')).toBe(V1);
    const again = await m.bcl(['install', 'svctl', '--json']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.json().result).toMatchObject({action: 'unchanged', to: V1});
    expect(readlinkSync(join(m.toolDir('svctl'), 'current'))).toBe(V1);
    expect(workLeft(m, 'svctl')).toEqual([]);
  });
});

describe('channel policy: deprecation and minimum version', () => {
  it('a version below minimumVersion refuses changing commands until updated; read-only ones print the deprecation', async () => {
    const store = join(work.path, 'store-policy');
    expect((await publish(builder, builds.bcl1, store, key)).exitCode).toBe(0);
    const m = machine(store);
    expect((await m.bcl(['install', 'bcl'])).exitCode).toBe(0);
    const message = 'bcl 1.0 writes configuration older tools misread: run bcl update';
    const pub = await publish(builder, builds.bcl2, store, key, ['--minimum-version', V2, '--deprecate-below', V2, '--deprecation-message', message]);
    expect(pub.exitCode, pub.stderr).toBe(0);
    // The installed bcl learns the channel's policy from a (signed) check.
    const check = await m.run('bcl', ['update', '--check', '--json']);
    expect(check.exitCode, check.stderr).toBe(0);

    const get = await m.run('bcl', ['config', 'get', 'bcl.update.channel', '--json']);
    expect(get.exitCode, get.stderr).toBe(0);
    expect(get.json().warnings).toEqual([`bcl ${V1} is deprecated: ${message}`]);
    const human = await m.run('bcl', ['config', 'get', 'bcl.update.channel']);
    expect(human.stderr).toContain(message);

    const configFile = join(m.home.xdg.config, 'bcl', 'config.yaml');
    const before = readFileSync(configFile, 'utf8');
    const set = await m.run('bcl', ['config', 'set', 'bcl.http.retries', '5', '--json']);
    expect(set.exitCode).toBe(6);
    expect(set.json().error).toMatchObject({code: 'update.required'});
    expect(set.json().error!.hint).toContain('bcl update');
    expect(readFileSync(configFile, 'utf8')).toBe(before);

    const update = await m.run('bcl', ['update', '--json']);
    expect(update.exitCode, update.stderr).toBe(0);
    expect(await m.version('bcl')).toBe(V2);
    const setAgain = await m.run('bcl', ['config', 'set', 'bcl.http.retries', '5', '--json']);
    expect(setAgain.exitCode, setAgain.stderr).toBe(0);
    expect(setAgain.json().warnings).toEqual([]);
  });

  it('an installed bcl runs installed tools: bcl svctl ...', async () => {
    const store = copyStore(storeV1, join(work.path, 'store-host'));
    expect((await publish(builder, builds.bcl1, store, key)).exitCode).toBe(0);
    const m = machine(store);
    expect((await m.bcl(['install', 'bcl'])).exitCode).toBe(0);
    expect((await m.run('bcl', ['install', 'svctl'])).exitCode).toBe(0);
    const res = await m.run('bcl', ['svctl', '--version']);
    expect(res.stdout).toMatch(new RegExp(`^svctl/${V1} `));
    const config = await m.run('bcl', ['--json', 'svctl', 'config']);
    expect(config.json().ok).toBe(true);
    // The installed bcl knows the installed tools' configuration keys.
    const set = await m.run('bcl', ['config', 'set', 'svctl.defaultEnv', 'prod', '--json']);
    expect(set.exitCode, set.stdout).toBe(0);
    const seen = await m.run('bcl', ['svctl', 'config', '--json']);
    expect(seen.json<{result: {entries: unknown[]}}>().result.entries).toEqual(expect.arrayContaining([expect.objectContaining({key: 'svctl.defaultEnv', value: 'prod'})]));
  });
});

describe('the update notice', () => {
  /** Runs a command on a pseudo-terminal (util-linux script), as a person at a terminal would. */
  function onTty(m: Machine, command: string, env: Record<string, string | undefined>) {
    const quoted = `'${m.shim('svctl')}' ${command}`;
    return exec('script', ['-q', '-e', '-c', quoted, '/dev/null'], {env: {...m.env, ...env}});
  }

  it('is checked in the background at most once a day and shown on a TTY only', async () => {
    const m = await installed(storeV1);
    const person = {CI: undefined, BCL_DISABLE_UPDATE_CHECK: undefined, BCL_BCL_UPDATE_STORE: storeV2, TERM: 'dumb'};
    const cache = join(m.home.xdg.cache, 'bcl', 'update', 'svctl.json');
    rmSync(cache, {force: true});
    // Not a person: no check at all.
    await m.run('svctl', ['config'], {...person, CI: 'true'});
    await onTty(m, 'config', {...person, BCL_DISABLE_UPDATE_CHECK: '1'});
    await onTty(m, 'config', {...person, CI: 'true'});
    await m.run('svctl', ['config'], person);
    expect(existsSync(cache)).toBe(false);

    const first = await onTty(m, 'config', person);
    expect(first.exitCode).toBe(0);
    const seen = await waitFor('the background check', () => {
      const c = existsSync(cache) ? JSON.parse(readFileSync(cache, 'utf8')) : undefined;
      return c?.latest === V2 ? c : undefined;
    });
    const second = await onTty(m, 'config', person);
    expect(second.stdout).toContain(`A new version is available: svctl ${V1} -> ${V2}. Run \`svctl update\`.`);
    // Checked once a day only.
    expect(JSON.parse(readFileSync(cache, 'utf8')).checkedAt).toBe(seen.checkedAt);
    // Never in --json output, never with CI=true, never when disabled, never without a TTY.
    expect((await onTty(m, 'config --json', person)).stdout).not.toContain('A new version');
    expect((await onTty(m, 'config', {...person, CI: 'true'})).stdout).not.toContain('A new version');
    expect((await onTty(m, 'config', {...person, BCL_DISABLE_UPDATE_CHECK: '1'})).stdout).not.toContain('A new version');
    const piped = await m.run('svctl', ['config'], person);
    expect(piped.stderr).not.toContain('A new version');
  });
});
