/**
 * PKCS#12 in the browser with PKI.js: the certificate chain in plain bags, the key in a
 * PKCS#8-shrouded bag (PBES2: PBKDF2-HMAC-SHA256, AES-256-CBC) and a SHA-256 MAC, the structure
 * OpenSSL 3 writes by default and Windows, macOS Keychain and OpenSSL 3 (without -legacy) open.
 * The same layout as pkictl's export (packages/pkictl/src/crypto/pkcs12.ts).
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import {toArrayBuffer} from './pem.js';

const ITERATIONS = 100_000;
const OID = {
  certBag: '1.2.840.113549.1.12.10.1.3',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
};

export interface Pkcs12Parts {
  /** PKCS#8 DER of the private key. */
  keyPkcs8: ArrayBuffer;
  /** DER certificates: the leaf first, then its CA chain. */
  certificates: ArrayBuffer[];
  password: string;
  /** What Keychain and the Windows certificate store show. */
  friendlyName: string;
}

export async function buildPkcs12(p: Pkcs12Parts): Promise<Uint8Array> {
  const [leaf, ...chain] = p.certificates;
  if (!leaf) throw new Error('a PKCS#12 file needs the certificate');
  const password = toArrayBuffer(new TextEncoder().encode(p.password));
  const localKeyId = await crypto.subtle.digest('SHA-1', leaf);
  const attributes = () => [
    new pkijs.Attribute({type: OID.localKeyId, values: [new asn1js.OctetString({valueHex: localKeyId})]}),
    new pkijs.Attribute({type: OID.friendlyName, values: [new asn1js.BmpString({value: p.friendlyName})]}),
  ];
  // The certificates' own DER goes in unchanged (no re-encoding that could alter a signed byte).
  const certBag = (der: ArrayBuffer, withAttributes: boolean) =>
    new pkijs.SafeBag({
      bagId: OID.certBag,
      bagValue: new pkijs.CertBag({certId: OID.x509Certificate, certValue: new asn1js.OctetString({valueHex: der})}),
      ...(withAttributes ? {bagAttributes: attributes()} : {}),
    });
  const shrouded = new pkijs.PKCS8ShroudedKeyBag({parsedValue: pkijs.PrivateKeyInfo.fromBER(p.keyPkcs8)});
  await shrouded.makeInternalValues({password, contentEncryptionAlgorithm: {name: 'AES-CBC', length: 256} as pkijs.ContentEncryptionAlgorithm, hmacHashAlgorithm: 'SHA-256', iterationCount: ITERATIONS});
  const keyBag = new pkijs.SafeBag({bagId: OID.shroudedKeyBag, bagValue: shrouded, bagAttributes: attributes()});

  const pfx = new pkijs.PFX({
    parsedValue: {
      integrityMode: 0,
      authenticatedSafe: new pkijs.AuthenticatedSafe({
        parsedValue: {
          safeContents: [
            {privacyMode: 0, value: new pkijs.SafeContents({safeBags: [certBag(leaf, true), ...chain.map((c) => certBag(c, false))]})},
            {privacyMode: 0, value: new pkijs.SafeContents({safeBags: [keyBag]})},
          ],
        },
      }),
    },
  });
  await pfx.parsedValue!.authenticatedSafe!.makeInternalValues({safeContents: [{}, {}]});
  await pfx.makeInternalValues({password, iterations: ITERATIONS, pbkdf2HashAlgorithm: 'SHA-256', hmacHashAlgorithm: 'SHA-256'});
  return new Uint8Array(pfx.toSchema().toBER(false));
}
