import {randomBytes} from 'node:crypto';
import {lstatSync, renameSync, rmSync, type Stats} from 'node:fs';
import {basename, dirname, join} from 'node:path';
import {fsyncPath} from './atomic.js';
import {FileSafetyError} from './errors.js';
import {writeNewFileSync} from './staged.js';

export interface SecretWriteOptions {
  /** 0o600 (default) or 0o400: never bits for the group or others. */
  mode?: number;
  /** Replace an existing file that passes the checks (default true); false refuses any existing file. */
  overwrite?: boolean;
}

/**
 * Writes a secret (a private key, a token, a password) to `path`. The rule, checked on `path`
 * itself before anything is written (lstat, so a link is never followed):
 *
 * - nothing there: the file is created;
 * - a symbolic link, dangling or not: refused ("symlink");
 * - anything but a regular file: refused ("not_regular");
 * - a file owned by another user: refused ("not_owner");
 * - a file whose mode gives the group or others any permission: refused ("too_open"), because
 *   what it held was readable by them, and a caller that replaces it must decide that knowingly;
 * - an existing file with `overwrite: false`: refused ("exists").
 *
 * The new content goes to a fresh temporary file in the same directory, created with O_EXCL and
 * O_NOFOLLOW at the final mode, fsynced, then renamed over `path` (the directory fsynced), so the
 * result is always a new inode with exactly `mode`, whatever was there, and never a partial file.
 */
export function writeSecretFileSync(path: string, data: string | Uint8Array, options: SecretWriteOptions = {}): void {
  const mode = options.mode ?? 0o600;
  if ((mode & 0o077) !== 0 || (mode & 0o600) === 0) throw new TypeError(`a secret file's mode gives nothing to the group or others, e.g. 0o600; got 0o${mode.toString(8)}`);
  checkSecretTarget(path, options.overwrite !== false);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  writeNewFileSync(tmp, data, mode);
  try {
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, {force: true});
    throw error;
  }
  fsyncPath(dir);
}

/** The asynchronous form of writeSecretFileSync (same rule). */
export async function writeSecretFile(path: string, data: string | Uint8Array, options: SecretWriteOptions = {}): Promise<void> {
  writeSecretFileSync(path, data, options);
}

/**
 * The checks of writeSecretFileSync alone, for a caller that wants to refuse before doing
 * expensive work (generating a key): throws FileSafetyError, returns whether the file exists.
 */
export function checkSecretTarget(path: string, overwrite = true): boolean {
  let stat: Stats;
  try {
    stat = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  if (stat.isSymbolicLink()) {
    throw new FileSafetyError('symlink', path, `${path} is a symbolic link; a secret is never written through one`, 'Remove the link, or give the real path.');
  }
  if (!stat.isFile()) {
    throw new FileSafetyError('not_regular', path, `${path} exists and is not a regular file`, 'Give the path of a file.');
  }
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw new FileSafetyError('not_owner', path, `${path} belongs to another user (uid ${stat.uid}); a secret is only written into the user's own file`, 'Remove it, or choose another path.');
  }
  const bits = stat.mode & 0o777;
  if ((bits & 0o077) !== 0) {
    throw new FileSafetyError(
      'too_open',
      path,
      `${path} exists with mode ${bits.toString(8).padStart(4, '0')}, readable or writable by other users; a secret is not written into it`,
      `What it holds may have been read by others. Remove it (or chmod 600 ${path}) and try again.`,
      bits,
    );
  }
  if (!overwrite) {
    throw new FileSafetyError('exists', path, `${path} already exists`, 'Choose another path, or replace it explicitly (--force).');
  }
  return true;
}
