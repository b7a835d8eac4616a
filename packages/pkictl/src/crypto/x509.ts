/**
 * X.509 with @peculiar/x509 over Node's own WebCrypto (keys stay Node KeyObjects). This module is
 * heavy: only core functions import it, never a command module at top level.
 */
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import {createHash, createPublicKey, type KeyObject, randomBytes, X509Certificate as NodeX509, webcrypto} from 'node:crypto';
import * as x509 from '@peculiar/x509';
import {invalidInput} from '@bcl/core';
import {normalizeSerial} from '@bcl/pki-local';

x509.cryptoProvider.set(webcrypto as never);

const DAY = 86_400_000;

/** WebCrypto algorithm parameters (Node's types; @peculiar/x509 declares the DOM's). */
type WebAlgorithm = {name: string; namedCurve?: string; hash?: string};
type WebKey = webcrypto.CryptoKey;

interface WebAlgorithms {
  importParams: WebAlgorithm;
  signing: WebAlgorithm;
}

function algorithmsFor(key: KeyObject): WebAlgorithms {
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

/** The KeyObject as a WebCrypto key for @peculiar/x509 (typed for its DOM declarations). */
function signingKey(key: KeyObject): never {
  return key.toCryptoKey(algorithmsFor(key).importParams as never, false, ['sign']) as WebKey as never;
}

function signingAlgorithm(key: KeyObject): never {
  return algorithmsFor(key).signing as never;
}

function spki(key: KeyObject): ArrayBuffer {
  const der = (key.type === 'private' ? createPublicKey(key) : key).export({type: 'spki', format: 'der'});
  return der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer;
}

/** A random positive serial of 16 bytes (127 bits of entropy), printed as openssl prints it. */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40; // positive, and always 16 bytes long
  return bytes.toString('hex').toUpperCase();
}

export type SanType = 'email' | 'dns' | 'ip' | 'uri';
export interface San {
  type: SanType;
  value: string;
}

const toJsonSan = (s: San): x509.JsonGeneralName => ({type: s.type === 'uri' ? 'url' : s.type, value: s.value});

/** A PKCS#10 request signed with the new key (proof of possession). */
export async function createCsr(params: {privateKey: KeyObject; publicKey: KeyObject; commonName: string; sans: San[]}): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{CN: [params.commonName]}],
    keys: {privateKey: signingKey(params.privateKey), publicKey: params.publicKey.toCryptoKey(algorithmsFor(params.publicKey).importParams as never, true, ['verify']) as never},
    signingAlgorithm: signingAlgorithm(params.privateKey),
    extensions: params.sans.length ? [new x509.SubjectAlternativeNameExtension(params.sans.map(toJsonSan))] : [],
  });
  return csr.toString('pem');
}

/** What a CSR holds and asks for; the CA takes only its public key (after checking its signature). */
export interface ParsedCsr {
  publicKey: KeyObject;
  subject: string;
  sans: San[];
  asksForCa: boolean;
  /** Extension OIDs other than SAN and basicConstraints. */
  otherExtensions: string[];
}

export async function parseCsr(pem: string, file: string): Promise<ParsedCsr> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch (error) {
    throw invalidInput('pkictl.csr_invalid', `${file} is not a PKCS#10 certificate request: ${(error as Error).message}`, {
      hint: 'Reject this request (pkictl reject <id> --reason ...) and ask the requester to request again.',
      details: {file},
    });
  }
  let ok = false;
  try {
    ok = await csr.verify();
  } catch {
    ok = false;
  }
  if (!ok) {
    throw invalidInput('pkictl.csr_invalid', `${file}: the request's signature does not verify with its own public key`, {
      hint: 'The CSR was altered or was not made with the key it carries; reject the request.',
      details: {file},
    });
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki'});
  } catch (error) {
    throw invalidInput('pkictl.csr_invalid', `${file}: unreadable public key: ${(error as Error).message}`, {details: {file}});
  }
  const sans: San[] = [];
  let asksForCa = false;
  const otherExtensions: string[] = [];
  for (const ext of csr.extensions) {
    if (ext instanceof x509.SubjectAlternativeNameExtension) {
      for (const n of ext.names.items) sans.push({type: (n.type === 'url' ? 'uri' : n.type) as SanType, value: n.value});
    } else if (ext instanceof x509.BasicConstraintsExtension) {
      asksForCa = ext.ca;
    } else otherExtensions.push(ext.type);
  }
  return {publicKey, subject: csr.subject, sans, asksForCa, otherExtensions};
}

