import {createHash} from 'node:crypto';
import {cpSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {homedir} from 'node:os';
import {join} from 'node:path';
import {expect} from 'vitest';
import {isolatedHome, type IsolatedHome, runCli, type CliResult} from '@bcl/testkit';

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

  bcl(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
    return runCli('bcl', args, {env: {...this.env, ...env}});
  }

  run(tool: string, args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
    return exec(this.shim(tool), args, {env: {...this.env, ...env}});
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
