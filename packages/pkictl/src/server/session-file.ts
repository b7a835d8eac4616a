/**
 * The session token `pkictl login` got from a PKI server: a secret, kept in
 * $XDG_DATA_HOME/bcl/pkictl/sessions/<server digest>.json (0600, in a 0700 directory), never
 * printed, never in --json output. One file per server URL.
 */
import {createHash} from 'node:crypto';
import {existsSync, lstatSync, mkdirSync, readFileSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import {invalidInput} from '@bcl/core';
import {writeSecretFileSync} from '@bcl/files';
import {pkictlDataDir} from '@bcl/pki-local';
import type {PkiIo} from '../core/io.js';

export interface StoredSession {
  version: 1;
  server: string;
  email: string;
  name: string | null;
  admin: boolean;
  expiresAt: string;
  token: string;
}

export function sessionFile(io: Pick<PkiIo, 'env'>, server: string): string {
  return join(pkictlDataDir(io.env), 'sessions', `${createHash('sha256').update(server).digest('hex').slice(0, 24)}.json`);
}

export function readSession(io: Pick<PkiIo, 'env' | 'redactor'>, server: string): StoredSession | undefined {
  const file = sessionFile(io, server);
  if (!existsSync(file)) return undefined;
  // A token file others can read is not ours to trust (or to keep using).
  const st = lstatSync(file);
  if (!st.isFile() || (st.mode & 0o077) !== 0) {
    throw invalidInput('pkictl.session_file_mode', `${file} is readable by others (mode ${(st.mode & 0o777).toString(8)}) or not a plain file; it holds a secret`, {hint: `Remove it (rm ${file}) and run \`pkictl login\` again.`});
  }
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as StoredSession;
    if (s.version !== 1 || s.server !== server || typeof s.token !== 'string') return undefined;
    io.redactor.add(s.token);
    return s;
  } catch {
    return undefined;
  }
}

export function writeSession(io: Pick<PkiIo, 'env'>, session: StoredSession): string {
  const file = sessionFile(io, session.server);
  mkdirSync(join(pkictlDataDir(io.env), 'sessions'), {recursive: true, mode: 0o700});
  writeSecretFileSync(file, `${JSON.stringify(session, null, 2)}\n`);
  return file;
}

export function removeSession(io: Pick<PkiIo, 'env'>, server: string): void {
  rmSync(sessionFile(io, server), {force: true});
}
