/** PKCS#10 certificate requests: made by a requester with the new key, checked by the CA. */
import {createPublicKey, type KeyObject} from 'node:crypto';
import {invalid, refused} from './errors.js';
import {classifyKey} from './keys.js';
import type {San, SanType} from './policy.js';
import {signingAlgorithm, signingKey, verifyingKey, x509} from './webcrypto.js';

export const toJsonSan = (s: San): x509.JsonGeneralName => ({type: s.type === 'uri' ? 'url' : s.type, value: s.value});
export const fromGeneralName = (n: {type: string; value: string}): San => ({type: (n.type === 'url' ? 'uri' : n.type) as SanType, value: n.value});

/** A PKCS#10 request signed with the new key (proof of possession). */
export async function createCsr(params: {privateKey: KeyObject; publicKey: KeyObject; commonName: string; sans: San[]}): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{CN: [params.commonName]}],
    keys: {privateKey: signingKey(params.privateKey), publicKey: verifyingKey(params.publicKey)},
    signingAlgorithm: signingAlgorithm(params.privateKey),
    extensions: params.sans.length ? [new x509.SubjectAlternativeNameExtension(params.sans.map(toJsonSan))] : [],
  });
  return csr.toString('pem');
}

/** What a CSR holds and asks for; a CA takes only its public key (after checking its signature). */
export interface ParsedCsr {
  publicKey: KeyObject;
  subject: string;
  sans: San[];
  asksForCa: boolean;
  /** Extension OIDs other than SAN and basicConstraints. */
  otherExtensions: string[];
}

/** Parses a CSR and checks its self-signature; `file` names it in errors (code csr_invalid). */
export async function parseCsr(pem: string, file: string): Promise<ParsedCsr> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch (error) {
    throw invalid('csr_invalid', `${file} is not a PKCS#10 certificate request: ${(error as Error).message}`, {details: {file}});
  }
  // A weak key is refused whatever its signature (WebCrypto cannot even check a P-192 one).
  const early = publicKeyOf(csr);
  const kind = early ? classifyKey(early) : undefined;
  if (kind && typeof kind !== 'string' && kind.weak) {
    throw refused('key_refused', `${file} carries a weak ${kind.unsupported} key; it is refused whatever the policy says`, {details: {file, key: kind.unsupported}});
  }
  let ok = false;
  try {
    ok = await csr.verify();
  } catch {
    ok = false;
  }
  if (!ok) {
    throw invalid('csr_invalid', `${file}: the request's signature does not verify with its own public key`, {
      hint: 'The CSR was altered or was not made with the key it carries; reject the request.',
      details: {file},
    });
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki'});
  } catch (error) {
    throw invalid('csr_invalid', `${file}: unreadable public key: ${(error as Error).message}`, {details: {file}});
  }
  const sans: San[] = [];
  let asksForCa = false;
  const otherExtensions: string[] = [];
  for (const ext of csr.extensions) {
    if (ext instanceof x509.SubjectAlternativeNameExtension) {
      for (const n of ext.names.items) sans.push(fromGeneralName(n));
    } else if (ext instanceof x509.BasicConstraintsExtension) {
      asksForCa = ext.ca;
    } else otherExtensions.push(ext.type);
  }
  return {publicKey, subject: csr.subject, sans, asksForCa, otherExtensions};
}

function publicKeyOf(csr: x509.Pkcs10CertificateRequest): KeyObject | undefined {
  try {
    return createPublicKey({key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki'});
  } catch {
    return undefined;
  }
}
