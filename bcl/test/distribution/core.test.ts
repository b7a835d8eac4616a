import {chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {Writable} from 'node:stream';
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {rejection, run, tempDir} from '@bcl/testkit';
import {BclError} from '../../src/errors.js';
import {Ui} from '../../src/output/ui.js';
import {ProcessRunner} from '../../src/process/runner.js';
import {Redactor} from '../../src/process/redactor.js';
import {generateSigningKeyPair, parsePrivateKey, serializeSignatures, signBytes, treeEntries, writeTarGz} from '@bcl/release';
import {installTool, rollbackTool, type UpdaterIo} from '../../src/distribution/installer.js';
import {installRoots, ToolInstall} from '../../src/distribution/layout.js';
import {runningCopy} from '../../src/distribution/mode.js';
import {currentPlatform, type Platform} from '../../src/distribution/platforms.js';
import {parsePublicKey, verifySignatures} from '../../src/distribution/signing.js';
import {openStore} from '../../src/distribution/store.js';
import {extractTarGz} from '../../src/distribution/tarball.js';
import {compareVersions} from '../../src/distribution/versions.js';
import {startStaticServer} from './static-server.js';
import {publishSynthetic, sha256, type SyntheticOptions, syntheticRelease} from './support.js';

// The distribution core with small synthetic releases (a shell script for a tool), so every
// branch of install/update/rollback runs in milliseconds; release.e2e.test.ts runs real builds.
// Stores are made with the publisher's own code (@bcl/release), as `bcl release publish` does.
const platform = currentPlatform() as Platform;
let dir: {path: string; remove(): void};
let n = 0;
const fresh = (name: string) => {
  const p = join(dir.path, `${name}-${++n}`);
  mkdirSync(p, {recursive: true});
  return p;
};

beforeAll(() => {
  dir = tempDir('bcl-dist-core-');
});
afterAll(() => dir.remove());

const pair = generateSigningKeyPair();
const signer = parsePrivateKey(pair.privatePem, 'release.pem');
const trusted = parsePublicKey(pair.publicText, 'test');

const releaseTree = (tool: string, version: string, options: SyntheticOptions = {}) => syntheticRelease(fresh(`tree-${tool}-${version}`), tool, version, options);

/** Packs and publishes releases to a directory store, as `bcl release publish` does. */
async function publishTree(store: string, tool: string, version: string, tree = releaseTree(tool, version), extra: {allowDowngrade?: boolean; channel?: string} = {}): Promise<void> {
  await publishSynthetic(store, fresh('build'), tree, tool, version, signer, extra);
}

function quietUi(): Ui {
  const sink = new Writable({write: (_c, _e, cb) => cb()});
  return new Ui({stderr: sink, json: false, quiet: true, verbose: false, color: false, redactor: new Redactor()});
}

function io(store: string, data: string, extra: Partial<UpdaterIo> = {}): UpdaterIo {
  return {
    store: openStore(store, {http: () => undefined as never, cwd: '/'}),
    trusted: [trusted],
    roots: installRoots({data} as never),
    platform,
    keep: 2,
    ui: quietUi(),
    runner: new ProcessRunner(new Redactor()),
    now: () => new Date(),
    signal: new AbortController().signal,
    cacheDir: join(data, 'cache'),
    pause: async () => undefined,
    ...extra,
  };
}

const request = (tool: string, extra: Record<string, unknown> = {}) => ({tool, channel: 'stable', channelExplicit: false, force: false, allowDowngrade: false, ...extra});

const failure = (promise: Promise<unknown>) => rejection(promise, BclError);

async function runs(data: string, tool: string): Promise<string> {
  const {stdout} = await run(join(data, 'bin', tool), ['--version']);
  return stdout.trim().split(' ')[0]!;
}

describe('signatures', () => {
  const bytes = Buffer.from('{"hello":"world"}\n');

  it('verifies a signature by a trusted key, and names the key that is not trusted', () => {
    const sig = serializeSignatures(signBytes(bytes, [signer]));
    expect(verifySignatures(bytes, sig, [trusted], 'm.json')).toEqual({keyid: trusted.keyid});
    const other = parsePublicKey(generateSigningKeyPair().publicText, 'other');
    const e = (() => {
      try {
        verifySignatures(bytes, sig, [other], 'm.json');
      } catch (error) {
        return error as BclError;
      }
    })();
    expect(e?.code).toBe('update.untrusted_key');
    expect(e?.message).toContain(trusted.keyid.slice(0, 16));
  });

  it('refuses changed bytes, and accepts either key of a rotation', () => {
    const next = generateSigningKeyPair();
    const both = serializeSignatures(signBytes(bytes, [parsePrivateKey(next.privatePem, 'new.pem'), signer]));
    expect(verifySignatures(bytes, both, [trusted], 'm.json').keyid).toBe(trusted.keyid);
    expect(verifySignatures(bytes, both, [parsePublicKey(next.publicPem, 'pem')], 'm.json').keyid).toBe(next.keyid);
    expect(() => verifySignatures(Buffer.from('{"hello":"World"}\n'), both, [trusted], 'm.json')).toThrow(/does not match its content/);
    expect(() => verifySignatures(bytes, Buffer.from('garbage'), [trusted], 'm.json')).toThrow(/not a signature document/);
  });

  it('reads trusted keys as PEM or ed25519:<base64>, with the same key id, and rejects others', () => {
    expect(parsePublicKey(pair.publicPem, 'k').keyid).toBe(trusted.keyid);
    expect(() => parsePublicKey('ed25519:AAAA', 'bcl.update.trustedKeys[0]')).toThrow(/bcl.update.trustedKeys\[0\]: not a valid Ed25519 public key/);
    expect(() => parsePublicKey('ssh-ed25519 AAAA', 'bcl.update.trustedKeys[1]')).toThrow(/expected "ed25519:<base64>"/);
  });
});

describe('tarballs', () => {
  it('are byte-identical for the same tree whatever the mtimes and permissions on disk', async () => {
    const a = releaseTree('t', '1.0.0');
    const b = releaseTree('t', '1.0.0');
    utimesSync(join(b, 'lib', 'package.json'), new Date(0), new Date(0));
    chmodSync(join(b, 'lib'), 0o700);
    chmodSync(join(b, 'release.json'), 0o600);
    const out = fresh('tgz');
    const first = await writeTarGz(treeEntries(a), join(out, 'a.tar.gz'), 1_700_000_000);
    const second = await writeTarGz(treeEntries(b), join(out, 'b.tar.gz'), 1_700_000_000);
    expect(second.sha256).toBe(first.sha256);
    expect(sha256(join(out, 'a.tar.gz'))).toBe(first.sha256);
    // GNU tar reads it; gzip -t checks the stream.
    const {stdout} = await run('tar', ['--numeric-owner', '-tvzf', join(out, 'a.tar.gz')]);
    expect(stdout).toContain('-rwxr-xr-x 0/0');
    await run('gzip', ['-t', join(out, 'a.tar.gz')]);
  });

  it('unpacking refuses links and paths outside the destination', async () => {
    const src = fresh('evil');
    writeFileSync(join(src, 'payload'), 'x');
    symlinkSync('/etc/passwd', join(src, 'link'));
    const out = fresh('evil-tgz');
    await run('tar', ['-czf', join(out, 'link.tar.gz'), '-C', src, 'payload', 'link']);
    const dest = fresh('dest');
    expect((await failure(extractTarGz(join(out, 'link.tar.gz'), dest, 'link.tar.gz'))).code).toBe('update.artifact_invalid');
    expect(existsSync(join(dest, 'link'))).toBe(false);
    await run('tar', ['-czf', join(out, 'dotdot.tar.gz'), '-C', src, '--transform', 's,^payload,../escaped,', 'payload']);
    const dest2 = fresh('dest');
    await failure(extractTarGz(join(out, 'dotdot.tar.gz'), dest2, 'dotdot.tar.gz'));
    expect(existsSync(join(dest2, '..', 'escaped'))).toBe(false);
  });
});

describe('install, update, prune, roll back', () => {
  let store: string;
  let data: string;
  beforeEach(() => {
    store = fresh('store');
    data = fresh('data');
  });

  it('keeps the current version and the bcl.update.keep most recent others, one shared runtime', async () => {
    for (const v of ['1.0.0', '1.1.0', '1.2.0', '1.3.0']) {
      await publishTree(store, 'tl', v);
      const outcome = await installTool(io(store, data), request('tl'));
      expect(outcome.to).toBe(v);
    }
    const install = new ToolInstall(installRoots({data} as never), 'tl');
    expect(install.installedVersions()).toEqual(['1.1.0', '1.2.0', '1.3.0']);
    expect(await runs(data, 'tl')).toBe('tl/1.3.0');
    const runtimes = readdirSync(join(data, 'runtimes'));
    expect(runtimes).toHaveLength(1);
    expect(statSync(join(data, 'runtimes', runtimes[0]!)).nlink).toBe(4);
    // Roll back twice: 1.2.0, then 1.3.0 again (the one before).
    expect((await rollbackTool(io(store, data), 'tl')).to).toBe('1.2.0');
    expect(await runs(data, 'tl')).toBe('tl/1.2.0');
    expect((await rollbackTool(io(store, data), 'tl', '1.1.0')).to).toBe('1.1.0');
    expect((await failure(rollbackTool(io(store, data), 'tl', '1.0.0'))).code).toBe('update.no_rollback');
  });

  it('never prunes the version the updater itself runs from', async () => {
    await publishTree(store, 'tl', '1.0.0');
    await installTool(io(store, data, {keep: 1}), request('tl'));
    const runningFrom = join(data, 'tools', 'tl', '1.0.0');
    for (const v of ['1.1.0', '1.2.0']) {
      await publishTree(store, 'tl', v);
      await installTool(io(store, data, {keep: 1, runningFrom}), request('tl'));
    }
    expect(new ToolInstall(installRoots({data} as never), 'tl').installedVersions()).toEqual(['1.0.0', '1.1.0', '1.2.0']);
  });

  it('refuses a release that does not start, or that is not what the manifest says', async () => {
    await publishTree(store, 'tl', '1.0.0');
    await installTool(io(store, data), request('tl'));
    await publishTree(store, 'tl', '1.1.0', releaseTree('tl', '1.1.0', {prints: 'Segmentation fault'}));
    const broken = await failure(installTool(io(store, data), request('tl')));
    expect(broken.code).toBe('update.smoke_failed');
    expect(broken.message).toContain('does not start');
    await publishTree(store, 'tl', '1.2.0', releaseTree('tl', '1.2.0', {releaseVersion: '9.9.9'}));
    expect((await failure(installTool(io(store, data), request('tl')))).code).toBe('update.artifact_invalid');
    // A release.json naming another runtime than the signed manifest: the shared one is not linked.
    await publishTree(store, 'tl', '1.3.0', releaseTree('tl', '1.3.0', {releaseRuntime: 'f'.repeat(64)}));
    expect((await failure(installTool(io(store, data), request('tl')))).code).toBe('update.artifact_invalid');
    expect(await runs(data, 'tl')).toBe('tl/1.0.0');
    expect(readdirSync(join(data, 'tools', 'tl')).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('refuses a manifest moved to another tool, a missing signature, a missing platform', async () => {
    await publishTree(store, 'aa', '1.0.0');
    mkdirSync(join(store, 'channels', 'stable'), {recursive: true});
    for (const ext of ['', '.sig']) writeFileSync(join(store, 'channels', 'stable', `bb.json${ext}`), readFileSync(join(store, 'channels', 'stable', `aa.json${ext}`)));
    expect((await failure(installTool(io(store, data), request('bb')))).code).toBe('update.manifest_mismatch');
    rmSync(join(store, 'channels', 'stable', 'aa.json.sig'));
    expect((await failure(installTool(io(store, data), request('aa')))).code).toBe('update.signature_missing');
    const other: Platform = platform === 'linux-x64' ? 'linux-arm64' : 'linux-x64';
    await publishTree(store, 'cc', '1.0.0');
    expect((await failure(installTool(io(store, data, {platform: other}), request('cc')))).code).toBe('update.no_artifact');
    expect(existsSync(join(data, 'tools', 'bb', 'current'))).toBe(false);
  });

  it('a full disk fails the update with its own message and leaves the current version', async () => {
    // A 3 MiB filesystem: 1.0.0 fits, 1.1.0 (another 1.2 MiB runtime, downloaded then unpacked) does not.
    const small = fresh('small-disk');
    await run('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', small]);
    try {
      const {randomBytes} = await import('node:crypto');
      await publishTree(store, 'tl', '1.0.0', releaseTree('tl', '1.0.0', {runtime: randomBytes(1_200_000)}));
      await installTool(io(store, small), request('tl'));
      await publishTree(store, 'tl', '1.1.0', releaseTree('tl', '1.1.0', {runtime: randomBytes(1_200_000)}));
      const e = await failure(installTool(io(store, small), request('tl')));
      expect(e.code).toBe('update.disk_full');
      expect(e.message).toContain(`not enough space in ${join(small, 'tools', 'tl')}`);
      expect(await runs(small, 'tl')).toBe('tl/1.0.0');
      expect(readdirSync(join(small, 'tools', 'tl')).filter((n) => n.startsWith('.'))).toEqual([]);
    } finally {
      await run('umount', [small]);
    }
  });

  it('takes over the lock of an updater that was killed, and removes what it left', async () => {
    await publishTree(store, 'tl', '1.0.0');
    await installTool(io(store, data), request('tl'));
    const toolDir = join(data, 'tools', 'tl');
    writeFileSync(join(toolDir, '.lock'), '999999\n');
    mkdirSync(join(toolDir, '.staging-1.1.0-dead'));
    symlinkSync('1.1.0', join(toolDir, '.current-dead'));
    await publishTree(store, 'tl', '1.1.0');
    expect((await installTool(io(store, data), request('tl'))).to).toBe('1.1.0');
    expect(readdirSync(toolDir).filter((e) => e.startsWith('.'))).toEqual([]);
    expect(readlinkSync(join(toolDir, 'current'))).toBe('1.1.0');
  });

  it('a forced reinstall of the current version ends with current on its version directory', async () => {
    await publishTree(store, 'tl', '1.0.0');
    await installTool(io(store, data), request('tl'));
    const toolDir = join(data, 'tools', 'tl');
    const outcome = await installTool(io(store, data), request('tl', {force: true}));
    expect(outcome).toMatchObject({from: '1.0.0', to: '1.0.0', action: 'reinstalled', downloaded: true});
    expect(readlinkSync(join(toolDir, 'current'))).toBe('1.0.0');
    expect(readdirSync(toolDir).filter((e) => e.startsWith('.'))).toEqual([]);
    expect(await runs(data, 'tl')).toBe('tl/1.0.0');
  });

  it.each(['replacing', 'replaced'] as const)('a forced reinstall stopped at %s is finished by the next run', async (point) => {
    await publishTree(store, 'tl', '1.0.0');
    await installTool(io(store, data), request('tl'));
    const toolDir = join(data, 'tools', 'tl');
    const stop = async (reached: string) => {
      if (reached === point) throw new Error(`stopped at ${point}`);
    };
    await expect(installTool(io(store, data, {pause: stop}), request('tl', {force: true}))).rejects.toThrow(`stopped at ${point}`);
    // current is on a complete tree under its temporary name: the tool runs, its version is the record's.
    expect(readlinkSync(join(toolDir, 'current'))).toMatch(/^\.replacing-1\.0\.0-/);
    expect(await runs(data, 'tl')).toBe('tl/1.0.0');
    expect(new ToolInstall(installRoots({data} as never), 'tl').currentVersion()).toBe('1.0.0');
    const next = await installTool(io(store, data), request('tl'));
    expect(next).toMatchObject({from: '1.0.0', to: '1.0.0', action: 'unchanged'});
    expect(readlinkSync(join(toolDir, 'current'))).toBe('1.0.0');
    expect(readdirSync(toolDir).filter((e) => e.startsWith('.'))).toEqual([]);
  });

  it('repairs current left on a staging tree by an older version, reading the version from its install record', async () => {
    await publishTree(store, 'tl', '1.0.0');
    await installTool(io(store, data), request('tl'));
    const toolDir = join(data, 'tools', 'tl');
    cpSync(join(toolDir, '1.0.0'), join(toolDir, '.staging-1.0.0-dead'), {recursive: true});
    symlinkSync('.staging-1.0.0-dead', join(toolDir, '.current-dead'));
    renameSync(join(toolDir, '.current-dead'), join(toolDir, 'current'));
    rmSync(join(toolDir, '1.0.0'), {recursive: true});
    expect(new ToolInstall(installRoots({data} as never), 'tl').currentVersion()).toBe('1.0.0');
    await publishTree(store, 'tl', '1.1.0');
    expect(await installTool(io(store, data), request('tl'))).toMatchObject({from: '1.0.0', to: '1.1.0', action: 'updated'});
    expect(readdirSync(toolDir).sort()).toEqual(['1.0.0', '1.1.0', 'current', 'state.json']);
    expect((await rollbackTool(io(store, data), 'tl')).to).toBe('1.0.0');
    expect(await runs(data, 'tl')).toBe('tl/1.0.0');
  });

  it('puts the shim in bcl.update.binDir when it is set', async () => {
    await publishTree(store, 'tl', '1.0.0');
    const bin = fresh('my-bin');
    const outcome = await installTool(io(store, data, {roots: {...installRoots({data} as never), bin}}), request('tl'));
    expect(outcome.shim).toBe(join(bin, 'tl'));
    expect((await run(join(bin, 'tl'), ['--version'])).stdout).toContain('tl/1.0.0');
  });

  it('follows the channel asked for explicitly, with its own rollback protection', async () => {
    await publishTree(store, 'tl', '1.0.0');
    await installTool(io(store, data), request('tl'));
    await publishTree(store, 'tl', '1.1.0-beta.1', undefined, {channel: 'beta'});
    const beta = await installTool(io(store, data), request('tl', {channel: 'beta', channelExplicit: true}));
    expect(beta).toMatchObject({channel: 'beta', from: '1.0.0', to: '1.1.0-beta.1', action: 'updated'});
    const state = JSON.parse(readFileSync(join(data, 'tools', 'tl', 'state.json'), 'utf8'));
    expect(state).toMatchObject({channel: 'beta', highest: {stable: '1.0.0', beta: '1.1.0-beta.1'}});
    expect(await runs(data, 'tl')).toBe('tl/1.1.0-beta.1');
  });

  it('records rollback protection per channel; --version and --allow-downgrade pass it explicitly', async () => {
    await publishTree(store, 'tl', '1.1.0');
    await installTool(io(store, data), request('tl'));
    await publishTree(store, 'tl', '1.0.0', undefined, {allowDowngrade: true});
    const e = await failure(installTool(io(store, data), request('tl')));
    expect(e.code).toBe('update.downgrade');
    expect(e.hint).toContain('--allow-downgrade');
    expect((await installTool(io(store, data), request('tl', {allowDowngrade: true}))).action).toBe('downgraded');
    expect(JSON.parse(readFileSync(join(data, 'tools', 'tl', 'state.json'), 'utf8')).highest).toEqual({stable: '1.1.0'});
  });
});

describe('HTTP store downloads', () => {
  it('refuses a server announcing another size than the signed one', async () => {
    const root = fresh('http');
    writeFileSync(join(root, 'a.bin'), Buffer.alloc(10_000, 1));
    const server = await startStaticServer(root);
    try {
      const {HttpClient} = await import('../../src/http/client.js');
      const http = new HttpClient({timeoutMs: 2000, retries: 0, env: {}, redactor: new Redactor(), userAgent: 'test'});
      const store = openStore(server.url, {http: () => http, cwd: '/'});
      const small = await failure(store.download('a.bin', join(root, 'out1'), {size: 5000}));
      expect(small.message).toContain('announces 10000 bytes, the signed manifest says 5000');
      server.fault('a.bin', 'short-length');
      const short = await failure(store.download('a.bin', join(root, 'out2'), {size: 10_000}));
      expect(short.code).toBe('update.size_mismatch');
      server.fault('a.bin', undefined);
      expect((await store.download('a.bin', join(root, 'out3'), {size: 10_000})).size).toBe(10_000);
      expect(await store.read('missing.json', {optional: true})).toBeUndefined();
    } finally {
      await server.stop();
    }
  });
});

describe('how the running copy was installed', () => {
  it('tells an installed release from an unpacked one, an npm install and a checkout', () => {
    const root = fresh('modes');
    const installed = join(root, 'share', 'bcl', 'tools', 'svctl', '1.2.0');
    mkdirSync(join(installed, 'lib'), {recursive: true});
    writeFileSync(join(installed, 'release.json'), '{}');
    writeFileSync(join(installed, 'install.json'), '{}');
    expect(runningCopy(join(installed, 'lib'))).toMatchObject({kind: 'installed', version: '1.2.0', roots: {tools: join(root, 'share', 'bcl', 'tools')}});
    const unpacked = join(root, 'opt', 'svctl');
    mkdirSync(join(unpacked, 'lib'), {recursive: true});
    writeFileSync(join(unpacked, 'release.json'), '{}');
    expect(runningCopy(join(unpacked, 'lib')).kind).toBe('unpacked');
    expect(runningCopy(join(root, 'global', 'node_modules', '@bcl', 'svctl')).kind).toBe('npm');
    expect(runningCopy(join(process.cwd(), 'packages', 'svctl')).kind).toBe('checkout');
  });
});

describe('versions', () => {
  it('orders prereleases before their release', () => {
    expect(['1.10.0', '1.2.0', '1.2.0-beta.2', '1.2.0-beta.10'].sort(compareVersions)).toEqual(['1.2.0-beta.2', '1.2.0-beta.10', '1.2.0', '1.10.0']);
  });
});
