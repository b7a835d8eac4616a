/**
 * @bcl/pki-ca: issuing X.509 certificates for the company PKI, whatever keeps the inventory
 * (pkictl's Git store, the PKI server's database). Node's crypto and @peculiar/x509; no oclif,
 * no @bcl/core, no I/O: callers pass keys, certificates, clocks and serials in.
 *
 * Light entry points: `@bcl/pki-ca/policy` (policy schema and request checks), `@bcl/pki-ca/keys`
 * (key checks, signatures, fingerprints, renewal proofs), `@bcl/pki-ca/crl-reasons`.
 */
export {type PkiCaErrorOptions} from './errors.js';
export * from './policy.js';
export * from './keys.js';
export {randomSerial, checkSerial} from './serial.js';
export {createCsr, parseCsr, type ParsedCsr} from './csr.js';
export {
  buildLeafCertificate,
  buildCaCertificate,
  buildOcspResponderCertificate,
  type OcspResponderParams,
  keyUsageFor,
  subjectCommonName,
  validityPeriod,
  BACKDATE_MS,
  type CaCertificateParams,
  type IssuedLeaf,
  type Issuer,
  type LeafParams,
  type RevocationPointers,
} from './certificates.js';
export {checkNameConstraints, constraintsOf, nameConstraintsExtension, type IssuerConstraints} from './names.js';
export {buildCrl, parseCrl, CRL_REASONS, type CrlEntry, type CrlParams, type CrlReason, type ParsedCrl} from './crl.js';
export {describeCertificate, type CertificateDetails} from './describe.js';
