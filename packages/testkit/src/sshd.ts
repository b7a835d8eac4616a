import {spawn} from 'node:child_process';
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {connect} from 'node:net';
import {join} from 'node:path';
import {writeFileAtomicSync} from '@bcl/files';
import {freePort} from './ports.js';
import {run} from './run.js';
import {waitFor} from './wait.js';

/**
 * A real OpenSSH server (Debian's openssh-server, installed by scripts/lib/cssh.sh) on a free
 * port of 127.0.0.1, with its own configuration, host key, TrustedUserCAKeys, RevokedKeys and
 * optionally an AuthorizedPrincipalsCommand or AuthorizedPrincipalsFile. It accepts only user
 * certificates (no passwords, no authorized_keys).
 *
 * sshd must run as root (privilege separation), and it refuses an AuthorizedPrincipalsCommand
 * unless the program and every directory above it are root-owned and not writable by group or
 * others: /tmp (mode 1777) does not qualify, so the harness keeps its files under
 * /run/bcl-testkit (root, 0755), where the unprivileged command user can still reach them.
 */
export interface SshdOptions {
  /** The TrustedUserCAKeys file content: one or more CA public key lines. */
  trustedUserCaKeys: string;
  /** The initial RevokedKeys file (a KRL); default: an empty file (nothing revoked). */
  revokedKeys?: Buffer | string;
  /**
   * An AuthorizedPrincipalsCommand: a shell script body (after "#!/bin/sh") written to a
   * root-owned file sshd accepts, run as `user` (default nobody) with sshd's tokens in `args`.
   */
  principalsCommand?: {script: string; args: string; user?: string};
  /** AuthorizedPrincipalsFile contents per login (login -> accepted principals). */
  principalsFiles?: Record<string, string[]>;
  /** Extra sshd_config lines, placed first (sshd takes the first value of a keyword). */
  config?: string[];
  logLevel?: 'INFO' | 'VERBOSE' | 'DEBUG1' | 'DEBUG3';
}

export interface SshdServer {
  host: string;
  port: number;
  dir: string;
  configFile: string;
  /** The host's public key line, and a known_hosts file that trusts it for [127.0.0.1]:port. */
  hostKey: string;
  knownHostsFile: string;
  revokedKeysFile: string;
  /** The TrustedUserCAKeys file (sshd reads it at every authentication). */
  trustedUserCaKeysFile: string;
  logFile: string;
  /** The log so far. */
  log(): string;
  /** Replaces the KRL atomically (sshd reads it at every authentication). */
  setRevokedKeys(data: Buffer | string): void;
  /** ssh options to reach this server with strict host key checking and no user config. */
  sshOptions(): string[];
  stop(): Promise<void>;
}

export const SSHD = '/usr/sbin/sshd';
const RUN_ROOT = '/run/bcl-testkit';

