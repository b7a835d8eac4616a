/**
 * The issuing CA the server signs with: its certificate chain and private key, from files the
 * operator mounts (a Kubernetes Secret). Checked at start: the key belongs to the first
 * certificate, every certificate is signed by the next, and the issuer is a CA.
 */
import {createHash, createPrivateKey, createPublicKey, type KeyObject, X509Certificate} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {AsnConvert} from '@peculiar/asn1-schema';
import {Certificate} from '@peculiar/asn1-x509';
import {certificateFingerprint, keysMatch} from '@bcl/pki-ca/keys';
import {ConfigError} from './config.js';

export interface CaMaterial {
  /** The issuing CA's certificate (PEM). */
  issuerPem: string;
  issuerDer: Buffer;
  issuer: X509Certificate;
  key: KeyObject;
  /** Issuer first, root last (PEM), as clients install it. */
  chainPem: string;
  rootPem: string;
  /** The root's SHA-256 fingerprint (AB:CD:...), what pkictl pins. */
  rootFingerprint: string;
  /** The inventory's issuer column: SHA-256 (hex) of the issuer's SubjectPublicKeyInfo. */
  issuerId: string;
  /** For OCSP CertIDs: the issuer's subject name (DER) and public key bits. */
  issuerNameDer: Buffer;
  issuerKeyBits: Buffer;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function loadCa(params: {certificateFile: string; keyFile: string; passphrase?: string | undefined; configFile: string}): CaMaterial {
  const read = (file: string, key: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`${params.configFile}: ${key}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, params.configFile);
    }
  };
  const pems = read(params.certificateFile, 'ca.certificate').match(PEM_CERT) ?? [];
  if (pems.length === 0) throw new ConfigError(`${params.configFile}: ca.certificate: ${params.certificateFile} holds no PEM certificate`, params.configFile);
  const certs = pems.map((p) => new X509Certificate(p));
  const issuer = certs[0]!;
  if (!issuer.ca) throw new ConfigError(`${params.configFile}: ca.certificate: the first certificate of ${params.certificateFile} (${issuer.subject}) is not a CA certificate`, params.configFile);
  for (let i = 0; i < certs.length; i++) {
    const signer = certs[i + 1] ?? certs[i]!;
    if (!certs[i]!.verify(signer.publicKey)) {
      throw new ConfigError(`${params.configFile}: ca.certificate: ${certs[i]!.subject} in ${params.certificateFile} is not signed by ${i + 1 < certs.length ? 'the next certificate' : 'itself (the last one must be the root)'}`, params.configFile);
    }
  }
  const keyText = read(params.keyFile, 'ca.key');
  let key: KeyObject;
  try {
    key = createPrivateKey(keyText.includes('ENCRYPTED') ? {key: keyText, format: 'pem', passphrase: params.passphrase ?? ''} : keyText);
  } catch (error) {
    throw new ConfigError(`${params.configFile}: ca.key: cannot read the CA key ${params.keyFile}${keyText.includes('ENCRYPTED') ? ' (wrong or missing ca.passphrase?)' : ''}: ${(error as Error).message}`, params.configFile);
  }
  if (!keysMatch(key, issuer.publicKey)) throw new ConfigError(`${params.configFile}: ca.key: ${params.keyFile} is not the key of ${issuer.subject} (the first certificate of ca.certificate)`, params.configFile);
  const parsed = AsnConvert.parse(issuer.raw, Certificate);
  const root = pems.at(-1)!;
  return {
    issuerPem: `${pems[0]!}\n`,
    issuerDer: issuer.raw,
    issuer,
    key,
    chainPem: `${pems.join('\n')}\n`,
    rootPem: `${root}\n`,
    rootFingerprint: certificateFingerprint(root),
    issuerId: createHash('sha256').update(createPublicKey(key).export({type: 'spki', format: 'der'})).digest('hex'),
    issuerNameDer: Buffer.from(AsnConvert.serialize(parsed.tbsCertificate.subject)),
    issuerKeyBits: Buffer.from(parsed.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey),
  };
}
