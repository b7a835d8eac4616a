import {execFile} from 'node:child_process';
import {readFileSync} from 'node:fs';
import type {AccountSystem, PasswdEntry} from './accounts.js';

type Run = (command: string, args: readonly string[]) => Promise<{code: number; stdout: string; stderr: string}>;

const run: Run = (command, args) =>
  new Promise((resolve) => {
    execFile(command, [...args], {timeout: 30_000, encoding: 'utf8'}, (error, stdout, stderr) => {
      const code = error ? (typeof (error as {code?: unknown}).code === 'number' ? ((error as {code: number}).code) : 127) : 0;
      resolve({code, stdout, stderr: stderr || (error && code === 127 ? error.message : '')});
    });
  });

/**
 * The host's own tools: getent (any account source: local files, LDAP... so a login that exists
 * elsewhere is never shadowed by a local one), useradd and usermod. New accounts get a home, the
 * grant's shell, their own group and the password field "*": no password, yet not locked, so
 * sshd admits them with UsePAM no as with yes. Locking sets "!" and an expiry date in the past,
 * which sshd and PAM both refuse; unlocking undoes both.
 */
export function systemAccounts(runner: Run = run): AccountSystem {
  const must = async (command: string, args: string[]) => {
    const out = await runner(command, args);
    if (out.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${out.code}): ${out.stderr.trim()}`);
  };
  return {
    async lookup(login) {
      const out = await runner('getent', ['passwd', login]);
      if (out.code === 2) return undefined;
      if (out.code !== 0) throw new Error(`getent passwd ${login} failed (exit ${out.code}): ${out.stderr.trim()}`);
      return parsePasswdLine(out.stdout.trim().split('\n')[0] ?? '');
    },
    create: (login, shell) => must('useradd', ['--create-home', '--shell', shell, '--user-group', '--password', '*', '--comment', 'cssh-daemon', login]),
    lock: (login) => must('usermod', ['--lock', '--expiredate', '1', login]),
    unlock: (login) => must('usermod', ['--unlock', '--expiredate', '', login]),
    setShell: (login, shell) => must('usermod', ['--shell', shell, login]),
    shells() {
      try {
        return readFileSync('/etc/shells', 'utf8')
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l.startsWith('/'));
      } catch {
        return [];
      }
    },
  };
}

export function parsePasswdLine(line: string): PasswdEntry | undefined {
  const [login, , uid, , , , shell] = line.split(':');
  if (!login || uid === undefined || !/^\d+$/.test(uid)) return undefined;
  return {login, uid: Number(uid), shell: shell ?? ''};
}