export async function startSshd(options: SshdOptions): Promise<SshdServer> {
  if (process.getuid?.() !== 0) {
    throw new Error('the sshd harness needs root: sshd must start as root for privilege separation (tests and CI run as root)');
  }
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: run scripts/lib/cssh.sh (installs Debian's openssh-server)`);
  mkdirSync('/run/sshd', {recursive: true, mode: 0o755});
  mkdirSync(RUN_ROOT, {recursive: true, mode: 0o755});
  chmodSync(RUN_ROOT, 0o755);
  const dir = mkdtempSync(join(RUN_ROOT, 'sshd-'));
  chmodSync(dir, 0o755);
  const file = (name: string) => join(dir, name);
  let child: ReturnType<typeof spawn> | undefined;
  try {
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bcl-testkit sshd', '-f', file('ssh_host_ed25519_key')]);
    const hostKey = readFileSync(file('ssh_host_ed25519_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
    writeFileSync(file('trusted_user_ca_keys.pub'), options.trustedUserCaKeys.endsWith('\n') ? options.trustedUserCaKeys : `${options.trustedUserCaKeys}\n`, {mode: 0o644});
    writeFileSync(file('revoked.krl'), options.revokedKeys ?? '', {mode: 0o644});
    const lines = [...(options.config ?? [])];
    if (options.principalsCommand) {
      writeFileSync(file('principals-command'), `#!/bin/sh\n${options.principalsCommand.script}\n`, {mode: 0o755});
      chmodSync(file('principals-command'), 0o755);
      lines.push(`AuthorizedPrincipalsCommand ${file('principals-command')} ${options.principalsCommand.args}`, `AuthorizedPrincipalsCommandUser ${options.principalsCommand.user ?? 'nobody'}`);
    }
    if (options.principalsFiles) {
      mkdirSync(file('principals'), {mode: 0o755});
      for (const [login, principals] of Object.entries(options.principalsFiles)) {
        writeFileSync(join(file('principals'), login), `${principals.join('\n')}\n`, {mode: 0o644});
      }
      lines.push(`AuthorizedPrincipalsFile ${file('principals')}/%u`);
    }
    const port = await freePort();
    const defaults: [string, string][] = [
      ['ListenAddress', `127.0.0.1:${port}`],
      ['HostKey', file('ssh_host_ed25519_key')],
      ['PidFile', file('sshd.pid')],
      ['TrustedUserCAKeys', file('trusted_user_ca_keys.pub')],
      ['RevokedKeys', file('revoked.krl')],
      ['AuthorizedKeysFile', 'none'],
      ['PubkeyAuthentication', 'yes'],
      ['PasswordAuthentication', 'no'],
      ['KbdInteractiveAuthentication', 'no'],
      ['UsePAM', 'no'],
      ['PermitRootLogin', 'no'],
      ['StrictModes', 'yes'],
      ['MaxStartups', '50:30:100'],
      ['LogLevel', options.logLevel ?? 'VERBOSE'],
    ];
    const given = new Set(lines.map((l) => l.trim().split(/\s+/)[0]?.toLowerCase()));
    for (const [key, value] of defaults) if (!given.has(key.toLowerCase())) lines.push(`${key} ${value}`);
    writeFileSync(file('sshd_config'), `${lines.join('\n')}\n`, {mode: 0o644});
    await run(SSHD, ['-t', '-f', file('sshd_config')]);
    writeFileSync(file('known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`, {mode: 0o644});
    writeFileSync(file('sshd.log'), '', {mode: 0o600});
    child = spawn(SSHD, ['-D', '-f', file('sshd_config'), '-E', file('sshd.log')], {stdio: ['ignore', 'ignore', 'pipe']});
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += d));
    const exited = new Promise<number>((resolve) => child!.once('exit', (code) => resolve(code ?? 1)));
    let dead = false;
    void exited.then(() => (dead = true));
    await waitFor(`sshd on 127.0.0.1:${port}`, async () => {
      if (dead) throw new Error(`sshd exited: ${stderr}${readFileSync(file('sshd.log'), 'utf8')}`);
      return readFileSync(file('sshd.log'), 'utf8').includes('Server listening') && (await canConnect(port));
    }, {timeoutMs: 20_000});
    const server: SshdServer = {
      host: '127.0.0.1',
      port,
      dir,
      configFile: file('sshd_config'),
      hostKey,
      knownHostsFile: file('known_hosts'),
      revokedKeysFile: file('revoked.krl'),
      trustedUserCaKeysFile: file('trusted_user_ca_keys.pub'),
      logFile: file('sshd.log'),
      log: () => readFileSync(file('sshd.log'), 'utf8'),
      setRevokedKeys(data) {
        writeFileAtomicSync(file('revoked.krl'), data, {mode: 0o644});
      },
      sshOptions: () => [
        '-F', '/dev/null',
        '-p', String(port),
        '-o', `UserKnownHostsFile=${file('known_hosts')}`,
        '-o', 'StrictHostKeyChecking=yes',
        '-o', 'BatchMode=yes',
        '-o', 'ConnectTimeout=10',
        '-o', 'LogLevel=ERROR',
      ],
      async stop() {
        if (!dead) {
          child!.kill('SIGTERM');
          const timer = setTimeout(() => child!.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }
        rmSync(dir, {recursive: true, force: true});
      },
    };
    return server;
  } catch (error) {
    child?.kill('SIGKILL');
    const log = existsSync(file('sshd.log')) ? readFileSync(file('sshd.log'), 'utf8').slice(-2000) : '';
    rmSync(dir, {recursive: true, force: true});
    throw new Error(`sshd did not start: ${(error as Error).message}${log ? `\nlog:\n${log}` : ''}`);
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({host: '127.0.0.1', port}, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/**
 * Unix accounts to log in as (principals are logins): created when missing, with a shell, a
 * home and a password field of "*" (no password, yet not "locked", which sshd would refuse).
 */
export async function ensureLoginUsers(names: readonly string[]): Promise<void> {
  for (const name of names) {
    if ((await run('id', ['-u', name], {allowFailure: true})).code === 0) continue;
    if (process.getuid?.() !== 0) throw new Error(`user ${name} does not exist and only root can create it`);
    // useradd takes a lock on /etc/passwd; parallel test files may collide: retry.
    for (let attempt = 1; ; attempt++) {
      const out = await run('useradd', ['--create-home', '--shell', '/bin/sh', '--comment', 'BCL test login', '--password', '*', name], {allowFailure: true});
      if (out.code === 0 || out.code === 9 /* exists: created by a parallel run */) break;
      if (attempt >= 10) throw new Error(`useradd ${name} failed: ${out.stderr}`);
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}
