/**
 * @peculiar/x509 over Node's own WebCrypto: keys stay Node KeyObjects and are handed to it as
 * WebCrypto keys. Heavy (tsyringe, asn1 schemas): only the X.509 modules of this package load it.
 */
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import {createPublicKey, type KeyObject, webcrypto} from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

/** WebCrypto algorithm parameters (Node's types; @peculiar/x509 declares the DOM's). */
type WebAlgorithm = {name: string; namedCurve?: string; hash?: string};

function algorithmsFor(key: KeyObject): {importParams: WebAlgorithm; signing: WebAlgorithm} {
  switch (key.asymmetricKeyType) {
    case 'ec':
      return {importParams: {name: 'ECDSA', namedCurve: 'P-256'}, signing: {name: 'ECDSA', hash: 'SHA-256'}};
    case 'rsa':
      return {importParams: {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'}, signing: {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'}};
    case 'ed25519':
      return {importParams: {name: 'Ed25519'}, signing: {name: 'Ed25519'}};
    default:
      throw new Error(`unsupported key type ${key.asymmetricKeyType}`);
  }
}

/** The private KeyObject as a WebCrypto signing key for @peculiar/x509 (typed for its DOM declarations). */
export function signingKey(key: KeyObject): never {
  return key.toCryptoKey(algorithmsFor(key).importParams as never, false, ['sign']) as never;
}

export function verifyingKey(key: KeyObject): never {
  return key.toCryptoKey(algorithmsFor(key).importParams as never, true, ['verify']) as never;
}

export function signingAlgorithm(key: KeyObject): never {
  return algorithmsFor(key).signing as never;
}

/** The SubjectPublicKeyInfo (DER) of a public key, or of a private key's public half. */
export function spki(key: KeyObject): ArrayBuffer {
  const der = (key.type === 'private' ? createPublicKey(key) : key).export({type: 'spki', format: 'der'});
  return der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer;
}

export function pemBlock(label: string, der: Buffer | ArrayBuffer): string {
  const body = Buffer.from(der as ArrayBuffer).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

export {x509};