export interface CaCertificate {
  pem: string;
  cert: x509.X509Certificate;
}

export function loadCertificate(pem: string, file: string): CaCertificate {
  try {
    return {pem, cert: new x509.X509Certificate(pem)};
  } catch (error) {
    throw invalidInput('pkictl.store_corrupt', `${file} is not a PEM certificate: ${(error as Error).message}`, {details: {file}});
  }
}

/** A self-signed root CA, or an intermediate signed by `issuer`. */
export async function createCaCertificate(params: {
  commonName: string;
  key: KeyObject;
  days: number;
  pathLength: number;
  issuer?: {cert: x509.X509Certificate; key: KeyObject};
  now: Date;
}): Promise<string> {
  const notBefore = new Date(params.now.getTime() - 5 * 60_000);
  const notAfter = new Date(params.now.getTime() + params.days * DAY);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, params.pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
    await x509.SubjectKeyIdentifierExtension.create(spki(params.key)),
  ];
  const signer = params.issuer?.key ?? params.key;
  if (params.issuer) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(spki(params.issuer.key)));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{CN: [params.commonName]}],
    issuer: params.issuer ? params.issuer.cert.subjectName : [{CN: [params.commonName]}],
    notBefore,
    notAfter,
    publicKey: spki(params.key),
    signingKey: signingKey(signer),
    signingAlgorithm: signingAlgorithm(signer),
    extensions,
  });
  return cert.toString('pem');
}

export const KEY_USAGES = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement'] as const;
export type KeyUsageName = (typeof KEY_USAGES)[number];
export const EXTENDED_KEY_USAGES = ['clientAuth', 'serverAuth', 'codeSigning', 'emailProtection'] as const;
export type ExtendedKeyUsageName = (typeof EXTENDED_KEY_USAGES)[number];

/** A leaf certificate: subject and SANs as decided by policy, CA:false, lifetime as capped. */
export async function issueLeaf(params: {
  caCert: x509.X509Certificate;
  caKey: KeyObject;
  publicKey: KeyObject;
  serial: string;
  commonName: string;
  sans: San[];
  keyUsage: readonly KeyUsageName[];
  extendedKeyUsage: readonly ExtendedKeyUsageName[];
  notBefore: Date;
  notAfter: Date;
}): Promise<string> {
  const flags = params.keyUsage.reduce((acc, u) => acc | x509.KeyUsageFlags[u], 0);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(flags, true),
    new x509.ExtendedKeyUsageExtension(params.extendedKeyUsage.map((u) => x509.ExtendedKeyUsage[u]), false),
    await x509.SubjectKeyIdentifierExtension.create(spki(params.publicKey)),
    await x509.AuthorityKeyIdentifierExtension.create(spki(params.caKey)),
  ];
  if (params.sans.length) extensions.push(new x509.SubjectAlternativeNameExtension(params.sans.map(toJsonSan), false));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: params.serial,
    subject: [{CN: [params.commonName]}],
    issuer: params.caCert.subjectName,
    notBefore: params.notBefore,
    notAfter: params.notAfter,
    publicKey: spki(params.publicKey),
    signingKey: signingKey(params.caKey),
    signingAlgorithm: signingAlgorithm(params.caKey),
    extensions,
  });
  return cert.toString('pem');
}

export {CRL_REASONS, type CrlReason} from './crl-reasons.js';
import type {CrlReason} from './crl-reasons.js';

/** DER of a non-negative INTEGER (for the CRL number extension). */
function derInteger(n: number): Uint8Array {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Uint8Array.from([0x02, bytes.length, ...bytes]);
}

