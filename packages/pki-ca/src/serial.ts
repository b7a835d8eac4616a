import {randomBytes} from 'node:crypto';
import {normalizeSerial} from '@bcl/pki-local';
import {invalid} from './errors.js';

/** A random positive serial of 16 bytes (126 random bits), upper-case hex as openssl prints it. */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40; // positive, and always 16 bytes long
  return bytes.toString('hex').toUpperCase();
}

/**
 * A serial chosen by the caller (a server reserves one in its database before signing), checked:
 * hex, positive, 9 to 20 bytes so that at least 64 random bits fit (RFC 5280 and CA/B Forum).
 */
export function checkSerial(serial: string): string {
  const s = normalizeSerial(serial);
  if (!s || s.length < 18 || s.length > 40 || Number.parseInt(s.slice(0, 2), 16) >= 0x80 || /^00/.test(s)) {
    throw invalid('serial_invalid', `serial ${serial}: expected 9 to 20 bytes of hex, positive, with no leading zero byte`, {details: {serial}});
  }
  return s;
}
