import {createHash, createPublicKey, type JsonWebKey, type KeyObject} from 'node:crypto';
import {b64u, fixedWidth, SshFormatError, SshReader, SshWriter} from './wire.js';

/** The plain (non-certificate) key types accepted for user keys and CA keys. */
export const KEY_TYPES = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

const CURVES = {
  'ecdsa-sha2-nistp256': {name: 'nistp256', jwk: 'P-256', coord: 32, hash: 'sha256'},
  'ecdsa-sha2-nistp384': {name: 'nistp384', jwk: 'P-384', coord: 48, hash: 'sha384'},
  'ecdsa-sha2-nistp521': {name: 'nistp521', jwk: 'P-521', coord: 66, hash: 'sha512'},
} as const;
type EcdsaType = keyof typeof CURVES;

/** OpenSSH refuses RSA moduli above this (SSHBUF_MAX_BIGNUM). */
const MAX_RSA_BITS = 16384;

export interface SshPublicKey {
  type: KeyType;
  /** The wire encoding (what follows the type in an authorized_keys line, base64-decoded). */
  blob: Buffer;
  /** Key size in bits: 256 for Ed25519, the curve size for ECDSA, the modulus length for RSA. */
  bits: number;
  /** The same key for node:crypto. */
  key: KeyObject;
  comment: string;
}

export function isKeyType(value: string): value is KeyType {
  return (KEY_TYPES as readonly string[]).includes(value);
}

export function isEcdsaType(value: string): value is EcdsaType {
  return Object.hasOwn(CURVES, value);
}

/** The hash OpenSSH uses with an ECDSA key of this type. */
export function ecdsaHash(type: EcdsaType): string {
  return CURVES[type].hash;
}

/**
 * Parses one public key in OpenSSH's one-line format ("ssh-ed25519 AAAA... comment"), checking
 * the encoding strictly: the type inside the blob must match, no trailing bytes, valid curve
 * points, RSA exponents and sizes within what OpenSSH accepts.
 */
export function parsePublicKey(text: string): SshPublicKey {
  const line = text.trim();
  if (line === '') throw new SshFormatError('the public key is empty');
  if (/[\r\n]/.test(line)) throw new SshFormatError('expected exactly one public key line');
  const [type = '', data = '', ...comment] = line.split(/[ \t]+/);
  if (type.endsWith('-cert-v01@openssh.com')) throw new SshFormatError(`${type} is a certificate, not a public key`);
  if (type.startsWith('sk-')) throw new SshFormatError(`security-key types (${type}) are not supported; use ssh-ed25519, ecdsa-sha2-nistp* or ssh-rsa`);
  if (type === 'ssh-dss') throw new SshFormatError('DSA keys (ssh-dss) are not supported: OpenSSH disabled them; use ssh-ed25519');
  if (!isKeyType(type)) {
    throw new SshFormatError(`unknown key type "${truncate(type)}"; expected one of ${KEY_TYPES.join(', ')}`);
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) throw new SshFormatError('the key data is not base64');
  const blob = Buffer.from(data, 'base64');
  if (blob.toString('base64') !== data) throw new SshFormatError('the key data is not canonical base64');
  const key = parsePublicKeyBlob(blob, comment.join(' '));
  if (key.type !== type) throw new SshFormatError(`the line says ${type} but the key data is ${key.type}`);
  return key;
}

/** Parses a public key's wire encoding. */
export function parsePublicKeyBlob(blob: Buffer, comment = ''): SshPublicKey {
  const r = new SshReader(blob, 'public key');
  const type = r.text('key type');
  if (!isKeyType(type)) throw new SshFormatError(`unsupported key type "${truncate(type)}"`);
  const {bits, jwk} = readKeyFields(r, type);
  r.end();
  if (type !== 'ssh-ed25519') return {type, blob: Buffer.from(blob), bits, key: importJwk(jwk, type), comment};
  // Any 32 bytes are an Ed25519 key (there is nothing to check, unlike a curve point or an RSA
  // modulus): its KeyObject is made when first asked for. A CA reading the key it certifies only
  // copies the bytes, thousands of times a second.
  let key: KeyObject | undefined;
  return {
    type,
    blob: Buffer.from(blob),
    bits,
    get key() {
      return (key ??= importJwk(jwk, type));
    },
    comment,
  };
}

