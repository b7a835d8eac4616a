import {createHash, randomBytes} from 'node:crypto';
import {closeSync, fchmodSync, openSync, writeSync} from 'node:fs';
import {invalidInput} from '@bcl/core';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A password from the operating system's CSPRNG: 32 characters of [A-Za-z0-9] (190 bits), by
 * rejection sampling so every character is equally likely. Letters and digits only, so it needs
 * no quoting in URLs, shells or configuration files.
 */
export function generatePassword(length = 32): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 * 62: bytes above it would bias the first characters.
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

/** PostgreSQL's SCRAM-SHA-256 verifier: one implementation, shared with the servers' role set-up. */
export {scramVerifier as scramSha256Verifier} from '@bcl/postgres/scram';

/** MariaDB's mysql_native_password hash ("*" + SHA1(SHA1(password)) in hex), for IDENTIFIED BY PASSWORD. */
export function mysqlNativeHash(password: string): string {
  const inner = createHash('sha1').update(password, 'utf8').digest();
  return `*${createHash('sha1').update(inner).digest('hex').toUpperCase()}`;
}

/** Writes a password to a file readable by its owner only (0600, also when the file existed). */
export function writePasswordFile(path: string, password: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'w', 0o600);
  } catch (error) {
    throw invalidInput('dbctl.password_file', `--password-file: cannot write ${path}: ${(error as Error).message}`, {details: {flag: '--password-file', file: path}});
  }
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, `${password}\n`);
  } finally {
    closeSync(fd);
  }
}
