/**
 * The device's key: ECDSA P-256 made by the browser's WebCrypto. It is extractable only so that
 * this page can package it (profile, PKCS#12, PEM) for the person to download; it is never
 * stored by the page and never sent: only the certificate request built from it leaves.
 */
import {toPem} from './pem.js';
import {x509} from './x509.js';

export const KEY_ALGORITHM = {name: 'ECDSA', namedCurve: 'P-256'} as const;
const SIGNING = {name: 'ECDSA', hash: 'SHA-256'} as const;

export async function generateDeviceKey(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

/** The private key as PKCS#8 (DER), for packaging only. */
export async function exportPrivateKey(keys: CryptoKeyPair): Promise<ArrayBuffer> {
  return crypto.subtle.exportKey('pkcs8', keys.privateKey);
}

export async function privateKeyPem(keys: CryptoKeyPair): Promise<string> {
  return toPem(await exportPrivateKey(keys), 'PRIVATE KEY');
}

/**
 * The certificate request: signed with the new key (proof of possession). Only its public key
 * counts; the server decides the names from the signed-in identity, so the subject is just a hint.
 */
export async function buildCertificateRequest(keys: CryptoKeyPair, email: string): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({name: [{CN: [email]}], keys, signingAlgorithm: SIGNING});
  return csr.toString('pem');
}

/** A private key read back from a profile or PEM file the person chose (for a renewal). */
export async function importPrivateKey(pkcs8: ArrayBuffer): Promise<CryptoKey> {
  return crypto.subtle.importKey('pkcs8', pkcs8, KEY_ALGORITHM, false, ['sign']);
}

/** A detached signature as Node's crypto.sign makes it (DER-encoded ECDSA), which the server verifies. */
export async function signDer(key: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  const raw = await crypto.subtle.sign(SIGNING, key, data as Uint8Array<ArrayBuffer>);
  // WebCrypto signs ECDSA as r||s; X.509 and Node use the DER SEQUENCE of two INTEGERs.
  const der = new x509.AsnEcSignatureFormatter().toAsnSignature({...SIGNING, ...KEY_ALGORITHM} as Algorithm, raw);
  if (!der) throw new Error('the signature could not be encoded');
  return new Uint8Array(der);
}
