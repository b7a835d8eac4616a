/**
 * Making a PKCS#10 request with the new key (proof of possession), in DER written directly and
 * Node's crypto: pkictl makes one for every request, and loading an ASN.1 library for it would be
 * a sixth of the command's time. Only an IP address name goes through the library.
 */
import type {KeyObject} from 'node:crypto';
import {altNameExtensionDer, commonNameOnlyDer, derElement, encodedSignatureAlgorithm, isIa5Name, OID, oidDer, signTbs} from './der.js';
import type {San} from './policy.js';

/** CertificationRequestInfo's version: INTEGER 0 (RFC 2986 4.1). */
const VERSION_1 = Buffer.from([0x02, 0x01, 0x00]);
const EXTENSION_REQUEST = Buffer.from(oidDer(OID.extensionRequest), 'hex');

/** A PEM CSR: CN and the SANs given, signed with the private key (SHA-256; Ed25519 its own). */
export async function createCsr(params: {privateKey: KeyObject; publicKey: KeyObject; commonName: string; sans: San[]}): Promise<string> {
  const otherName = params.sans.every(isIa5Name) ? undefined : (await import('./asn1.js')).generalNameDer;
  // attributes [0] IMPLICIT SET OF Attribute: the extensionRequest (a SET of one Extensions) when there are names.
  const attributes = params.sans.length ? [derElement(0x30, EXTENSION_REQUEST, derElement(0x31, derElement(0x30, altNameExtensionDer(params.sans, false, otherName))))] : [];
  const spki = params.publicKey.export({type: 'spki', format: 'der'});
  const info = derElement(0x30, VERSION_1, commonNameOnlyDer(params.commonName), spki, derElement(0xa0, ...attributes));
  const algorithm = encodedSignatureAlgorithm(params.privateKey);
  const der = signTbs(info, algorithm.der, params.privateKey, algorithm.digest);
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE REQUEST-----\n`;
}
