/** Certificate revocation lists: built with the number the caller allocates, parsed with their signature checked. */
import type {KeyObject} from 'node:crypto';
import {AsnConvert} from '@peculiar/asn1-schema';
import {CRLNumber, DistributionPointName, GeneralName, id_ce_cRLNumber, id_ce_issuingDistributionPoint, IssuingDistributionPoint} from '@peculiar/asn1-x509';
import {normalizeSerial} from '@bcl/pki-local';
import {invalid} from './errors.js';
import type {Issuer} from './certificates.js';
import {pemBlock, signingAlgorithm, signingKey, spki, x509} from './webcrypto.js';

/** The RFC 5280 revocation reasons (also in ./crl-reasons for light importers). */
export {CRL_REASONS, type CrlReason} from './crl-reasons.js';
import type {CrlReason} from './crl-reasons.js';

export interface CrlEntry {
  serial: string;
  revokedAt: Date;
  reason: CrlReason;
}

export interface CrlParams {
  issuer: Issuer;
  number: number | bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  entries: readonly CrlEntry[];
  /**
   * 'ca-certificates': a root's CRL of the CAs it signed (an ARL: issuingDistributionPoint with
   * onlyContainsCACerts, so relying parties and linters hold it to CA rules, not to a leaf CRL's).
   */
  scope?: 'all' | 'ca-certificates' | undefined;
  /** With a scope: the URL the CRL is published at (the certificates' cRLDistributionPoints). */
  url?: string | undefined;
}

/**
 * A v2 CRL signed by the issuing CA, with its CRL number (the caller allocates it, strictly
 * increasing: one writer at a time) and the authority key identifier. PEM labelled "X509 CRL",
 * as openssl and every TLS stack read it.
 */
export async function buildCrl(p: CrlParams): Promise<string> {
  const issuerCert = new x509.X509Certificate(p.issuer.certPem);
  const number = new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(new CRLNumber(Number(p.number))));
  const scope: x509.Extension[] = [];
  if (p.scope === 'ca-certificates') {
    const idp = new IssuingDistributionPoint({
      onlyContainsCACerts: true,
      ...(p.url ? {distributionPoint: new DistributionPointName({fullName: [new GeneralName({uniformResourceIdentifier: p.url})]})} : {}),
    });
    scope.push(new x509.Extension(id_ce_issuingDistributionPoint, true, AsnConvert.serialize(idp)));
  }
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuerCert.subjectName,
    thisUpdate: p.thisUpdate,
    nextUpdate: p.nextUpdate,
    signingKey: signingKey(p.issuer.key),
    signingAlgorithm: signingAlgorithm(p.issuer.key),
    extensions: [number, await x509.AuthorityKeyIdentifierExtension.create(spki(p.issuer.key)), ...scope],
    entries: p.entries.map((e) => ({serialNumber: e.serial, revocationDate: e.revokedAt, reason: x509.X509CrlReason[e.reason]})),
  });
  return pemBlock('X509 CRL', crl.rawData);
}

export interface ParsedCrl {
  number: number | null;
  thisUpdate: Date;
  nextUpdate?: Date;
  revoked: {serial: string; revokedAt: Date; reason?: string}[];
}

/** Parses a CRL and checks its signature against the issuing CA's certificate (code crl_invalid). */
export async function parseCrl(pem: string, file: string, issuerCertPem: string): Promise<ParsedCrl> {
  let crl: x509.X509Crl;
  try {
    crl = new x509.X509Crl(pem);
  } catch (error) {
    throw invalid('crl_invalid', `${file} is not a PEM CRL: ${(error as Error).message}`, {details: {file}});
  }
  const issuer = new x509.X509Certificate(issuerCertPem);
  if (!(await crl.verify({publicKey: issuer}).catch(() => false))) {
    throw invalid('crl_invalid', `${file}: the CRL's signature does not verify with the CA certificate (${issuer.subject})`, {details: {file}});
  }
  const numberExt = crl.extensions.find((e) => e.type === id_ce_cRLNumber);
  return {
    number: numberExt ? Number(AsnConvert.parse(numberExt.value, CRLNumber).value) : null,
    thisUpdate: crl.thisUpdate,
    ...(crl.nextUpdate ? {nextUpdate: crl.nextUpdate} : {}),
    revoked: crl.entries.map((e) => ({
      serial: normalizeSerial(e.serialNumber) ?? e.serialNumber,
      revokedAt: e.revocationDate,
      ...(e.reason !== undefined ? {reason: x509.X509CrlReason[e.reason]} : {}),
    })),
  };
}
