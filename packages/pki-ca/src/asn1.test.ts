import {AsnConvert} from '@peculiar/asn1-schema';
import * as a from '@peculiar/asn1-x509';
import {describe, expect, it} from 'vitest';
import {commonNameOnly, commonNameOnlyDer, extension, generalName, subjectAltNameDer, subjectKeyIdentifierDer, validityDer} from './asn1.js';
import type {San} from './policy.js';

// The parts of a leaf encoded by hand must be the bytes the ASN.1 library makes of the same values.
const library = (value: unknown) => Buffer.from(AsnConvert.serialize(value));

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
