/**
 * Keys: which public keys this PKI certifies, detached signatures, certificate fingerprints and
 * renewal proofs. Node's crypto only (light: a read path can import it without @peculiar/x509).
 */
import {createHash, createPublicKey, type KeyObject, sign, verify, X509Certificate} from 'node:crypto';
import type {KeyType} from '@bcl/pki-local';
import {refused} from './errors.js';

export type {KeyType} from '@bcl/pki-local';
export const KEY_TYPES = ['ecdsa-p256', 'rsa-3072', 'ed25519'] as const satisfies readonly KeyType[];

/** What a public key is, when the CA does not certify it: a description and whether it is weak. */
export interface UnsupportedKey {
  unsupported: string;
  /** Too weak for any certificate (RSA below 2048 bits, curves below 256 bits): refused whatever the policy says. */
  weak: boolean;
}

const WEAK_CURVES = new Set(['prime192v1', 'P-192', 'secp192k1', 'secp224r1', 'P-224', 'secp224k1', 'prime239v1', 'prime239v2', 'prime239v3', 'prime192v2', 'prime192v3']);

/** The key type of a public key, or what it is when this PKI does not certify it. */
export function classifyKey(key: KeyObject): KeyType | UnsupportedKey {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = details.namedCurve ?? '?';
      if (curve === 'prime256v1' || curve === 'P-256') return 'ecdsa-p256';
      return {unsupported: `EC ${curve}`, weak: WEAK_CURVES.has(curve) || curve.startsWith('sect') || curve.startsWith('c2')};
    }
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      return bits >= 3072 ? 'rsa-3072' : {unsupported: `RSA-${bits || '?'}`, weak: bits < 2048};
    }
    case 'ed25519':
      return 'ed25519';
    default:
      return {unsupported: key.asymmetricKeyType ?? 'unknown', weak: key.asymmetricKeyType === 'dsa' || key.asymmetricKeyType === 'dh'};
  }
}

/**
 * The key type of a subject public key, checked against the types the policy allows. `where`
 * names the request in the message ("request 1a2b: requests/1a2b/csr.pem").
 */
export function requireKeyType(key: KeyObject, allowed: readonly KeyType[], where: string): KeyType {
  const type = classifyKey(key);
  if (typeof type !== 'string') {
    throw refused('key_refused', `${where} carries a${type.weak ? ' weak' : 'n'} ${type.unsupported} key; this CA issues for ${allowed.join(', ')}`, {details: {key: type.unsupported}});
  }
  if (!allowed.includes(type)) throw refused('key_refused', `${where} carries a ${type} key; this CA issues for ${allowed.join(', ')}`, {details: {key: type}});
  return type;
}

/** The digest used with a key for signatures (Ed25519 signs without a separate digest). */
function digestFor(key: KeyObject): string | null {
  return key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
}

/** A detached signature (base64) over data, with SHA-256 (or Ed25519's own). */
export function signData(data: Buffer | string, key: KeyObject): string {
  return sign(digestFor(key), Buffer.from(data), key).toString('base64');
}

export function verifyData(data: Buffer | string, signature: string, publicKey: KeyObject): boolean {
  try {
    return verify(digestFor(publicKey), Buffer.from(data), publicKey, Buffer.from(signature.trim(), 'base64'));
  } catch {
    return false;
  }
}

/** Whether a private key belongs to a public key. */
export function keysMatch(privateKey: KeyObject, publicKey: KeyObject): boolean {
  const derived = createPublicKey(privateKey).export({type: 'spki', format: 'der'});
  return derived.equals(publicKey.export({type: 'spki', format: 'der'}));
}

/** SHA-256 over a certificate's DER, as `openssl x509 -fingerprint -sha256` prints it (AB:CD:...). */
export function certificateFingerprint(cert: string | X509Certificate): string {
  // One PEM block is its DER in base64: no need to parse the certificate for its bytes.
  const pem = typeof cert === 'string' ? /^\s*-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END CERTIFICATE-----\s*$/.exec(cert) : null;
  const raw = pem ? Buffer.from(pem[1]!, 'base64') : typeof cert === 'string' ? new X509Certificate(cert).raw : cert.raw;
  return formatFingerprint(createHash('sha256').update(raw).digest('hex'));
}

/**
 * A fingerprint as given by a person or a file, in the canonical form (upper-case, colons), or
 * undefined when it is not 32 bytes of hex. Accepts "SHA256:" / "sha256 Fingerprint=" prefixes.
 */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text.trim().replace(/^(sha-?256)\s*(fingerprint)?\s*[:=]?\s*/i, '').replace(/[:\s]/g, '');
  return /^[0-9a-f]{64}$/i.test(hex) ? formatFingerprint(hex) : undefined;
}

function formatFingerprint(hex: string): string {
  return hex.toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

export {renewalMessage, signRenewal, verifyRenewal, type RenewalClaim} from './renewal.js';
export {PkiCaError, isPkiCaError, type PkiCaErrorKind} from './errors.js';
