/**
 * Certificates and CSRs at the level of their ASN.1 structures (@peculiar/asn1-x509 for what is
 * rare, der.ts for what every issuance does), signed and verified with Node's crypto. The PKI
 * server issues hundreds of certificates a second: @peculiar/x509's generator (WebCrypto, a
 * dependency-injection container, a name parser) costs about ten times as much per certificate as
 * assembling the same structures here, and the bytes are the same.
 */
import {createHash, createPublicKey, type KeyObject, verify} from 'node:crypto';
import {AsnConvert, OctetString} from '@peculiar/asn1-schema';
import * as a from '@peculiar/asn1-x509';
import {altNameExtensionDer, type DerElement, derChildren, derElement, derElementAt, IA5_NAME_TYPES, OID, oidDer} from './der.js';
import type {San} from './policy.js';

/** Digests of the signature algorithms a CSR may be signed with (others go the slow way). */
const VERIFY_DIGESTS: Record<string, string | null> = {
  [OID.ecdsaSha256]: 'sha256',
  [OID.ecdsaSha384]: 'sha384',
  [OID.ecdsaSha512]: 'sha512',
  [OID.rsaSha256]: 'sha256',
  [OID.rsaSha384]: 'sha384',
  [OID.rsaSha512]: 'sha512',
  [OID.ed25519]: null,
};

export function extension(id: string, critical: boolean, value: unknown): a.Extension {
  return new a.Extension({extnID: id, critical, extnValue: new OctetString(AsnConvert.serialize(value))});
}

export function generalName(s: San): a.GeneralName {
  switch (s.type) {
    case 'email':
      return new a.GeneralName({rfc822Name: s.value});
    case 'dns':
      return new a.GeneralName({dNSName: s.value});
    case 'ip':
      return new a.GeneralName({iPAddress: s.value});
    case 'uri':
      return new a.GeneralName({uniformResourceIdentifier: s.value});
  }
}

export function sanOf(n: a.GeneralName): San | undefined {
  if (n.rfc822Name !== undefined) return {type: 'email', value: n.rfc822Name};
  if (n.dNSName !== undefined) return {type: 'dns', value: n.dNSName};
  if (n.iPAddress !== undefined) return {type: 'ip', value: n.iPAddress};
  if (n.uniformResourceIdentifier !== undefined) return {type: 'uri', value: n.uniformResourceIdentifier};
  return undefined;
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(subjectPublicKey: ArrayBuffer | Uint8Array): ArrayBuffer {
  const digest = createHash('sha1').update(new Uint8Array(subjectPublicKey)).digest();
  return digest.buffer.slice(digest.byteOffset, digest.byteOffset + digest.byteLength) as ArrayBuffer;
}

/** Positive INTEGER octets of a hex serial (a leading zero byte when the top bit is set). */
export function serialOctets(hex: string): ArrayBuffer {
  const bytes = Buffer.from(hex, 'hex');
  const out = bytes[0]! >= 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
  return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer;
}

/** The SubjectPublicKeyInfo each public key read from a CSR was made from: exporting it again costs as much as reading it. */
const spkiOfKey = new WeakMap<KeyObject, Buffer>();

/** A public key's SubjectPublicKeyInfo DER. */
export function spkiDerOf(key: KeyObject): Buffer {
  return spkiOfKey.get(key) ?? (key.type === 'private' ? createPublicKey(key) : key).export({type: 'spki', format: 'der'});
}

/** X.509 v3: the TBSCertificate's version field, [0] EXPLICIT INTEGER 2. */
const VERSION_3 = Buffer.from([0xa0, 0x03, 0x02, 0x01, 0x02]);

/**
 * A TBSCertificate from its parts, the shared ones encoded once by the caller (the issuer's name,
 * the signature algorithm, most extensions): encoding them again for each leaf was most of the
 * cost of issuing one.
 */
export function tbsCertificate(p: {serial: string; algorithm: Buffer; issuer: Buffer; notBefore: Date; notAfter: Date; subject: Buffer; spki: Buffer; extensions: readonly Uint8Array[]}): Buffer {
  return derElement(
    0x30,
    VERSION_3,
    derElement(0x02, new Uint8Array(serialOctets(p.serial))),
    p.algorithm,
    p.issuer,
    validityDer(p.notBefore, p.notAfter),
    p.subject,
    p.spki,
    derElement(0xa3, derElement(0x30, ...p.extensions)),
  );
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime after, in whole seconds, in UTC. */
function timeDer(d: Date): Buffer {
  const iso = d.toISOString();
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return d.getUTCFullYear() > 2049 ? derElement(0x18, Buffer.from(digits, 'latin1')) : derElement(0x17, Buffer.from(digits.slice(2), 'latin1'));
}

/** A Validity of whole seconds (validityPeriod's), encoded directly. */
export function validityDer(notBefore: Date, notAfter: Date): Buffer {
  if (notBefore.getTime() % 1000 !== 0 || notAfter.getTime() % 1000 !== 0) throw new Error('a validity of whole seconds only');
  return derElement(0x30, timeDer(notBefore), timeDer(notAfter));
}

const SKI_OID = Buffer.from(oidDer('2.5.29.14'), 'hex');

/** The subjectKeyIdentifier extension (not critical) of a key identifier. */
export function subjectKeyIdentifierDer(keyId: ArrayBuffer): Buffer {
  return derElement(0x30, SKI_OID, derElement(0x04, derElement(0x04, new Uint8Array(keyId))));
}

/** The subjectAltName extension: email, DNS and URI names as their IA5String octets; an IP address through the library. */
export function subjectAltNameDer(sans: readonly San[], critical: boolean): Buffer {
  return altNameExtensionDer(sans, critical, generalNameDer);
}

/** A GeneralName's DER through the library (the kinds not written directly). */
export function generalNameDer(s: San): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(generalName(s)));
}