/** A CRL (v2, with CRL number and authority key identifier) signed by the issuing CA. */
export async function createCrl(params: {
  caCert: x509.X509Certificate;
  caKey: KeyObject;
  number: number;
  thisUpdate: Date;
  nextUpdate: Date;
  entries: {serial: string; revokedAt: Date; reason: CrlReason}[];
}): Promise<string> {
  const crl = await x509.X509CrlGenerator.create({
    issuer: params.caCert.subjectName,
    thisUpdate: params.thisUpdate,
    nextUpdate: params.nextUpdate,
    signingKey: signingKey(params.caKey),
    signingAlgorithm: signingAlgorithm(params.caKey),
    extensions: [new x509.Extension('2.5.29.20', false, derInteger(params.number)), await x509.AuthorityKeyIdentifierExtension.create(spki(params.caKey))],
    entries: params.entries.map((e) => ({serialNumber: e.serial, revocationDate: e.revokedAt, reason: x509.X509CrlReason[e.reason]})),
  });
  // The label openssl and every TLS stack read ("X509 CRL"; @peculiar/x509 writes "CRL").
  return pemBlock('X509 CRL', Buffer.from(crl.rawData));
}

function pemBlock(label: string, der: Buffer): string {
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

export interface ParsedCrl {
  thisUpdate: Date;
  nextUpdate?: Date;
  revoked: {serial: string; revokedAt: Date; reason?: string}[];
}

/** Parses a CRL and checks its signature against the issuing CA certificate. */
export async function parseCrl(pem: string, file: string, issuer: x509.X509Certificate): Promise<ParsedCrl> {
  let crl: x509.X509Crl;
  try {
    crl = new x509.X509Crl(pem);
  } catch (error) {
    throw invalidInput('pkictl.store_corrupt', `${file} is not a PEM CRL: ${(error as Error).message}`, {details: {file}});
  }
  if (!(await crl.verify({publicKey: issuer}).catch(() => false))) {
    throw invalidInput('pkictl.store_corrupt', `${file}: the CRL's signature does not verify with the CA certificate`, {details: {file}});
  }
  return {
    thisUpdate: crl.thisUpdate,
    ...(crl.nextUpdate ? {nextUpdate: crl.nextUpdate} : {}),
    revoked: crl.entries.map((e) => ({
      serial: normalizeSerial(e.serialNumber) ?? e.serialNumber,
      revokedAt: e.revocationDate,
      ...(e.reason !== undefined ? {reason: x509.X509CrlReason[e.reason]} : {}),
    })),
  };
}

export interface CertificateDetails {
  serial: string;
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  sans: string[];
  keyUsage: string[];
  extendedKeyUsage: string[];
  ca: boolean;
  keyType: string;
  sha256Fingerprint: string;
}

/** What a certificate says, for `pkictl show`. */
export function describeCertificate(pem: string): CertificateDetails {
  const cert = new x509.X509Certificate(pem);
  const node = new NodeX509(pem);
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const ekuNames = Object.fromEntries(Object.entries(x509.ExtendedKeyUsage).map(([k, v]) => [v, k]));
  const details = node.publicKey.asymmetricKeyDetails ?? {};
  return {
    serial: normalizeSerial(cert.serialNumber) ?? cert.serialNumber,
    subject: cert.subject,
    issuer: cert.issuer,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    sans: san ? san.names.items.map((n) => `${n.type}:${n.value}`) : [],
    keyUsage: ku ? KEY_USAGES.filter((u) => ku.usages & x509.KeyUsageFlags[u]) : [],
    extendedKeyUsage: eku ? eku.usages.map((u) => ekuNames[String(u)] ?? String(u)) : [],
    ca: bc?.ca ?? false,
    keyType:
      node.publicKey.asymmetricKeyType === 'ec'
        ? `ecdsa ${details.namedCurve}`
        : node.publicKey.asymmetricKeyType === 'rsa'
          ? `rsa ${details.modulusLength}`
          : String(node.publicKey.asymmetricKeyType),
    sha256Fingerprint: createHash('sha256').update(node.raw).digest('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:'),
  };
}

export {x509};
