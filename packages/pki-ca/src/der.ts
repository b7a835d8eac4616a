/**
 * DER written and read directly, with Node's crypto and no ASN.1 library: what the PKI server
 * does per issuance (asn1.ts builds on it) and what pkictl does per request (make-csr.ts), whose
 * command would otherwise spend a sixth of its time loading @peculiar/asn1-*. Every encoder here
 * is checked against the library's encoding of the same values (asn1.test.ts).
 */
import {type KeyObject, sign} from 'node:crypto';
import type {San} from './policy.js';

export const OID = {
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  ecdsaSha512: '1.2.840.10045.4.3.4',
  rsaSha256: '1.2.840.113549.1.1.11',
  rsaSha384: '1.2.840.113549.1.1.12',
  rsaSha512: '1.2.840.113549.1.1.13',
  ed25519: '1.3.101.112',
  commonName: '2.5.4.3',
  extensionRequest: '1.2.840.113549.1.9.14',
} as const;

/** DER length octets (X.690 8.1.3: short form below 128, else the long form). */
function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One DER element of `tag` around `parts` (the SEQUENCE wrappers of a certificate whose parts are encoded already). */
export function derElement(tag: number, ...parts: readonly Uint8Array[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

/** One element read from DER: its tag, and where it, and its content, begin and end in the buffer. */
export interface DerElement {
  tag: number;
  start: number;
  content: number;
  end: number;
}

/**
 * Reads the element at `at`, nothing past `limit`: low tag numbers, definite lengths in their
 * shortest form (DER, X.690 10.1), as a certificate request from anyone must be. What the content
 * means is left to the caller (and to OpenSSL for keys and signatures).
 */
export function derElementAt(buf: Uint8Array, at: number, limit: number): DerElement {
  if (at + 2 > limit) throw new Error('truncated DER');
  const tag = buf[at]!;
  if ((tag & 0x1f) === 0x1f) throw new Error('a high tag number, which no part of a certificate request has');
  let length = buf[at + 1]!;
  let content = at + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 3) throw new Error(octets === 0 ? 'an indefinite length (BER, not DER)' : 'a length beyond any certificate request');
    if (content + octets > limit) throw new Error('truncated DER');
    if (buf[content] === 0) throw new Error('a length not in its shortest form (not DER)');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + buf[content++]!;
    if (length < 0x80) throw new Error('a length not in its shortest form (not DER)');
  }
  if (content + length > limit) throw new Error('truncated DER');
  return {tag, start: at, content, end: content + length};
}

/** The elements inside a constructed element, which must fill it exactly. */
export function derChildren(buf: Uint8Array, parent: DerElement): DerElement[] {
  const out: DerElement[] = [];
  for (let at = parent.content; at < parent.end; ) {
    const child = derElementAt(buf, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

/** The DER of an OBJECT IDENTIFIER in dotted form (X.690 8.19), as hex. */
export function oidDer(oid: string): string {
  const arcs = oid.split('.').map(Number);
  const bytes: number[] = [];
  for (const arc of [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)]) {
    const group = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) group.unshift((v & 0x7f) | 0x80);
    bytes.push(...group);
  }
  return Buffer.from([0x06, bytes.length, ...bytes]).toString('hex');
}

const CN_OID = Buffer.from(oidDer(OID.commonName), 'hex');
const SAN_OID = Buffer.from(oidDer('2.5.29.17'), 'hex');
const TRUE = Buffer.from([0x01, 0x01, 0xff]);

/** A Name of one CN as a UTF8String, or the empty Name. */
export function commonNameOnlyDer(cn: string | undefined): Buffer {
  if (cn === undefined) return derElement(0x30);
  return derElement(0x30, derElement(0x31, derElement(0x30, CN_OID, derElement(0x0c, Buffer.from(cn, 'utf8')))));
}

/** The GeneralName tags (RFC 5280 4.2.1.6) of the names written and read directly, as IA5String octets. */
export const IA5_NAME_TAGS = {email: 0x81, dns: 0x82, uri: 0x86} as const;
export type Ia5NameType = keyof typeof IA5_NAME_TAGS;
export const IA5_NAME_TYPES = new Map(Object.entries(IA5_NAME_TAGS).map(([type, tag]) => [tag as number, type as Ia5NameType]));

/** Whether a name is one of those written directly (an IP address is not). */
export function isIa5Name(s: San): s is San & {type: Ia5NameType} {
  return s.type in IA5_NAME_TAGS;
}

/** The subjectAltName extension: email, DNS and URI names as their IA5String octets, other kinds by `otherName`. */
export function altNameExtensionDer(sans: readonly San[], critical: boolean, otherName?: (s: San) => Uint8Array): Buffer {
  const names = sans.map((s) => {
    if (isIa5Name(s)) return derElement(IA5_NAME_TAGS[s.type], Buffer.from(s.value, 'latin1'));
    if (!otherName) throw new Error(`a ${s.type} name is not written directly`);
    return otherName(s);
  });
  return derElement(0x30, SAN_OID, ...(critical ? [TRUE] : []), derElement(0x04, derElement(0x30, ...names)));
}

/** Signs a to-be-signed structure's DER (a TBSCertificate, a CertificationRequestInfo) with Node's crypto: the signed SEQUENCE. */
export function signTbs(tbs: Buffer, algorithm: Buffer, key: KeyObject, digest: string | null): Buffer {
  const signature = sign(digest, tbs, key);
  return derElement(0x30, tbs, algorithm, derElement(0x03, Buffer.from([0x00]), signature));
}

/** DER NULL: RSA signature algorithms carry it as their parameters. */
const DER_NULL = Buffer.from([0x05, 0x00]);

const SIGNATURE_ALGORITHMS: Record<string, {der: Buffer; digest: string | null}> = {
  ec: {der: derElement(0x30, Buffer.from(oidDer(OID.ecdsaSha256), 'hex')), digest: 'sha256'},
  rsa: {der: derElement(0x30, Buffer.from(oidDer(OID.rsaSha256), 'hex'), DER_NULL), digest: 'sha256'},
  ed25519: {der: derElement(0x30, Buffer.from(oidDer(OID.ed25519), 'hex')), digest: null},
};

/** The AlgorithmIdentifier a key signs with, and its digest (SHA-256; Ed25519 its own). */
export function encodedSignatureAlgorithm(key: KeyObject): {der: Buffer; digest: string | null} {
  const found = SIGNATURE_ALGORITHMS[key.asymmetricKeyType ?? ''];
  if (!found) throw new Error(`unsupported signing key type ${key.asymmetricKeyType}`);
  return found;
}
