import {createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign} from 'node:crypto';
import {invalidInput} from '@bcl/core';
import {describePublicKey, type SignatureDocument} from '@bcl/core/distribution';

/**
 * The publisher's half of release signatures: making Ed25519 keys and signing manifest bytes.
 * Clients verify with bcl's verifySignatures (the document format is described there).
 */
export interface SigningKey {
  keyid: string;
  key: KeyObject;
}

export interface GeneratedKeyPair {
  keyid: string;
  /** PKCS#8 PEM: a secret. */
  privatePem: string;
  /** SPKI PEM. */
  publicPem: string;
  /** The "ed25519:<base64>" form for bcl.update.trustedKeys. */
  publicText: string;
}

export function generateSigningKeyPair(): GeneratedKeyPair {
  const {privateKey, publicKey} = generateKeyPairSync('ed25519');
  const pub = describePublicKey(publicKey);
  return {
    keyid: pub.keyid,
    privatePem: privateKey.export({type: 'pkcs8', format: 'pem'}).toString(),
    publicPem: publicKey.export({type: 'spki', format: 'pem'}).toString(),
    publicText: pub.text,
  };
}

/** Reads a private signing key (PKCS#8 PEM, as `bcl release keygen` writes it). */
export function parsePrivateKey(pem: string, file: string): SigningKey {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw invalidInput('release.key_invalid', `${file}: not a readable private key (${(error as Error).message})`, {
      hint: 'Pass the private key file written by `bcl release keygen --out <file>`.',
    });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw invalidInput('release.key_invalid', `${file}: expected an Ed25519 private key, found ${key.asymmetricKeyType}`, {
      hint: 'Create one with `bcl release keygen --out <file>`.',
    });
  }
  return {keyid: describePublicKey(createPublicKey(key)).keyid, key};
}

export function signBytes(bytes: Uint8Array, keys: readonly SigningKey[]): SignatureDocument {
  return {signatures: keys.map((k) => ({keyid: k.keyid, sig: sign(null, bytes, k.key).toString('base64')}))};
}

export function serializeSignatures(doc: SignatureDocument): Buffer {
  return Buffer.from(`${JSON.stringify(doc, null, 2)}\n`);
}
