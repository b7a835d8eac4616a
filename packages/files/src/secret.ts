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
  writeSecretFilesSync([{path, data}], options);
}

/**
 * Writes several secrets of one directory as writeSecretFileSync does each, as one change: every
 * target is checked before anything is written, every new content is written and fsynced under
 * its temporary name, then they are renamed into place one after the other (in the order given)
 * and the directory is fsynced once. A reader sees the old set or the new one but for the
 * moment between the renames, never a partial file; a failure before the renames changes
 * nothing.
 */
export function writeSecretFilesSync(files: readonly {path: string; data: string | Uint8Array}[], options: SecretWriteOptions = {}): void {
  const mode = options.mode ?? 0o600;
  if ((mode & 0o077) !== 0 || (mode & 0o600) === 0) throw new TypeError(`a secret file's mode gives nothing to the group or others, e.g. 0o600; got 0o${mode.toString(8)}`);
  const dirs = new Set(files.map((f) => dirname(f.path)));
  if (dirs.size > 1) throw new TypeError(`secrets written together are in one directory, got ${[...dirs].join(', ')}`);
  for (const f of files) checkSecretTarget(f.path, options.overwrite !== false);
  const staged: {tmp: string; path: string}[] = [];
  try {
    for (const f of files) {
      const tmp = join(dirname(f.path), `.${basename(f.path)}.${randomBytes(6).toString('hex')}.tmp`);
      writeNewFileSync(tmp, f.data, mode);
      staged.push({tmp, path: f.path});
    }
    while (staged.length > 0) {
      renameSync(staged[0]!.tmp, staged[0]!.path);
      staged.shift();
    }
  } finally {
    for (const s of staged) rmSync(s.tmp, {force: true});
  }
  for (const dir of dirs) fsyncPath(dir);
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
