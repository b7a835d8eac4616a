/**
 * Certificates a CA signs: leaves (subject and names decided by the caller from a verified
 * identity and the policy; everything a CSR asks for beyond its key is the caller's to drop) and
 * CA certificates (a root, or an intermediate with name constraints and revocation pointers).
 */
import type {KeyObject} from 'node:crypto';
import {normalizeSerial} from '@bcl/pki-local';
import * as asn1 from '@peculiar/asn1-x509';
import {AsnConvert} from '@peculiar/asn1-schema';
import {extension, issuerFacts, keyIdentifierOfSpki, spkiDerOf, subjectAltNameDer, subjectKeyIdentifierDer, tbsCertificate} from './asn1.js';
import {commonNameOnlyDer, encodedSignatureAlgorithm, signTbs} from './der.js';
import type {ExtendedKeyUsageName, KeyUsageName, PermittedNames, Profile, San} from './policy.js';
import {checkNameConstraints, constraintsOf, nameConstraintsExtension} from './names.js';
import {checkSerial, randomSerial} from './serial.js';
import {pemBlock, signingAlgorithm, signingKey, spki, x509} from './webcrypto.js';

const DAY = 86_400_000;
/** Certificates are valid from a few minutes back, for clocks that run slow. */
export const BACKDATE_MS = 5 * 60_000;
const wholeSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

/**
 * The validity of a certificate: from `now` less the backdate, for the lifetime asked (capped by
 * the maximum), never past the issuer's own notAfter. RFC 5280 counts both ends (notBefore through
 * notAfter inclusive), so a 397-day maximum gives exactly 397 days, backdate included.
 */
export function validityPeriod(p: {now: Date; maxDays: number; days?: number | undefined; issuerNotAfter?: Date; backdateMs?: number}): {notBefore: Date; notAfter: Date; days: number; capped: boolean} {
  const days = Math.min(p.days ?? p.maxDays, p.maxDays);
  const notBefore = wholeSeconds(p.now.getTime() - (p.backdateMs ?? BACKDATE_MS));
  const end = notBefore.getTime() + days * DAY - 1000;
  const notAfter = wholeSeconds(p.issuerNotAfter ? Math.min(end, p.issuerNotAfter.getTime()) : end);
  return {notBefore, notAfter, days, capped: (p.days ?? 0) > p.maxDays};
}

/**
 * The key usages a certificate gets: those the profile asks for that its key's algorithm allows
 * (RFC 3279, RFC 5480 and RFC 8813 for EC, RFC 8410 for Ed25519). EC keys sign and agree keys;
 * RSA keys sign and encipher; Ed25519 keys only sign. digitalSignature when nothing is left.
 */
export function keyUsageFor(asked: readonly KeyUsageName[], key: KeyObject): KeyUsageName[] {
  const allowed: Record<string, readonly KeyUsageName[]> = {
    ec: ['digitalSignature', 'nonRepudiation', 'keyAgreement'],
    rsa: ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment'],
    ed25519: ['digitalSignature', 'nonRepudiation'],
  };
  const ok = allowed[key.asymmetricKeyType ?? ''] ?? ['digitalSignature'];
  const usages = asked.filter((u) => ok.includes(u));
  return usages.length > 0 ? [...new Set(usages)] : ['digitalSignature'];
}

/** Common names are at most 64 characters (RFC 5280 ub-common-name). */
const MAX_CN = 64;

/**
 * The subject common name: for a TLS server profile (serverAuth), the first DNS name, or none
 * (IP-only) so the CN is always one of the certificate's names; for other profiles the
 * identity's name (its email unless the requester chose another).
 */
export function subjectCommonName(profile: Pick<Profile, 'extendedKeyUsage'>, identity: {name?: string | undefined; sans: readonly San[]}): string | undefined {
  if (profile.extendedKeyUsage.includes('serverAuth')) {
    const dns = identity.sans.find((s) => s.type === 'dns');
    return dns && dns.value.length <= MAX_CN ? dns.value : undefined;
  }
  return identity.name && identity.name.length <= MAX_CN ? identity.name : undefined;
}

/** Where relying parties find revocation data for a certificate. */
export interface RevocationPointers {
  crlUrl?: string | undefined;
  caCertUrl?: string | undefined;
  ocspUrl?: string | undefined;
}

function revocationExtensions(r: RevocationPointers | undefined): x509.Extension[] {
  const out: x509.Extension[] = [];
  if (r?.crlUrl) out.push(new x509.CRLDistributionPointsExtension([r.crlUrl], false));
  if (r?.caCertUrl || r?.ocspUrl) {
    out.push(new x509.AuthorityInfoAccessExtension({...(r.ocspUrl ? {ocsp: [r.ocspUrl]} : {}), ...(r.caCertUrl ? {caIssuers: [r.caCertUrl]} : {})}, false));
  }
  return out;
}

export interface Issuer {
  /** The issuing CA's certificate (PEM). */
  certPem: string;
  key: KeyObject;
}

