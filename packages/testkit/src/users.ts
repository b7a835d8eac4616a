import {execFileSync} from 'node:child_process';
import {chownSync} from 'node:fs';

/**
 * Servers that refuse to run as root (PostgreSQL, MariaDB's defaults) run as an unprivileged
 * system user when the tests run as root, as they do in CI containers.
 */
export function serviceUser(preferred: string[]): {uid: number; gid: number; name: string} | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of [...preferred, 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], {encoding: 'utf8'}).trim());
      const gid = Number(execFileSync('id', ['-g', name], {encoding: 'utf8'}).trim());
      return {uid, gid, name};
    } catch {
      // try the next one
    }
  }
  return undefined;
}

export function chownTo(path: string, user: {uid: number; gid: number} | undefined): void {
  if (user) chownSync(path, user.uid, user.gid);
}
