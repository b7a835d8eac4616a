import {execFileSync} from 'node:child_process';
import {generateKeyPairSync, type KeyObject, verify} from 'node:crypto';
import {AsnConvert} from '@peculiar/asn1-schema';
import {Attributes, CertificationRequest, CertificationRequestInfo} from '@peculiar/asn1-csr';
import * as a from '@peculiar/asn1-x509';
import {describe, expect, it} from 'vitest';
import {extension, generalName, subjectAltNameDer, subjectKeyIdentifierDer, validityDer} from './asn1.js';
import {commonNameOnlyDer, encodedSignatureAlgorithm} from './der.js';
import {createCsr} from './make-csr.js';
import type {San} from './policy.js';

// The parts of a leaf and of a request encoded by hand must be the bytes the ASN.1 library makes of the same values.
const library = (value: unknown) => Buffer.from(AsnConvert.serialize(value));
const commonNameOnly = (cn: string | undefined) =>
  new a.Name(cn === undefined ? [] : [new a.RelativeDistinguishedName([new a.AttributeTypeAndValue({type: '2.5.4.3', value: new a.AttributeValue({utf8String: cn})})])]);
const derOfPem = (pem: string) => Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');

describe('the leaf parts encoded directly', () => {
  it('a subject of one CN, or none, as the library encodes it (short and long lengths, UTF-8)', () => {
    for (const cn of [undefined, 'ann@example.com', 'Zoë Ünal 名前', 'x'.repeat(64), 'y'.repeat(200)]) {
      expect(commonNameOnlyDer(cn).toString('hex'), String(cn)).toBe(library(commonNameOnly(cn)).toString('hex'));
    }
  });

  it('a validity in UTCTime through 2049 and GeneralizedTime from 2050', () => {
    const pairs = [
      ['2026-12-01T17:05:00Z', '2027-01-01T00:00:00Z'],
      ['2049-12-31T23:59:59Z', '2050-01-01T00:00:00Z'],
      ['2000-02-29T01:02:03Z', '2100-06-15T12:00:00Z'],
    ] as const;
    for (const [from, to] of pairs) {
      const notBefore = new Date(from);
      const notAfter = new Date(to);
      expect(validityDer(notBefore, notAfter).toString('hex'), `${from} ${to}`).toBe(library(new a.Validity({notBefore, notAfter})).toString('hex'));
    }
    expect(() => validityDer(new Date('2026-12-01T17:05:00.500Z'), new Date('2027-01-01T00:00:00Z'))).toThrow('whole seconds');
  });

  it('the subject key identifier and subject alternative name extensions, critical or not', () => {
    const keyId = new Uint8Array(20).map((_, i) => i * 13).buffer;
    expect(subjectKeyIdentifierDer(keyId).toString('hex')).toBe(library(extension(a.id_ce_subjectKeyIdentifier, false, new a.SubjectKeyIdentifier(keyId))).toString('hex'));
    const sets: San[][] = [
      [{type: 'email', value: 'ann@example.com'}],
      [{type: 'dns', value: 'web.example.com'}, {type: 'dns', value: '*.web.example.com'}, {type: 'ip', value: '10.1.2.3'}, {type: 'ip', value: '2001:db8::1'}],
      [{type: 'uri', value: 'spiffe://example.com/ns/prod/sa/web'}, {type: 'email', value: 'ops@example.com'}],
      Array.from({length: 12}, (_, i): San => ({type: 'dns', value: `host-${i}.region.example.com`})),
    ];
    for (const sans of sets) {
      for (const critical of [false, true]) {
        expect(subjectAltNameDer(sans, critical).toString('hex'), JSON.stringify({sans, critical})).toBe(library(extension(a.id_ce_subjectAltName, critical, new a.SubjectAlternativeName(sans.map(generalName)))).toString('hex'));
      }
    }
  });
});

describe('the request pkictl makes, written directly', () => {
  const keys = (): Record<string, {privateKey: KeyObject; publicKey: KeyObject}> => ({
    ec: generateKeyPairSync('ec', {namedCurve: 'P-256'}),
    rsa: generateKeyPairSync('rsa', {modulusLength: 2048}),
    ed25519: generateKeyPairSync('ed25519'),
  });

  it('signs with the AlgorithmIdentifier the library makes for each key type', () => {
    const expected = {
      ec: new a.AlgorithmIdentifier({algorithm: '1.2.840.10045.4.3.2'}),
      rsa: new a.AlgorithmIdentifier({algorithm: '1.2.840.113549.1.1.11', parameters: new Uint8Array([0x05, 0x00]).buffer}),
      ed25519: new a.AlgorithmIdentifier({algorithm: '1.3.101.112'}),
    };
    for (const [type, pair] of Object.entries(keys())) {
      expect(encodedSignatureAlgorithm(pair.privateKey).der.toString('hex'), type).toBe(library(expected[type as keyof typeof expected]).toString('hex'));
    }
    expect(() => encodedSignatureAlgorithm(generateKeyPairSync('x25519').privateKey)).toThrow('unsupported signing key type x25519');
  });

  it('is the CertificationRequest the library makes of the same values, and OpenSSL verifies it', async () => {
    const sets: San[][] = [[], [{type: 'email', value: 'ann@example.com'}], [{type: 'dns', value: 'web.example.com'}, {type: 'ip', value: '10.1.2.3'}, {type: 'ip', value: '2001:db8::1'}, {type: 'uri', value: 'spiffe://example.com/web'}]];
    for (const [type, pair] of Object.entries(keys())) {
      for (const sans of sets) {
        const pem = await createCsr({...pair, commonName: 'Zoë ann@example.com', sans});
        const der = derOfPem(pem);
        const parsed = AsnConvert.parse(der, CertificationRequest);
        const info = new CertificationRequestInfo({
          version: 0,
          subject: commonNameOnly('Zoë ann@example.com'),
          subjectPKInfo: AsnConvert.parse(pair.publicKey.export({type: 'spki', format: 'der'}), a.SubjectPublicKeyInfo),
          attributes: new Attributes(sans.length ? [new a.Attribute({type: '1.2.840.113549.1.9.14', values: [AsnConvert.serialize(new a.Extensions([extension(a.id_ce_subjectAltName, false, new a.SubjectAlternativeName(sans.map(generalName)))]))]})] : []),
        });
        const what = `${type} ${JSON.stringify(sans)}`;
        expect(library(parsed.certificationRequestInfo).toString('hex'), what).toBe(library(info).toString('hex'));
        expect(library(parsed).toString('hex'), what).toBe(der.toString('hex'));
        const digest = type === 'ed25519' ? null : 'sha256';
        expect(verify(digest, library(info), pair.publicKey, Buffer.from(parsed.signature)), what).toBe(true);
        expect(execFileSync('openssl', ['req', '-verify', '-noout'], {input: pem, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe']}), what).toBe('');
      }
    }
  });
});
