import {createPrivateKey, generateKeyPairSync, type KeyObject} from 'node:crypto';
import {readFileSync, statSync} from 'node:fs';
import {decodeOpenSshPrivateKey, fingerprint, formatPublicKey, isOpenSshPrivateKey, sshPublicKey, SshFormatError} from '@bcl/openssh-formats';
import {InvalidFileError} from './yaml-file.js';

/** The SSH user certificate authority: its private key, public key line and wire blob. */
export interface SshCa {
  key: KeyObject;
  type: string;
  /** Its SHA256 fingerprint, the key's id in the keyring. */
  id: string;
  /** The CA public key's wire encoding (the KRL names it). */
  blob: Buffer;
  /** The line for sshd's TrustedUserCAKeys. */
  publicLine: string;
}

/** Loads the CA key, refusing files others can read and key types or sizes that are too weak. */
export function loadCa(path: string, passphraseFile?: string): SshCa {
  let text: string;
  try {
    if ((statSync(path).mode & 0o077) !== 0) {
      throw new InvalidFileError(`${path}: the CA key is readable by other users; run chmod 600 ${path}`, path);
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof InvalidFileError) throw error;
    throw new InvalidFileError(`cannot read the CA key ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, path);
  }
  let key: KeyObject;
  try {
    if (isOpenSshPrivateKey(text)) key = decodeOpenSshPrivateKey(text).key;
    else {
      const passphrase = passphraseFile ? readFileSync(passphraseFile, 'utf8').replace(/\r?\n$/, '') : undefined;
      key = createPrivateKey(passphrase === undefined ? text : {key: text, format: 'pem', passphrase});
    }
  } catch (error) {
    const why = error instanceof SshFormatError ? error.message : /passphrase|decrypt|bad decrypt/i.test((error as Error).message) ? 'wrong or missing passphrase (ca.passphraseFile)' : (error as Error).message;
    throw new InvalidFileError(`${path}: cannot load the CA key: ${why}`, path);
  }
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 3072) {
    throw new InvalidFileError(`${path}: an RSA CA key needs at least 3072 bits (this one has ${key.asymmetricKeyDetails?.modulusLength}); Ed25519 is recommended`, path);
  }
  try {
    return caFromKey(key);
  } catch (error) {
    throw new InvalidFileError(`${path}: ${(error as Error).message}; use an Ed25519, ECDSA or RSA key`, path);
  }
}

/** The CA of a private key (from a file, or unsealed from the keyring). */
export function caFromKey(key: KeyObject): SshCa {
  const ssh = sshPublicKey(key);
  return {key, type: ssh.type, id: fingerprint(ssh.blob), blob: ssh.blob, publicLine: formatPublicKey(ssh.type, ssh.blob, 'cssh-authz user CA')};
}

export type CaKeyType = 'ed25519' | 'ecdsa-p256' | 'rsa-4096';

/** A new CA key as PKCS#8 PEM (encrypted when a passphrase is given). */
export function generateCaKey(type: CaKeyType, passphrase?: string): {pem: string; publicLine: string} {
  const pair =
    type === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : type === 'ecdsa-p256'
        ? generateKeyPairSync('ec', {namedCurve: 'P-256'})
        : generateKeyPairSync('rsa', {modulusLength: 4096});
  const pem = pair.privateKey.export(
    passphrase === undefined ? {type: 'pkcs8', format: 'pem'} : {type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase},
  ) as string;
  const ssh = sshPublicKey(pair.publicKey);
  return {pem, publicLine: formatPublicKey(ssh.type, ssh.blob, 'cssh-authz user CA')};
}