/** Reads the key-specific fields that follow the type string (also used inside certificates). */
export function readKeyFields(r: SshReader, type: KeyType): {bits: number; jwk: JsonWebKey} {
  if (type === 'ssh-ed25519') {
    const pk = r.string('Ed25519 key');
    if (pk.length !== 32) throw new SshFormatError(`an Ed25519 key is 32 bytes, got ${pk.length}`);
    return {bits: 256, jwk: {kty: 'OKP', crv: 'Ed25519', x: b64u.encode(pk)}};
  }
  if (isEcdsaType(type)) {
    const curve = CURVES[type];
    const name = r.text('curve name');
    if (name !== curve.name) throw new SshFormatError(`${type} key names curve "${truncate(name)}", expected ${curve.name}`);
    const q = r.string('EC point');
    if (q.length !== 1 + 2 * curve.coord || q[0] !== 0x04) throw new SshFormatError(`the ${curve.name} point is not an uncompressed point of the curve`);
    const x = q.subarray(1, 1 + curve.coord);
    const y = q.subarray(1 + curve.coord);
    return {bits: curve.coord === 66 ? 521 : curve.coord * 8, jwk: {kty: 'EC', crv: curve.jwk, x: b64u.encode(x), y: b64u.encode(y)}};
  }
  const e = r.mpint('RSA exponent');
  const n = r.mpint('RSA modulus');
  const bits = bitLength(n);
  if (bits > MAX_RSA_BITS) throw new SshFormatError(`RSA keys above ${MAX_RSA_BITS} bits are not supported (got ${bits})`);
  if (e.length === 0 || (e[e.length - 1]! & 1) === 0 || (e.length === 1 && e[0]! < 3)) throw new SshFormatError('the RSA public exponent is invalid');
  if (e.length > 8) throw new SshFormatError('the RSA public exponent is too large');
  return {bits, jwk: {kty: 'RSA', n: b64u.encode(n), e: b64u.encode(e)}};
}

function importJwk(jwk: JsonWebKey, type: KeyType): KeyObject {
  try {
    return createPublicKey({key: jwk, format: 'jwk'});
  } catch (error) {
    throw new SshFormatError(`the ${type} key is not a valid key: ${(error as Error).message}`);
  }
}

/** KeyObjects never change: a CA key's encoding is computed once, not at every signature. */
const encoded = new WeakMap<KeyObject, {type: KeyType; blob: Buffer}>();

/** The OpenSSH type and wire encoding of a node:crypto public (or private) key. */
export function sshPublicKey(key: KeyObject): {type: KeyType; blob: Buffer} {
  let known = encoded.get(key);
  if (!known) encoded.set(key, (known = encodePublicKey(key)));
  // A copy: callers may write into the buffer they get.
  return {type: known.type, blob: Buffer.from(known.blob)};
}

function encodePublicKey(key: KeyObject): {type: KeyType; blob: Buffer} {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = pub.export({format: 'jwk'});
  const w = new SshWriter();
  if (pub.asymmetricKeyType === 'ed25519') {
    w.string('ssh-ed25519').string(b64u.decode(jwk.x!));
    return {type: 'ssh-ed25519', blob: w.toBuffer()};
  }
  if (pub.asymmetricKeyType === 'ec') {
    const entry = Object.entries(CURVES).find(([, c]) => c.jwk === jwk.crv);
    if (!entry) throw new SshFormatError(`EC curve ${jwk.crv} is not supported by OpenSSH`);
    const [type, curve] = entry as [EcdsaType, (typeof CURVES)[EcdsaType]];
    const q = Buffer.concat([Buffer.from([4]), fixedWidth(b64u.decode(jwk.x!), curve.coord), fixedWidth(b64u.decode(jwk.y!), curve.coord)]);
    w.string(type).string(curve.name).string(q);
    return {type, blob: w.toBuffer()};
  }
  if (pub.asymmetricKeyType === 'rsa') {
    w.string('ssh-rsa').mpint(b64u.decode(jwk.e!)).mpint(b64u.decode(jwk.n!));
    return {type: 'ssh-rsa', blob: w.toBuffer()};
  }
  throw new SshFormatError(`${pub.asymmetricKeyType} keys are not supported`);
}

/** "type base64 comment", as in authorized_keys and *.pub files. */
export function formatPublicKey(type: string, blob: Buffer, comment = ''): string {
  return `${type} ${blob.toString('base64')}${comment ? ` ${comment}` : ''}`;
}

/** The fingerprint OpenSSH shows: "SHA256:" + unpadded base64 of the SHA-256 of the blob. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export function bitLength(magnitude: Buffer): number {
  let i = 0;
  while (i < magnitude.length && magnitude[i] === 0) i++;
  if (i === magnitude.length) return 0;
  return (magnitude.length - i - 1) * 8 + (32 - Math.clz32(magnitude[i]!));
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