/** RFC 5280 4.2.1.2 method 1 from a SubjectPublicKeyInfo's DER: SHA-1 of the subjectPublicKey bits. */
export function keyIdentifierOfSpki(spki: Buffer): ArrayBuffer {
  const [, bits] = derChildren(spki, derElementAt(spki, 0, spki.length));
  if (bits?.tag !== 0x03) throw new Error('not a SubjectPublicKeyInfo');
  return keyIdentifier(spki.subarray(bits.content + 1, bits.end));
}

/** What the CA needs to know of its issuer certificate, parsed once per certificate. */
export interface IssuerFacts {
  subject: a.Name;
  /** The subject's DER: the leaves' issuer field. */
  subjectDer: Buffer;
  notAfter: Date;
  /** The issuer's subjectKeyIdentifier (or, without one, its key's identifier): the leaf's authorityKeyIdentifier. */
  keyId: ArrayBuffer;
}

const issuerCache = new Map<string, IssuerFacts>();

export function issuerFacts(pem: string): IssuerFacts {
  const hit = issuerCache.get(pem);
  if (hit) return hit;
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const cert = AsnConvert.parse(der, a.Certificate);
  const tbs = cert.tbsCertificate;
  const ski = tbs.extensions?.find((e) => e.extnID === a.id_ce_subjectKeyIdentifier);
  const facts: IssuerFacts = {
    subject: tbs.subject,
    subjectDer: Buffer.from(AsnConvert.serialize(tbs.subject)),
    notAfter: tbs.validity.notAfter.getTime(),
    keyId: ski ? AsnConvert.parse(ski.extnValue.buffer, a.SubjectKeyIdentifier).buffer : keyIdentifier(tbs.subjectPublicKeyInfo.subjectPublicKey),
  };
  if (issuerCache.size > 32) issuerCache.clear();
  issuerCache.set(pem, facts);
  return facts;
}

export interface FastCsr {
  publicKey: KeyObject;
  /** The subject Name's DER. */
  subject: Buffer;
  /** The extensions the request asks for: each one's OID, criticality and value (its DER). */
  extensions: RequestedExtension[];
  /** Whether the signature was checked here (false: an algorithm for the slow path). */
  verified: boolean;
  signatureOk: boolean;
}

export interface RequestedExtension {
  extnID: string;
  critical: boolean;
  value: Buffer;
}

