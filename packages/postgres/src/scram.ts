// No database driver here: `@bcl/postgres/scram` is light enough for a CLI (dbctl) to import.
import {createHash, createHmac, pbkdf2Sync, randomBytes} from 'node:crypto';

/**
 * PostgreSQL's SCRAM-SHA-256 verifier for a password (RFC 5802/7677, as libpq's
 * PQencryptPasswordConn computes it), so the plain password never reaches the server or its logs.
 */
export function scramVerifier(password: string, iterations = 4096, salt: Buffer = randomBytes(16)): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
