import {spawn} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {repoRoot} from './cli.js';
import {terminate} from './run.js';
import {tempDir} from './temp.js';
import {waitFor} from './wait.js';

/**
 * The real cssh-daemon (bin/cssh-daemon run) of a host, polling a cssh-authz every `interval`
 * and keeping the files of an sshd (its RevokedKeys and TrustedUserCAKeys) and, with an
 * identity, the host's unix accounts. As root it runs the real useradd and usermod.
 */
export interface CsshDaemonOptions {
  server: string;
  serverCa: string;
  hostname: string;
  krlFile: string;
  trustedCaKeysFile: string;
  /** The host's certificate (clientAuth; the hostname as a DNS name or address); without it accounts are not managed. */
  identity?: {cert: string; key: string};
  interval?: string;
  staleAfter?: string;
  defaultShell?: string;
}

export interface CsshDaemon {
  configFile: string;
  stateDir: string;
  pid: number;
  log(): string;
  /** Waits for the next cycle to be recorded in status.json after now. */
  nextCycle(timeoutMs?: number): Promise<void>;
  /** SIGHUP: refresh at once. */
  poke(): void;
  stop(): Promise<void>;
}

export async function startCsshDaemon(options: CsshDaemonOptions): Promise<CsshDaemon> {
  const dir = tempDir('bcl-cssh-daemon-');
  const configFile = join(dir.path, 'config.yaml');
  const stateDir = join(dir.path, 'state');
  writeFileSync(
    configFile,
    [
      `server: ${options.server}`,
      `serverCa: ${options.serverCa}`,
      `hostname: ${options.hostname}`,
      ...(options.identity ? ['identity:', `  cert: ${options.identity.cert}`, `  key: ${options.identity.key}`] : []),
      'files:',
      `  krl: ${options.krlFile}`,
      `  trustedCaKeys: ${options.trustedCaKeysFile}`,
      `stateDir: ${stateDir}`,
      `interval: ${options.interval ?? '1s'}`,
      `staleAfter: ${options.staleAfter ?? '5m'}`,
      'requestTimeout: 5s',
      'accounts:',
      `  manage: ${options.identity ? 'true' : 'false'}`,
      `  defaultShell: ${options.defaultShell ?? '/bin/sh'}`,
      '',
    ].join('\n'),
  );
  const child = spawn(join(repoRoot, 'bin', 'cssh-daemon'), ['run', '--config', configFile], {stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, LANG: 'C.UTF-8'}});
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const cycleAfter = (since: number) => {
    try {
      return Date.parse((JSON.parse(readFileSync(join(stateDir, 'status.json'), 'utf8')) as {updatedAt: string}).updatedAt) > since;
    } catch {
      return false;
    }
  };
  const nextCycle = async (timeoutMs = 30_000) => {
    const since = Date.now();
    await waitFor('a cssh-daemon cycle', () => {
      if (exited) throw new Error(`cssh-daemon exited:\n${log}`);
      return cycleAfter(since);
    }, {timeoutMs, intervalMs: 100});
  };
  await nextCycle().catch((error: Error) => {
    child.kill('SIGKILL');
    dir.remove();
    throw error;
  });
  return {
    configFile,
    stateDir,
    pid: child.pid!,
    log: () => log,
    nextCycle,
    poke: () => child.kill('SIGHUP'),
    async stop() {
      await terminate(child, exit, exited);
      dir.remove();
    },
  };
}
