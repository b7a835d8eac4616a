import {createHash, randomBytes} from 'node:crypto';
import {invalidInput} from '@bcl/core';
import {writeSecretFileSync} from '@bcl/files';

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

/**
 * Writes a password to a new 0600 file (@bcl/files' secret rule: a symlink, or an existing file
 * others could read, is refused rather than written through or kept as it was).
 */
export function writePasswordFile(path: string, password: string): void {
  try {
    writeSecretFileSync(path, `${password}\n`);
  } catch (error) {
    const hint = (error as {hint?: string}).hint;
    throw invalidInput('dbctl.password_file', `--password-file: cannot write ${path}: ${(error as Error).message}`, {...(hint ? {hint} : {}), details: {flag: '--password-file', file: path}});
  }
}
