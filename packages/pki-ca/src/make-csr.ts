/**
 * Making a PKCS#10 request with the new key (proof of possession), from the ASN.1 structures
 * (@peculiar/asn1-csr) and Node's crypto only: pkictl makes one for every request, and loading
 * @peculiar/x509 for it would cost the command a few hundred milliseconds.
 */
import type {KeyObject} from 'node:crypto';
import {sign} from 'node:crypto';
import {AsnConvert} from '@peculiar/asn1-schema';
import {Attribute, Extensions, id_ce_subjectAltName, SubjectAlternativeName} from '@peculiar/asn1-x509';
import {Attributes, CertificationRequest, CertificationRequestInfo} from '@peculiar/asn1-csr';
import {commonNameOnly, extension, generalName, signatureAlgorithmOf, spkiOf} from './asn1.js';
import type {San} from './policy.js';

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

/** A PEM CSR: CN and the SANs given, signed with the private key (SHA-256; Ed25519 its own). */
export async function createCsr(params: {privateKey: KeyObject; publicKey: KeyObject; commonName: string; sans: San[]}): Promise<string> {
  const attributes = params.sans.length
    ? [new Attribute({type: EXTENSION_REQUEST, values: [AsnConvert.serialize(new Extensions([extension(id_ce_subjectAltName, false, new SubjectAlternativeName(params.sans.map(generalName)))]))]})]
    : [];
  const info = new CertificationRequestInfo({version: 0, subject: commonNameOnly(params.commonName), subjectPKInfo: spkiOf(params.publicKey), attributes: new Attributes(attributes)});
  const algorithm = signatureAlgorithmOf(params.privateKey);
  const signature = sign(algorithm.digest, Buffer.from(AsnConvert.serialize(info)), params.privateKey);
  const der = Buffer.from(AsnConvert.serialize(new CertificationRequest({certificationRequestInfo: info, signatureAlgorithm: algorithm.identifier, signature: new Uint8Array(signature).buffer})));
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE REQUEST-----\n`;
}
