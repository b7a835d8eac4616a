import {createCipheriv, createDecipheriv, randomBytes} from 'node:crypto';
import {readFileSync, statSync} from 'node:fs';
import {InvalidFileError} from './yaml-file.js';

/**
 * The service's secrets key: 32 random bytes (base64 in a 0600 file, `cssh-authz secrets-key`)
 * that seal what the store keeps secret: TOTP secrets and the private key of a rotated CA. Every
 * replica reads the same file; a database dump alone reveals none of them. AES-256-GCM with a
 * random nonce; the purpose ("totp:ann@example.com") is authenticated with it, so a sealed value
 * moved to another row does not open.
 */
export class SecretsKey {
  private constructor(private readonly key: Buffer) {}

  static load(path: string): SecretsKey {
    let text: string;
    try {
      if ((statSync(path).mode & 0o077) !== 0) throw new InvalidFileError(`${path}: the secrets key is readable by other users; run chmod 600 ${path}`, path);
      text = readFileSync(path, 'utf8').trim();
    } catch (error) {
      if (error instanceof InvalidFileError) throw error;
      throw new InvalidFileError(`cannot read the secrets key ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file (create it with cssh-authz secrets-key --out)' : (error as Error).message}`, path);
    }
    const key = SecretsKey.fromText(text);
    if (!key) throw new InvalidFileError(`${path}: expected 32 bytes in base64 (cssh-authz secrets-key --out writes one)`, path);
    return key;
  }

  /** The key in a key file's text, or undefined when it is not 32 bytes of base64. */
  static fromText(text: string): SecretsKey | undefined {
    const t = text.trim();
    const key = Buffer.from(t, 'base64');
    return key.length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(t) ? new SecretsKey(key) : undefined;
  }

  /** A new key file's content. */
  static generate(): string {
    return `${randomBytes(32).toString('base64')}\n`;
  }

  seal(plain: string, purpose: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(purpose));
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', nonce.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join('.');
  }

  /** Throws when the value was sealed with another key or for another purpose. */
  open(sealed: string, purpose: string): string {
    const [version, nonce, tag, data] = sealed.split('.');
    if (version !== 'v1' || !nonce || !tag || data === undefined) throw new Error('not a sealed value');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64'));
    decipher.setAAD(Buffer.from(purpose));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(`cannot open a sealed ${purpose.split(':')[0]} secret: sealed with another secrets key`);
    }
  }
}