/** An OBJECT IDENTIFIER's content as its dotted form; a non-minimal or truncated arc is refused. */
function oidString(der: Buffer, el: DerElement): string {
  if (el.tag !== 0x06 || el.end === el.content) throw new Error('not an OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let arc = 0;
  for (let i = el.content; i < el.end; i++) {
    const byte = der[i]!;
    if (arc === 0 && byte === 0x80) throw new Error('an OBJECT IDENTIFIER arc not in its shortest form');
    arc = arc * 128 + (byte & 0x7f);
    if (arc > Number.MAX_SAFE_INTEGER / 128) throw new Error('an OBJECT IDENTIFIER arc beyond any in use');
    if (byte & 0x80) {
      if (i === el.end - 1) throw new Error('a truncated OBJECT IDENTIFIER');
      continue;
    }
    arcs.push(arc);
    arc = 0;
  }
  const first = arcs[0]!;
  return [first < 40 ? 0 : first < 80 ? 1 : 2, first < 80 ? first % 40 : first - 80, ...arcs.slice(1)].join('.');
}

/** Extensions ::= SEQUENCE OF Extension (RFC 5280 4.1), read with the DER reader. */
function requestedExtensions(der: Buffer, list: DerElement): RequestedExtension[] {
  if (list.tag !== 0x30) throw new Error('the extension request is not a SEQUENCE of extensions');
  return derChildren(der, list).map((ext) => {
    const parts = ext.tag === 0x30 ? derChildren(der, ext) : [];
    const [id, second, third, ...extra] = parts;
    const flag = third ? second : undefined;
    const value = third ?? second;
    if (!id || value?.tag !== 0x04 || extra.length > 0 || (flag && (flag.tag !== 0x01 || flag.end - flag.content !== 1))) throw new Error('an extension is not (id, critical, value)');
    return {extnID: oidString(der, id), critical: flag ? der[flag.content] !== 0 : false, value: der.subarray(value.content, value.end)};
  });
}

/**
 * The names of a subjectAltName extension's value (GeneralNames): email, DNS and URI names read
 * directly as IA5String octets, other kinds through the library.
 */
export function requestedNames(value: Buffer): San[] {
  const list = derElementAt(value, 0, value.length);
  if (list.tag !== 0x30 || list.end !== value.length) throw new Error('subjectAltName is not a SEQUENCE of names');
  const sans: San[] = [];
  for (const name of derChildren(value, list)) {
    const type = IA5_NAME_TYPES.get(name.tag);
    const san = type ? {type, value: value.subarray(name.content, name.end).toString('latin1')} : sanOf(AsnConvert.parse(value.subarray(name.start, name.end), a.GeneralName));
    if (san) sans.push(san);
  }
  return sans;
}

const EXTENSION_REQUEST = oidDer(OID.extensionRequest);
let verifyDigestsByDer: Map<string, string | null> | undefined;

/**
 * Parses a DER CSR and checks its signature with Node's crypto where the algorithm allows. The
 * structure is split by hand (CertificationRequest, its info, the attributes: what a generic
 * ASN.1 parse of the whole request cost was a third of an issuance); the key goes to OpenSSL as
 * the SubjectPublicKeyInfo's own bytes, the extensions asked for to @peculiar/asn1-x509.
 */
export function parseCsrDer(der: Buffer): FastCsr {
  const outer = derElementAt(der, 0, der.length);
  if (outer.tag !== 0x30 || outer.end !== der.length) throw new Error('not a DER SEQUENCE');
  const [info, algorithm, signature, ...more] = derChildren(der, outer);
  if (info?.tag !== 0x30 || algorithm?.tag !== 0x30 || signature?.tag !== 0x03 || more.length > 0) throw new Error('not a CertificationRequest (info, algorithm, signature)');
  const [version, subject, spki, attributes, ...rest] = derChildren(der, info);
  if (version?.tag !== 0x02 || subject?.tag !== 0x30 || spki?.tag !== 0x30 || attributes?.tag !== 0xa0 || rest.length > 0) throw new Error('not a CertificationRequestInfo (version, subject, key, attributes)');
  const spkiDer = der.subarray(spki.start, spki.end);
  const publicKey = createPublicKey({key: spkiDer, format: 'der', type: 'spki'});
  spkiOfKey.set(publicKey, spkiDer);
  const extensions: RequestedExtension[] = [];
  for (const attribute of derChildren(der, attributes)) {
    const [type, values, ...extra] = derChildren(der, attribute);
    if (attribute.tag !== 0x30 || type?.tag !== 0x06 || values?.tag !== 0x31 || extra.length > 0) throw new Error('an attribute is not (type, SET of values)');
    if (der.subarray(type.start, type.end).toString('hex') !== EXTENSION_REQUEST) continue;
    for (const value of derChildren(der, values)) extensions.push(...requestedExtensions(der, value));
  }
  const facts = {publicKey, subject: der.subarray(subject.start, subject.end), extensions};
  verifyDigestsByDer ??= new Map(Object.entries(VERIFY_DIGESTS).map(([oid, digest]) => [oidDer(oid), digest]));
  const [oid] = derChildren(der, algorithm);
  const digest = oid?.tag === 0x06 ? verifyDigestsByDer.get(der.subarray(oid.start, oid.end).toString('hex')) : undefined;
  if (digest === undefined) return {...facts, verified: false, signatureOk: false};
  // A BIT STRING of whole octets: its first content octet (the unused bits) is 0.
  if (signature.end - signature.content < 2 || der[signature.content] !== 0) return {...facts, verified: true, signatureOk: false};
  let signatureOk = false;
  try {
    signatureOk = verify(digest, der.subarray(info.start, info.end), publicKey, der.subarray(signature.content + 1, signature.end));
  } catch {
    signatureOk = false;
  }
  return {...facts, verified: true, signatureOk};
}