export interface LeafParams {
  issuer: Issuer;
  /** The subject's public key (from a CSR whose signature was checked). */
  publicKey: KeyObject;
  profile: Profile;
  /** Decided by the caller from the verified identity and the policy, never from the CSR. */
  identity: {name?: string | undefined; sans: San[]};
  /** The lifetime asked for; capped by the profile's maximum. */
  lifetimeDays?: number | undefined;
  revocation?: RevocationPointers | undefined;
  now: Date;
  /** A serial the caller reserved (9-20 bytes of hex); a random 16-byte one when omitted. */
  serial?: string | undefined;
  /** Names the request in messages ("request 1a2b"). */
  where?: string | undefined;
}

export interface IssuedLeaf {
  pem: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  commonName: string | null;
  keyUsage: KeyUsageName[];
  /** Whether the lifetime asked for was above the profile's maximum. */
  lifetimeCapped: boolean;
}

/** A leaf certificate: CA:FALSE, the profile's usages as the key allows, the policy's revocation pointers. */
export async function buildLeafCertificate(p: LeafParams): Promise<IssuedLeaf> {
  const issuer = issuerFacts(p.issuer.certPem);
  checkNameConstraints(issuerConstraints(p.issuer.certPem), p.identity.sans, p.where ?? 'the certificate');
  const serial = p.serial === undefined ? randomSerial() : checkSerial(p.serial);
  const validity = validityPeriod({now: p.now, maxDays: p.profile.maxLifetimeDays, days: p.lifetimeDays, issuerNotAfter: issuer.notAfter});
  const keyUsage = keyUsageFor(p.profile.keyUsage, p.publicKey);
  const commonName = subjectCommonName(p.profile, p.identity);
  const flags = keyUsage.reduce((acc, u) => acc | x509.KeyUsageFlags[u], 0);
  const spkiDer = spkiDerOf(p.publicKey);
  const fixed = fixedExtensions(p.issuer.certPem, issuer.keyId, flags, p.profile.extendedKeyUsage, p.revocation);
  const extensions: Uint8Array[] = [...fixed.before, subjectKeyIdentifierDer(keyIdentifierOfSpki(spkiDer)), ...fixed.after];
  // With an empty subject the names are the certificate's only identity: the SAN is then critical.
  if (p.identity.sans.length) extensions.push(subjectAltNameDer(p.identity.sans, commonName === undefined));
  const algorithm = encodedSignatureAlgorithm(p.issuer.key);
  const tbs = tbsCertificate({serial, algorithm: algorithm.der, issuer: issuer.subjectDer, notBefore: validity.notBefore, notAfter: validity.notAfter, subject: commonNameOnlyDer(commonName), spki: spkiDer, extensions});
  const der = signTbs(tbs, algorithm.der, p.issuer.key, algorithm.digest);
  return {
    pem: pemBlock('CERTIFICATE', der),
    serial,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    commonName: commonName ?? null,
    keyUsage,
    lifetimeCapped: validity.capped,
  };
}

const derOf = (value: unknown) => new Uint8Array(AsnConvert.serialize(value));
const fixedCache = new Map<string, {before: Uint8Array[]; after: Uint8Array[]}>();

/**
 * The extensions every leaf of one issuer, key usage, profile and set of revocation URLs shares,
 * encoded once (encoding them was a good part of the cost of a certificate).
 */
function fixedExtensions(issuerPem: string, issuerKeyId: ArrayBuffer, flags: number, eku: readonly ExtendedKeyUsageName[], revocation: RevocationPointers | undefined) {
  const key = JSON.stringify([issuerPem, flags, eku, revocation?.crlUrl, revocation?.caCertUrl, revocation?.ocspUrl]);
  let hit = fixedCache.get(key);
  if (!hit) {
    hit = {
      before: [
        extension(asn1.id_ce_basicConstraints, true, new asn1.BasicConstraints({cA: false})),
        extension(asn1.id_ce_keyUsage, true, new asn1.KeyUsage(flags)),
        extension(asn1.id_ce_extKeyUsage, false, new asn1.ExtendedKeyUsage(eku.map((u) => x509.ExtendedKeyUsage[u]))),
      ].map(derOf),
      after: [extension(asn1.id_ce_authorityKeyIdentifier, false, new asn1.AuthorityKeyIdentifier({keyIdentifier: new asn1.KeyIdentifier(issuerKeyId)})), ...revocationAsn1(revocation)].map(derOf),
    };
    if (fixedCache.size > 64) fixedCache.clear();
    fixedCache.set(key, hit);
  }
  return hit;
}

const constraintsCache = new Map<string, ReturnType<typeof constraintsOf>>();

/** The issuer's name constraints, read once per issuer certificate. */
function issuerConstraints(pem: string): ReturnType<typeof constraintsOf> {
  if (!constraintsCache.has(pem)) {
    if (constraintsCache.size > 32) constraintsCache.clear();
    constraintsCache.set(pem, constraintsOf(new x509.X509Certificate(pem)));
  }
  return constraintsCache.get(pem);
}

