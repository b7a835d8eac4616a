import {createHash, createPublicKey, type KeyObject, verify} from 'node:crypto';
import {denied, invalidInput} from '../errors.js';

/**
 * Ed25519 signatures over the exact bytes of a manifest file, kept beside it in `<file>.sig`:
 * `{"signatures":[{"keyid":"<sha256 of the raw public key, hex>","sig":"<base64>"}]}`. Several
 * signatures may be present (a publish signed by an old and a new key during a rotation); one by
 * a trusted key is enough. `openssl pkeyutl -verify -rawin` checks them too.
 */
export interface SignatureDocument {
  signatures: {keyid: string; sig: string}[];
}

export interface PublicKey {
  keyid: string;
  key: KeyObject;
  /** The key as it is written in bcl.update.trustedKeys: "ed25519:<base64 of the 32 raw bytes>". */
  text: string;
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({format: 'jwk'}) as {x?: string};
  return Buffer.from(jwk.x ?? '', 'base64url');
}

/** A public key with its key id (sha256 of the raw 32 bytes) and its bcl.update.trustedKeys form. */
export function describePublicKey(key: KeyObject): PublicKey {
  const raw = rawPublicKey(key);
  return {keyid: createHash('sha256').update(raw).digest('hex'), key, text: `ed25519:${raw.toString('base64')}`};
}

/** A short form of a key id for messages. */
export const shortKeyId = (keyid: string) => keyid.slice(0, 16);

/**
 * Parses a trusted public key as written in configuration: "ed25519:<base64 raw key>" or an SPKI
 * PEM block. `where` names the setting for the error message.
 */
export function parsePublicKey(text: string, where: string): PublicKey {
  const trimmed = text.trim();
  try {
    if (trimmed.startsWith('ed25519:')) {
      const raw = Buffer.from(trimmed.slice('ed25519:'.length), 'base64');
      if (raw.length !== 32) throw new Error(`expected 32 bytes, got ${raw.length}`);
      const key = createPublicKey({key: {kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url')}, format: 'jwk'});
      return describePublicKey(key);
    }
    if (trimmed.includes('-----BEGIN')) {
      const key = createPublicKey(trimmed);
      if (key.asymmetricKeyType !== 'ed25519') throw new Error(`it is a ${key.asymmetricKeyType} key`);
      return describePublicKey(key);
    }
  } catch (error) {
    throw invalidInput('update.trusted_key_invalid', `${where}: not a valid Ed25519 public key (${(error as Error).message})`, {
      hint: 'Use the "ed25519:..." line printed by `bcl release keygen`, or the PEM of its .pub file.',
    });
  }
  throw invalidInput('update.trusted_key_invalid', `${where}: expected "ed25519:<base64>" or a PEM public key`, {
    hint: 'Use the "ed25519:..." line printed by `bcl release keygen`.',
  });
}

/**
 * Checks that `bytes` carry a valid signature by one of `trusted`. Throws a denial that says
 * which check failed: an unreadable signature file, no signature by a trusted key, or a trusted
 * key's signature that does not match (the content was changed).
 */
export function verifySignatures(bytes: Uint8Array, sigText: Uint8Array, trusted: readonly PublicKey[], what: string): {keyid: string} {
  let doc: SignatureDocument;
  try {
    doc = JSON.parse(Buffer.from(sigText).toString('utf8')) as SignatureDocument;
    if (!Array.isArray(doc.signatures) || doc.signatures.some((s) => typeof s?.keyid !== 'string' || typeof s?.sig !== 'string')) throw new Error('no signatures list');
  } catch (error) {
    throw denied('update.signature_invalid', `signature check failed: the signature of ${what} is not a signature document (${(error as Error).message})`, {
      hint: 'The store is damaged or was tampered with; ask the release team to publish again.',
    });
  }
  const byId = new Map(trusted.map((k) => [k.keyid, k]));
  const candidates = doc.signatures.filter((s) => byId.has(s.keyid));
  if (candidates.length === 0) {
    const ids = doc.signatures.map((s) => shortKeyId(s.keyid)).join(', ') || 'none';
    throw denied('update.untrusted_key', `signature check failed: ${what} is signed by key ${ids}, which is not in bcl.update.trustedKeys`, {
      hint: 'If the release team rotated its key, add the new public key: bcl config set bcl.update.trustedKeys "<old>,<new>".',
      details: {signedBy: doc.signatures.map((s) => s.keyid), trusted: trusted.map((k) => k.keyid)},
    });
  }
  for (const s of candidates) {
    if (verify(null, bytes, byId.get(s.keyid)!.key, Buffer.from(s.sig, 'base64'))) return {keyid: s.keyid};
  }
  throw denied('update.signature_invalid', `signature check failed: the signature of ${what} by trusted key ${shortKeyId(candidates[0]!.keyid)} does not match its content`, {
    hint: 'The manifest was changed after it was signed (tampering or corruption); nothing was installed. Tell the release team.',
  });
}
