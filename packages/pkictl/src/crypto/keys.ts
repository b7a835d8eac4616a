import {createPrivateKey, generateKeyPair, type KeyObject} from 'node:crypto';
import {promisify} from 'node:util';
import type {KeyType} from '@bcl/pki-local';
import {denied, invalidInput} from '@bcl/core';

export {KEY_TYPES, keysMatch, signData as signDetached, verifyData as verifyDetached} from '@bcl/pki-ca/keys';

const generate = promisify(generateKeyPair);

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A new key pair made here, with Node's native crypto; it never leaves this machine. */
export async function generateKey(type: KeyType): Promise<KeyPair> {
  switch (type) {
    case 'ecdsa-p256':
      return generate('ec', {namedCurve: 'P-256'});
    case 'rsa-3072':
      return generate('rsa', {modulusLength: 3072});
    case 'ed25519':
      return generate('ed25519');
  }
}

/** PKCS#8 PEM, encrypted with AES-256-CBC (PBES2, scrypt-free for compatibility) when a passphrase is given. */
export function exportPrivateKey(key: KeyObject, passphrase?: string): string {
  return passphrase === undefined
    ? String(key.export({type: 'pkcs8', format: 'pem'}))
    : String(key.export({type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase}));
}

export function exportPublicKey(key: KeyObject): string {
  return String(key.export({type: 'spki', format: 'pem'}));
}

/** Loads a PEM private key; a wrong or missing passphrase is exit 4 naming the file. */
export function loadPrivateKeyFile(pem: string | Buffer, file: string, passphrase?: string): KeyObject {
  const text = pem.toString();
  if (!/-----BEGIN (ENCRYPTED |EC |RSA )?PRIVATE KEY-----/.test(text)) {
    throw invalidInput('pkictl.key_invalid', `${file} does not hold a PEM private key`, {hint: 'Give the key file written by pkictl (PKCS#8 PEM).'});
  }
  const encrypted = text.includes('ENCRYPTED PRIVATE KEY');
  if (encrypted && passphrase === undefined) {
    throw denied('pkictl.passphrase_required', `${file} is encrypted and no passphrase was given`, {hint: 'Give --passphrase-file or --passphrase-env, or run interactively to be asked.'});
  }
  try {
    return createPrivateKey(encrypted ? {key: text, format: 'pem', passphrase} : text);
  } catch (error) {
    if (encrypted) throw denied('pkictl.passphrase_wrong', `cannot decrypt ${file}: wrong passphrase`, {hint: 'Check the passphrase for this key.', cause: error});
    throw invalidInput('pkictl.key_invalid', `${file} is not a readable private key: ${(error as Error).message}`, {cause: error});
  }
}