function revocationAsn1(r: RevocationPointers | undefined): asn1.Extension[] {
  const out: asn1.Extension[] = [];
  const uri = (u: string) => new asn1.GeneralName({uniformResourceIdentifier: u});
  if (r?.crlUrl) {
    out.push(extension(asn1.id_ce_cRLDistributionPoints, false, new asn1.CRLDistributionPoints([new asn1.DistributionPoint({distributionPoint: new asn1.DistributionPointName({fullName: [uri(r.crlUrl)]})})])));
  }
  if (r?.caCertUrl || r?.ocspUrl) {
    out.push(
      extension(
        asn1.id_pe_authorityInfoAccess,
        false,
        new asn1.AuthorityInfoAccessSyntax([
          ...(r.ocspUrl ? [new asn1.AccessDescription({accessMethod: asn1.id_ad_ocsp, accessLocation: uri(r.ocspUrl)})] : []),
          ...(r.caCertUrl ? [new asn1.AccessDescription({accessMethod: asn1.id_ad_caIssuers, accessLocation: uri(r.caCertUrl)})] : []),
        ]),
      ),
    );
  }
  return out;
}

export interface CaCertificateParams {
  commonName: string;
  key: KeyObject;
  days: number;
  /** 0: signs only leaves; 1: may sign one level of intermediates. */
  pathLength: number;
  /** An intermediate: the root that signs it (a root is self-signed). */
  issuer?: Issuer | undefined;
  /** An intermediate: the names it may sign (from the policy's permittedNames). */
  permittedNames?: PermittedNames | undefined;
  /** An intermediate: where its issuer's CRL and certificate are published. */
  revocation?: Omit<RevocationPointers, 'ocspUrl'> | undefined;
  now: Date;
  serial?: string | undefined;
}

/** A self-signed root CA, or an intermediate signed by `issuer`. */
export async function buildCaCertificate(p: CaCertificateParams): Promise<string> {
  const validity = validityPeriod({now: p.now, maxDays: p.days});
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, p.pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
    await x509.SubjectKeyIdentifierExtension.create(spki(p.key)),
  ];
  const issuerCert = p.issuer ? new x509.X509Certificate(p.issuer.certPem) : undefined;
  if (p.issuer) {
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(spki(p.issuer.key)), ...revocationExtensions(p.revocation));
    const constraints = p.permittedNames ? nameConstraintsExtension(p.permittedNames) : undefined;
    if (constraints) extensions.push(constraints);
  }
  const signer = p.issuer?.key ?? p.key;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: p.serial === undefined ? randomSerial() : checkSerial(p.serial),
    subject: [{CN: [p.commonName]}],
    issuer: issuerCert ? issuerCert.subjectName : [{CN: [p.commonName]}],
    notBefore: validity.notBefore,
    notAfter: issuerCert ? new Date(Math.min(validity.notAfter.getTime(), issuerCert.notAfter.getTime())) : validity.notAfter,
    publicKey: spki(p.key),
    signingKey: signingKey(signer),
    signingAlgorithm: signingAlgorithm(signer),
    extensions,
  });
  return cert.toString('pem');
}

export interface OcspResponderParams {
  issuer: Issuer;
  /** The responder's own public key (its private key stays with the responder). */
  publicKey: KeyObject;
  commonName: string;
  now: Date;
  days: number;
  serial?: string | undefined;
}

/** id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1): relying parties need not check the responder's own status. */
const OCSP_NOCHECK = '1.3.6.1.5.5.7.48.1.5';

/**
 * A delegated OCSP responder certificate (RFC 6960 4.2.2.2): issued by the CA whose certificates
 * it answers for, CA:FALSE, digitalSignature, the OCSPSigning extended key usage and
 * ocsp-nocheck, short-lived (the responder makes a new one before it expires).
 */
export async function buildOcspResponderCertificate(p: OcspResponderParams): Promise<IssuedLeaf> {
  const issuerCert = new x509.X509Certificate(p.issuer.certPem);
  const serial = p.serial === undefined ? randomSerial() : checkSerial(p.serial);
  const validity = validityPeriod({now: p.now, maxDays: p.days, issuerNotAfter: issuerCert.notAfter});
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: [{CN: [p.commonName]}],
    issuer: issuerCert.subjectName,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    publicKey: spki(p.publicKey),
    signingKey: signingKey(p.issuer.key),
    signingAlgorithm: signingAlgorithm(p.issuer.key),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.ocspSigning], false),
      new x509.Extension(OCSP_NOCHECK, false, new Uint8Array([0x05, 0x00])),
      await x509.SubjectKeyIdentifierExtension.create(spki(p.publicKey)),
      await x509.AuthorityKeyIdentifierExtension.create(spki(p.issuer.key)),
    ],
  });
  return {
    pem: cert.toString('pem'),
    serial: normalizeSerial(cert.serialNumber) ?? serial,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    commonName: p.commonName,
    keyUsage: ['digitalSignature'],
    lifetimeCapped: false,
  };
}
