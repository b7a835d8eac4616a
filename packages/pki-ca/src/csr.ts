/** PKCS#10 certificate requests: made by a requester with the new key, checked by the CA. */
import type {KeyObject} from 'node:crypto';
import {AsnConvert} from '@peculiar/asn1-schema';
import * as asn1 from '@peculiar/asn1-x509';
import {type FastCsr, parseCsrDer, requestedNames} from './asn1.js';
import {invalid, refused} from './errors.js';
import {classifyKey} from './keys.js';
import type {San} from './policy.js';
import {x509} from './webcrypto.js';


export {createCsr} from './make-csr.js';

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
  const body = /-----BEGIN (NEW )?CERTIFICATE REQUEST-----([\s\S]+?)-----END (NEW )?CERTIFICATE REQUEST-----/.exec(pem)?.[2];
  let fast: FastCsr;
  try {
    if (!body) throw new Error('no PEM block "CERTIFICATE REQUEST"');
    fast = parseCsrDer(Buffer.from(body.replace(/\s+/g, ''), 'base64'));
  } catch (error) {
    throw invalid('csr_invalid', `${file} is not a PKCS#10 certificate request: ${(error as Error).message}`, {details: {file}});
  }
  // A weak key is refused whatever its signature (WebCrypto cannot even check a P-192 one).
  const kind = classifyKey(fast.publicKey);
  if (typeof kind !== 'string' && kind.weak) {
    throw refused('key_refused', `${file} carries a weak ${kind.unsupported} key; it is refused whatever the policy says`, {details: {file, key: kind.unsupported}});
  }
  // Algorithms Node's crypto is not told how to verify here (RSA-PSS...) take @peculiar/x509's way.
  // (Its parser sees the whole request again: what it cannot read does not verify either.)
  const ok = fast.verified ? fast.signatureOk : await Promise.resolve().then(() => new x509.Pkcs10CertificateRequest(pem).verify()).catch(() => false);
  if (!ok) {
    throw invalid('csr_invalid', `${file}: the request's signature does not verify with its own public key`, {
      hint: 'The CSR was altered or was not made with the key it carries; reject the request.',
      details: {file},
    });
  }
  const sans: San[] = [];
  let asksForCa = false;
  const otherExtensions: string[] = [];
  for (const ext of fast.extensions) {
    try {
      if (ext.extnID === asn1.id_ce_subjectAltName) {
        sans.push(...requestedNames(ext.value));
      } else if (ext.extnID === asn1.id_ce_basicConstraints) {
        asksForCa = AsnConvert.parse(ext.value, asn1.BasicConstraints).cA;
      } else otherExtensions.push(ext.extnID);
    } catch (error) {
      throw invalid('csr_invalid', `${file}: its ${ext.extnID === asn1.id_ce_subjectAltName ? 'subjectAltName' : 'basicConstraints'} extension cannot be read: ${(error as Error).message}`, {details: {file}});
    }
  }
  const subjectDer = fast.subject;
  return {
    publicKey: fast.publicKey,
    // Read when asked for: a CA takes nothing from the subject, and reading a Name is not free.
    get subject() {
      return new x509.Name(subjectDer).toString();
    },
    sans,
    asksForCa,
    otherExtensions,
  };
}
