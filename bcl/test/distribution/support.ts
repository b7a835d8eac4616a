import {createHash} from 'node:crypto';
import {cpSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {homedir} from 'node:os';
import {join} from 'node:path';
import {Writable} from 'node:stream';
import {expect} from 'vitest';
import {isolatedHome, type IsolatedHome, runCli, type CliResult} from '@bcl/testkit';
import {type BuildRecord, publishReleases, type SigningKey, treeEntries, writeTarGz} from '@bcl/release';
import {currentPlatform} from '../../src/distribution/platforms.js';
import {openStore} from '../../src/distribution/store.js';
import {Ui} from '../../src/output/ui.js';
import {Redactor} from '../../src/process/redactor.js';

/** Runs any executable (an installed shim, an unpacked launcher) like runCli runs bin/<tool>. */
export function exec(file: string, args: readonly string[], options: {env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number} = {}): Promise<CliResult> {
  return runCli(file, args, options);
}

/**
 * The environment of a release build: the Node runtimes it downloads are cached with the
 * testkit's slow builds, and the machine's way to the npm registry (proxy, extra CA) is kept.
 */
export function buildCacheEnv(): Record<string, string> {
  const testkitCache = process.env.BCL_TESTKIT_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'bcl-testkit');
  const network = Object.fromEntries(
    ['NODE_EXTRA_CA_CERTS', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'NPM_CONFIG_REGISTRY', 'npm_config_registry']
      .filter((k) => process.env[k])
      .map((k) => [k, process.env[k]!]),
  );
  return {...network, XDG_CACHE_HOME: join(testkitCache, 'xdg')};
}

export function platform(): string {
  return `${process.platform}-${process.arch}`;
}

export async function buildRelease(home: IsolatedHome, tool: string, version: string, out: string): Promise<void> {
  const res = await runCli('bcl', ['release', 'build', '--tool', tool, '--platform', platform(), '--set-version', version, '--out', out, '--json'], {
    env: {...home.env, ...buildCacheEnv()},
    timeoutMs: 600_000,
  });
  expect(res.exitCode, res.stderr).toBe(0);
}

export async function publish(home: IsolatedHome, build: string, store: string, key: string, extra: string[] = [], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli('bcl', ['release', 'publish', '--store', store, '--channel', 'stable', '--key', key, ...extra, build, '--json'], {env: {...home.env, ...env}});
}

export function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

const COMMAND_TIMEOUT_MS = 60_000;

/** A person's machine: its own HOME, configured to install from `store` trusting `keys`. */
export class Machine {
  readonly home: IsolatedHome;

  constructor(store: string, keys: string[], extraEnv: Record<string, string> = {}) {
    this.home = isolatedHome();
    Object.assign(this.home.env, extraEnv);
    mkdirSync(join(this.home.xdg.config, 'bcl'), {recursive: true});
    writeFileSync(join(this.home.xdg.config, 'bcl', 'config.yaml'), `bcl:\n  update:\n    store: ${JSON.stringify(store)}\n    trustedKeys:\n${keys.map((k) => `      - ${JSON.stringify(k)}\n`).join('')}`);
  }

  get env(): Record<string, string> {
    return this.home.env;
  }

  shim(tool: string): string {
    return join(this.home.xdg.data, 'bcl', 'bin', tool);
  }

  toolDir(tool: string): string {
    return join(this.home.xdg.data, 'bcl', 'tools', tool);
  }

  // Every command here takes seconds: one that hangs is killed at a minute, well inside the test's
  // two, so the failure shows its exit (128) and what it printed, not only the test's timeout.
  bcl(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
    return runCli('bcl', args, {env: {...this.env, ...env}, timeoutMs: COMMAND_TIMEOUT_MS});
  }

  run(tool: string, args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
    return exec(this.shim(tool), args, {env: {...this.env, ...env}, timeoutMs: COMMAND_TIMEOUT_MS});
  }

  /** The version the installed tool reports, or the failure. */
  async version(tool: string): Promise<string> {
    const res = await this.run(tool, ['--version']);
    expect(res.exitCode, res.stderr).toBe(0);
    return res.stdout.split(' ')[0]!.split('/')[1]!;
  }

  /** The installed tool runs a real command (its configuration, as JSON). */
  async runsRealCommand(tool: string): Promise<void> {
    const res = await this.run(tool, ['config', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.json().ok).toBe(true);
  }

  remove(): void {
    this.home.remove();
  }
}

export function copyStore(from: string, to: string): string {
  cpSync(from, to, {recursive: true});
  return to;
}

export interface SyntheticOptions {
  /** What `bin/<tool> --version` prints (default: what a real release prints). */
  prints?: string;
  /** The version release.json claims (default: the version). */
  releaseVersion?: string;
  /** The runtime sha256 release.json claims (default: the real one). */
  releaseRuntime?: string;
  runtime?: Buffer;
}

/** A small release tree in `tree`: a launcher that prints what `--version` prints, and a 1 MiB "runtime". */
export function syntheticRelease(tree: string, tool: string, version: string, options: SyntheticOptions = {}): string {
  const platform = currentPlatform()!;
  mkdirSync(join(tree, 'bin'), {recursive: true});
  mkdirSync(join(tree, 'runtime', 'bin'), {recursive: true});
  mkdirSync(join(tree, 'lib'), {recursive: true});
  writeFileSync(join(tree, 'bin', tool), `#!/bin/sh\necho "${options.prints ?? `${tool}/${version} ${platform} node-v0`}"\n`, {mode: 0o755});
  writeFileSync(join(tree, 'runtime', 'bin', 'node'), options.runtime ?? Buffer.alloc(1024 * 1024, 7), {mode: 0o755});
  writeFileSync(join(tree, 'lib', 'package.json'), JSON.stringify({name: tool, version}));
  const runtimeSha256 = options.releaseRuntime ?? sha256(join(tree, 'runtime', 'bin', 'node'));
  writeFileSync(join(tree, 'release.json'), JSON.stringify({schema: 1, tool, version: options.releaseVersion ?? version, platform, node: '0', runtimeSha256, commit: 'test'}));
  return tree;
}

/** Packs `tree` into `build` and publishes it to the directory store `store` with the publisher's own code. */
export async function publishSynthetic(store: string, build: string, tree: string, tool: string, version: string, signer: SigningKey, extra: {allowDowngrade?: boolean; channel?: string} = {}): Promise<void> {
  const platform = currentPlatform()!;
  mkdirSync(build, {recursive: true});
  const file = `${tool}-${version}-${platform}.tar.gz`;
  const {sha256: hash, size} = await writeTarGz(treeEntries(tree), join(build, file), 0);
  const record: BuildRecord = {schema: 1, commit: 'test', tools: [{tool, version, artifacts: [{platform, file, sha256: hash, size, node: '0', runtimeSha256: sha256(join(tree, 'runtime', 'bin', 'node'))}]}]};
  writeFileSync(join(build, 'build.json'), JSON.stringify(record));
  const quiet = new Ui({stderr: new Writable({write: (_c, _e, cb) => cb()}), json: false, quiet: true, verbose: false, color: false, redactor: new Redactor()});
  await publishReleases(
    {buildDir: build, store: openStore(store, {http: () => undefined as never, cwd: '/'}), channel: extra.channel ?? 'stable', keys: [signer], expiresInMs: 86_400_000, allowDowngrade: extra.allowDowngrade ?? false, now: () => new Date()},
    quiet,
  );
}
