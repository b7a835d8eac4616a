// @peculiar/x509 needs the decorator metadata polyfill loaded first.
import 'reflect-metadata';
import {webcrypto} from 'node:crypto';
import * as x509 from '@peculiar/x509';
import {TlsMaterialError} from './errors.js';

x509.cryptoProvider.set(webcrypto as never);

const CRL_NUMBER_OID = '2.5.29.20';

/** One CRL as the server loads it. */
export interface LoadedCrl {
  /** PEM block (Node takes one CRL per entry). */
  pem: string;
  /** The issuer's name, as "CN=..., O=...". */
  issuer: string;
  /** Issuer name plus authority key id: CRL numbers are per issuer key (RFC 5280 5.2.3). */
  issuerKey: string;
  number: bigint;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
  file: string;
}

/** A CRL file's CRLs: PEM (possibly several blocks) or a single DER CRL. */
export function crlBlocks(data: Buffer): string[] {
  const text = data.toString('latin1');
  const blocks = text.match(/-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g);
  if (blocks) return blocks.map((b) => `${b}\n`);
  const b64 = data.toString('base64').replace(/.{1,64}/g, '$&\n');
  return [`-----BEGIN X509 CRL-----\n${b64}-----END X509 CRL-----\n`];
}

/** The CA certificates of a PEM bundle. */
export function caCertificates(data: Buffer, file: string): x509.X509Certificate[] {
  const blocks = data.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  try {
    return blocks.map((b) => new x509.X509Certificate(b));
  } catch (error) {
    throw new TlsMaterialError(`${file}: not a PEM certificate bundle: ${(error as Error).message}`, file);
  }
}

/**
 * Parses a CRL and checks it is signed by one of the trusted CAs, before its number is trusted:
 * a forged CRL with a huge number must not be able to lock out the real ones.
 */
export async function readCrl(pem: string, file: string, cas: readonly x509.X509Certificate[]): Promise<LoadedCrl> {
  let crl: x509.X509Crl;
  try {
    crl = new x509.X509Crl(pem);
  } catch (error) {
    throw new TlsMaterialError(`${file}: not a CRL (PEM or DER): ${(error as Error).message}`, file);
  }
  const issuers = cas.filter((ca) => ca.subject === crl.issuer);
  if (issuers.length === 0) throw new TlsMaterialError(`${file}: the CRL is issued by ${crl.issuer}, which is not one of the client CAs`, file);
  let verified = false;
  for (const ca of issuers) {
    if (await crl.verify({publicKey: ca}).catch(() => false)) verified = true;
  }
  if (!verified) throw new TlsMaterialError(`${file}: the CRL's signature does not verify with the key of ${crl.issuer}`, file);
  const ext = crl.getExtension(CRL_NUMBER_OID);
  if (!ext) throw new TlsMaterialError(`${file}: the CRL of ${crl.issuer} has no CRL number (RFC 5280 5.2.3), so an older CRL could not be told from a newer one`, file);
  const aki = crl.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
  return {pem, issuer: crl.issuer, issuerKey: aki ? `${crl.issuer} keyid:${aki}` : crl.issuer, number: derInteger(new Uint8Array(ext.value), file), thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate, file};
}

/** A DER INTEGER (the CRL number extension's value) as a bigint. */
function derInteger(der: Uint8Array, file: string): bigint {
  if (der[0] !== 0x02 || der.length < 3) throw new TlsMaterialError(`${file}: the CRL number is not a DER INTEGER`, file);
  let length = der[1]!;
  let at = 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[at++]!;
  }
  let value = 0n;
  for (let i = 0; i < length; i++) value = (value << 8n) | BigInt(der[at + i]!);
  return value;
}
