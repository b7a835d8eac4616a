/**
 * A renewal proves possession of the current key: the request is signed with it. The bytes are
 * those the PKI server verifies (@bcl/pki-ca renewalMessage: "bcl-pki renewal v1", then stable
 * JSON of the renewed serial, the new CSR's SHA-256 and the request's fields).
 */
import {type Json, stableJson} from '@bcl/pki-ca/stable-json';
import {signDer} from './keys.js';
import {fromPem, toBase64, toHex} from './pem.js';

/** The serial as the server normalizes it (@bcl/pki-local normalizeSerial): upper-case hex, no colons, even length. */
export function normalSerial(serial: string): string {
  const s = serial.trim().replace(/^0x/i, '').replace(/[:\s]/g, '').toUpperCase();
  return s.length % 2 === 1 ? `0${s}` : s;
}

export async function renewalMessage(claim: {renews: string; csrPem: string; request: {[key: string]: Json | undefined}}): Promise<Uint8Array> {
  const [der] = fromPem(claim.csrPem, 'CERTIFICATE REQUEST');
  if (!der) throw new Error('the renewal needs a certificate request');
  const csrSha256 = toHex(await crypto.subtle.digest('SHA-256', der));
  return new TextEncoder().encode(`bcl-pki renewal v1\n${stableJson({renews: normalSerial(claim.renews), csrSha256, request: claim.request})}\n`);
}

export async function signRenewal(oldKey: CryptoKey, claim: Parameters<typeof renewalMessage>[0]): Promise<string> {
  return toBase64(await signDer(oldKey, await renewalMessage(claim)));
}
