/**
 * Renewal proofs: a renewal request is signed with the private key of the certificate it renews,
 * so nobody but that key's holder can have a certificate renewed (and the old one superseded).
 * The signature covers the renewed serial, the new CSR and the request's fields, so none of them
 * can be changed after signing.
 */
import {createHash, type KeyObject, X509Certificate} from 'node:crypto';
import {normalizeSerial} from '@bcl/pki-local';
import {refused} from './errors.js';
import {signData, verifyData} from './keys.js';
import {type Json, stableJson} from './stable-json.js';

export interface RenewalClaim {
  /** The serial of the certificate being renewed (any case, colons allowed). */
  renews: string;
  /** The new request's CSR (PEM). */
  csrPem: string;
  /** The request's own fields, as the caller stores them (id, email, profile, SANs...). */
  request: {[key: string]: Json | undefined};
}

function csrDigest(pem: string): string {
  const body = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
  return createHash('sha256').update(Buffer.from(body, 'base64')).digest('hex');
}

/** The exact bytes a renewal signature covers. */
export function renewalMessage(claim: RenewalClaim): Buffer {
  const serial = normalizeSerial(claim.renews) ?? claim.renews;
  return Buffer.from(`bcl-pki renewal v1\n${stableJson({renews: serial, csrSha256: csrDigest(claim.csrPem), request: claim.request})}\n`);
}

/** Signs a renewal with the key of the certificate it renews (base64). */
export function signRenewal(oldKey: KeyObject, claim: RenewalClaim): string {
  return signData(renewalMessage(claim), oldKey);
}

/**
 * Checks that a renewal was signed with the key of the certificate it renews: `certificatePem`
 * must be that certificate (same serial). `where` names the request in messages. The caller
 * checks the certificate's issuer, owner and status.
 */
export function verifyRenewal(params: {certificatePem: string; claim: RenewalClaim; signature: string | undefined; where: string}): void {
  const {claim, where} = params;
  const cert = new X509Certificate(params.certificatePem);
  const serial = normalizeSerial(claim.renews);
  if (!serial || normalizeSerial(cert.serialNumber) !== serial) {
    throw refused('renewal_mismatch', `${where} renews ${claim.renews}, but the certificate given is ${normalizeSerial(cert.serialNumber)}`, {details: {renews: claim.renews}});
  }
  if (!params.signature) {
    throw refused('renewal_unsigned', `${where} renews ${serial} but is not signed with that certificate's key`, {
      hint: 'A renewal is made with `pkictl renew <serial>` on the machine that holds the old key; reject this request.',
      details: {renews: serial},
    });
  }
  if (!verifyData(renewalMessage(claim), params.signature, cert.publicKey)) {
    throw refused('renewal_signature_invalid', `${where} renews ${serial}, but its signature does not verify with that certificate's key`, {
      hint: 'The request was not made by the holder of the old key, or was changed after signing; reject it.',
      details: {renews: serial},
    });
  }
}
