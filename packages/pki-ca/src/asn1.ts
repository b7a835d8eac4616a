/**
 * Certificates and CSRs at the level of their ASN.1 structures (@peculiar/asn1-x509,
 * @peculiar/asn1-csr), signed and verified with Node's crypto. The PKI server issues hundreds of
 * certificates a second: @peculiar/x509's generator (WebCrypto, a dependency-injection container,
 * a name parser) costs about ten times as much per certificate as assembling the same structures
 * here, and the bytes are the same.
 */
import {createHash, createPublicKey, type KeyObject, sign, verify} from 'node:crypto';
import {AsnConvert, OctetString} from '@peculiar/asn1-schema';
import * as a from '@peculiar/asn1-x509';
import {CertificationRequest} from '@peculiar/asn1-csr';
import type {San} from './policy.js';

const OID = {
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

/** DER NULL: RSA signature algorithms carry it as their parameters. */
const DER_NULL = new Uint8Array([0x05, 0x00]).buffer;

/** The signature algorithm a CA key signs with (SHA-256; Ed25519 its own). */
export function signatureAlgorithmOf(key: KeyObject): {identifier: a.AlgorithmIdentifier; digest: string | null} {
  switch (key.asymmetricKeyType) {
    case 'ec':
      return {identifier: new a.AlgorithmIdentifier({algorithm: OID.ecdsaSha256}), digest: 'sha256'};
    case 'rsa':
      return {identifier: new a.AlgorithmIdentifier({algorithm: OID.rsaSha256, parameters: DER_NULL}), digest: 'sha256'};
    case 'ed25519':
      return {identifier: new a.AlgorithmIdentifier({algorithm: OID.ed25519}), digest: null};
    default:
      throw new Error(`unsupported CA key type ${key.asymmetricKeyType}`);
  }
}

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

export function commonNameOnly(cn: string | undefined): a.Name {
  if (cn === undefined) return new a.Name([]);
  return new a.Name([new a.RelativeDistinguishedName([new a.AttributeTypeAndValue({type: OID.commonName, value: new a.AttributeValue({utf8String: cn})})])]);
}

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
export function keyIdentifier(spki: a.SubjectPublicKeyInfo): ArrayBuffer {
  const digest = createHash('sha1').update(Buffer.from(spki.subjectPublicKey)).digest();
  return digest.buffer.slice(digest.byteOffset, digest.byteOffset + digest.byteLength) as ArrayBuffer;
}

export function spkiOf(key: KeyObject): a.SubjectPublicKeyInfo {
  return AsnConvert.parse((key.type === 'private' ? createPublicKey(key) : key).export({type: 'spki', format: 'der'}), a.SubjectPublicKeyInfo);
}

/** Positive INTEGER octets of a hex serial (a leading zero byte when the top bit is set). */
export function serialOctets(hex: string): ArrayBuffer {
  const bytes = Buffer.from(hex, 'hex');
  const out = bytes[0]! >= 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
  return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer;
}

/** DER length octets (X.690 8.1.3: short form below 128, else the long form). */
function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/**
 * Signs a TBSCertificate with Node's crypto and returns the certificate's DER. The signed
 * bytes are wrapped as they are (SEQUENCE of tbsCertificate, algorithm, BIT STRING signature)
 * rather than serialized a second time inside a Certificate object: the same DER, half the work.
 */
export function signCertificate(tbs: a.TBSCertificate, key: KeyObject, digest: string | null): Buffer {
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = sign(digest, tbsDer, key);
  const algorithm = Buffer.from(AsnConvert.serialize(tbs.signature));
  const bits = Buffer.concat([Buffer.from([0x03]), derLength(signature.length + 1), Buffer.from([0x00]), signature]);
  const body = Buffer.concat([tbsDer, algorithm, bits]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

/** What the CA needs to know of its issuer certificate, parsed once per certificate. */
export interface IssuerFacts {
  subject: a.Name;
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
    notAfter: tbs.validity.notAfter.getTime(),
    keyId: ski ? AsnConvert.parse(ski.extnValue.buffer, a.SubjectKeyIdentifier).buffer : keyIdentifier(tbs.subjectPublicKeyInfo),
  };
  if (issuerCache.size > 32) issuerCache.clear();
  issuerCache.set(pem, facts);
  return facts;
}

export interface FastCsr {
  publicKey: KeyObject;
  subjectName: a.Name;
  extensions: a.Extension[];
  /** Whether the signature was checked here (false: an algorithm for the slow path). */
  verified: boolean;
  signatureOk: boolean;
}

/** Parses a DER CSR and checks its signature with Node's crypto where the algorithm allows. */
export function parseCsrDer(der: Buffer): FastCsr {
  const csr = AsnConvert.parse(der, CertificationRequest);
  const info = csr.certificationRequestInfo;
  const publicKey = createPublicKey({key: Buffer.from(AsnConvert.serialize(info.subjectPKInfo)), format: 'der', type: 'spki'});
  const extensions: a.Extension[] = [];
  for (const attribute of info.attributes) {
    if (attribute.type !== OID.extensionRequest) continue;
    for (const value of attribute.values) extensions.push(...AsnConvert.parse(value, a.Extensions));
  }
  const algorithm = csr.signatureAlgorithm.algorithm;
  if (!(algorithm in VERIFY_DIGESTS) || !csr.certificationRequestInfoRaw) return {publicKey, subjectName: info.subject, extensions, verified: false, signatureOk: false};
  let signatureOk = false;
  try {
    signatureOk = verify(VERIFY_DIGESTS[algorithm]!, Buffer.from(csr.certificationRequestInfoRaw), publicKey, Buffer.from(csr.signature));
  } catch {
    signatureOk = false;
  }
  return {publicKey, subjectName: info.subject, extensions, verified: true, signatureOk};
}
