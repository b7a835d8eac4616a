import {X509Certificate as NodeX509} from 'node:crypto';
import {normalizeSerial} from '@bcl/pki-local';
import {certificateFingerprint} from './keys.js';
import {KEY_USAGES} from './policy.js';
import {x509} from './webcrypto.js';

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
  crlUrls: string[];
  caIssuersUrls: string[];
  ocspUrls: string[];
  sha256Fingerprint: string;
}

/** What a certificate says, in plain terms (for `show` and the like). */
export function describeCertificate(pem: string): CertificateDetails {
  const cert = new x509.X509Certificate(pem);
  const node = new NodeX509(pem);
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const cdp = cert.getExtension(x509.CRLDistributionPointsExtension);
  const aia = cert.getExtension(x509.AuthorityInfoAccessExtension);
  const ekuNames = Object.fromEntries(Object.entries(x509.ExtendedKeyUsage).map(([k, v]) => [v, k]));
  const details = node.publicKey.asymmetricKeyDetails ?? {};
  const urls = (names: {type: string; value: string}[] | undefined) => (names ?? []).filter((n) => n.type === 'url').map((n) => n.value);
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
    crlUrls: (cdp?.distributionPoints ?? []).flatMap((dp) => urls(dp.distributionPoint?.fullName?.map((g) => new x509.GeneralName(g).toJSON()))),
    caIssuersUrls: urls(aia?.caIssuers.map((g) => g.toJSON())),
    ocspUrls: urls(aia?.ocsp.map((g) => g.toJSON())),
    sha256Fingerprint: certificateFingerprint(node),
  };
}
