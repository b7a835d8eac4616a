import {execFileSync} from 'node:child_process';
import {createPublicKey, generateKeyPairSync, X509Certificate} from 'node:crypto';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {buildCaCertificate, buildLeafCertificate, buildOcspResponderCertificate, keyUsageFor, subjectCommonName, validityPeriod} from './certificates.js';
import {buildCrl, parseCrl} from './crl.js';
import {createCsr, parseCsr} from './csr.js';
import {defaultPolicyYaml, parsePolicy} from './policy.js';
import {AsnConvert} from '@peculiar/asn1-schema';
import {CertificationRequest} from '@peculiar/asn1-csr';
import * as asn1 from '@peculiar/asn1-x509';
import {sanOf} from './asn1.js';
import {checkSerial, randomSerial} from './serial.js';

const now = new Date('2026-06-01T12:00:00Z');
const policy = parsePolicy(defaultPolicyYaml(['example.com']), 'p.yaml');
const ec = () => generateKeyPairSync('ec', {namedCurve: 'P-256'});
const dir = mkdtempSync(join(tmpdir(), 'pki-ca-certs-'));
const openssl = (args: string[]) => execFileSync('openssl', args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

afterAll(() => rmSync(dir, {recursive: true, force: true}));

describe('leaf certificates', () => {
  const rootKey = ec();
  const interKey = ec();
  let root: string;
  let intermediate: string;
  beforeAll(async () => {
    root = await buildCaCertificate({commonName: 'Unit CA', key: rootKey.privateKey, days: 3650, pathLength: 1, now});
    intermediate = await buildCaCertificate({
      commonName: 'Unit CA Intermediate',
      key: interKey.privateKey,
      days: 1825,
      pathLength: 0,
      issuer: {certPem: root, key: rootKey.privateKey},
      permittedNames: {dns: ['internal.example.com'], email: ['example.com']},
      revocation: {crlUrl: 'http://pki.example.com/root.crl', caCertUrl: 'http://pki.example.com/root.pem'},
      now,
    });
  });
  const issuer = () => ({certPem: intermediate, key: interKey.privateKey});

  it('key usage follows the algorithm: EC signs and agrees, RSA signs and enciphers, Ed25519 only signs', () => {
    const all = ['digitalSignature', 'keyEncipherment', 'keyAgreement', 'dataEncipherment'] as const;
    expect(keyUsageFor(all, ec().publicKey)).toEqual(['digitalSignature', 'keyAgreement']);
    expect(keyUsageFor(all, generateKeyPairSync('rsa', {modulusLength: 2048}).publicKey)).toEqual(['digitalSignature', 'keyEncipherment', 'dataEncipherment']);
    expect(keyUsageFor(all, generateKeyPairSync('ed25519').publicKey)).toEqual(['digitalSignature']);
    expect(keyUsageFor(['keyEncipherment'], generateKeyPairSync('ed25519').publicKey)).toEqual(['digitalSignature']);
  });

  it('server certificates are named after their first DNS name, or not at all; others after the identity', () => {
    const server = policy.profiles.server!;
    expect(subjectCommonName(server, {name: 'ci@example.com', sans: [{type: 'ip', value: '10.0.0.1'}, {type: 'dns', value: 'a.example.com'}]})).toBe('a.example.com');
    expect(subjectCommonName(server, {name: 'ci@example.com', sans: [{type: 'ip', value: '10.0.0.1'}]})).toBeUndefined();
    expect(subjectCommonName(server, {sans: [{type: 'dns', value: `${'a'.repeat(60)}.example.com`}]})).toBeUndefined();
    expect(subjectCommonName(policy.profiles.client!, {name: 'ann@example.com', sans: []})).toBe('ann@example.com');
  });

  it('the lifetime counts the backdate and both ends (RFC 5280), and never outlives the issuer', () => {
    const v = validityPeriod({now, maxDays: 397});
    expect((v.notAfter.getTime() - v.notBefore.getTime()) / 1000 + 1).toBe(397 * 86_400);
    expect(v.notBefore.toISOString()).toBe('2026-06-01T11:55:00.000Z');
    expect(validityPeriod({now, maxDays: 90, days: 400})).toMatchObject({days: 90, capped: true});
    expect(validityPeriod({now, maxDays: 90, days: 30})).toMatchObject({days: 30, capped: false});
    const issuerEnd = new Date('2026-07-01T00:00:00Z');
    expect(validityPeriod({now, maxDays: 90, issuerNotAfter: issuerEnd}).notAfter).toEqual(issuerEnd);
  });

  it('serials: random ones have 126 random bits; a reserved one is used as given, if it is 9-20 positive bytes', async () => {
    const serials = new Set(Array.from({length: 200}, randomSerial));
    expect(serials.size).toBe(200);
    for (const s of serials) expect(s).toMatch(/^[4-7][0-9A-F]{31}$/);
    expect(checkSerial('01:23:45:67:89:ab:cd:ef:01')).toBe('0123456789ABCDEF01');
    for (const bad of ['0123456789ABCDEF', 'FF23456789ABCDEF01', '000023456789ABCDEF01', 'xyz', '7F'.repeat(21)]) expect(() => checkSerial(bad)).toThrow(/serial/);
    const leaf = await buildLeafCertificate({
      issuer: issuer(),
      publicKey: ec().publicKey,
      profile: policy.profiles.client!,
      identity: {name: 'ann@example.com', sans: [{type: 'email', value: 'ann@example.com'}]},
      now,
      serial: '7A1B2C3D4E5F60718293',
    });
    expect(leaf.serial).toBe('7A1B2C3D4E5F60718293');
    expect(new X509Certificate(leaf.pem).serialNumber).toBe('7A1B2C3D4E5F60718293');
  });

  it('a leaf: CA:FALSE, the issuer\'s revocation pointers, verified by openssl through the intermediate', async () => {
    const leaf = await buildLeafCertificate({
      issuer: issuer(),
      publicKey: generateKeyPairSync('rsa', {modulusLength: 3072}).publicKey,
      profile: policy.profiles.server!,
      identity: {name: 'ci@example.com', sans: [{type: 'dns', value: 'build.internal.example.com'}, {type: 'ip', value: '10.0.0.7'}]},
      lifetimeDays: 30,
      revocation: {crlUrl: 'http://pki.example.com/crl.pem', caCertUrl: 'http://pki.example.com/ca.pem', ocspUrl: 'http://ocsp.example.com/'},
      now,
    });
    expect(leaf).toMatchObject({commonName: 'build.internal.example.com', keyUsage: ['digitalSignature', 'keyEncipherment'], lifetimeCapped: false});
    const text = openssl(['x509', '-in', file('leaf.pem', leaf.pem), '-noout', '-text']);
    expect(text).toContain('CA:FALSE');
    expect(text).toContain('Subject: CN = build.internal.example.com');
    expect(text).toContain('URI:http://pki.example.com/crl.pem');
    expect(text).toMatch(/OCSP - URI:http:\/\/ocsp\.example\.com\/\n\s*CA Issuers - URI:http:\/\/pki\.example\.com\/ca\.pem/);
    expect(openssl(['verify', '-attime', String(now.getTime() / 1000 + 3600), '-CAfile', file('root.pem', root), '-untrusted', file('inter.pem', intermediate), join(dir, 'leaf.pem')])).toContain('OK');
  });

  it('an OCSP responder certificate: CA:FALSE, digitalSignature, OCSPSigning and ocsp-nocheck, short-lived', async () => {
    const responder = await buildOcspResponderCertificate({issuer: issuer(), publicKey: ec().publicKey, commonName: 'Unit OCSP responder', now, days: 7});
    const text = openssl(['x509', '-in', file('ocsp.pem', responder.pem), '-noout', '-text']);
    expect(text).toContain('CA:FALSE');
    expect(text).toMatch(/X509v3 Key Usage: critical\n\s*Digital Signature\n/);
    expect(text).toMatch(/X509v3 Extended Key Usage: \n\s*OCSP Signing/);
    expect(text).toContain('OCSP No Check');
    expect(responder.notAfter.getTime() - responder.notBefore.getTime()).toBe(7 * 86_400_000 - 1000);
  });

  it('refuses names outside the issuer\'s name constraints before signing (code name_constraints)', async () => {
    const params = {issuer: issuer(), publicKey: ec().publicKey, profile: policy.profiles.server!, now, where: 'request 9'};
    await expect(buildLeafCertificate({...params, identity: {sans: [{type: 'dns', value: 'www.example.org'}]}})).rejects.toThrow(
      "request 9: dns:www.example.org is outside the issuing CA's name constraints (it may sign internal.example.com)",
    );
    await expect(buildLeafCertificate({...params, profile: policy.profiles.client!, identity: {name: 'x', sans: [{type: 'email', value: 'x@example.net'}]}})).rejects.toThrow(
      expect.objectContaining({code: 'name_constraints', kind: 'denied'}),
    );
    await expect(buildLeafCertificate({...params, identity: {sans: [{type: 'dns', value: '*.build.internal.example.com'}]}})).resolves.toMatchObject({commonName: '*.build.internal.example.com'});
  });
});

describe('CSRs and CRLs', () => {
  it('a CSR is checked for its self-signature; what it asks for is reported, not issued', async () => {
    const keys = ec();
    const pem = await createCsr({...keys, commonName: 'ann@example.com', sans: [{type: 'email', value: 'ann@example.com'}]});
    const parsed = await parseCsr(pem, 'csr.pem');
    expect(parsed.sans).toEqual([{type: 'email', value: 'ann@example.com'}]);
    expect(parsed.publicKey.export({type: 'spki', format: 'der'})).toEqual(keys.publicKey.export({type: 'spki', format: 'der'}));
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64');
    der[der.length - 5]! ^= 0xff;
    await expect(parseCsr(`-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`, 'bad.pem')).rejects.toThrow(
      expect.objectContaining({code: 'csr_invalid', message: "bad.pem: the request's signature does not verify with its own public key"}),
    );
  });

  it('a CSR from anyone is DER or nothing: trailing bytes, BER lengths and truncation are csr_invalid; OpenSSL\'s own CSRs of every key type are read', async () => {
    const pem = await createCsr({...ec(), commonName: 'ann@example.com', sans: [{type: 'email', value: 'ann@example.com'}]});
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64');
    const asPem = (bytes: Buffer) => `-----BEGIN CERTIFICATE REQUEST-----\n${bytes.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    // The outer SEQUENCE with an indefinite length (BER), and one whose length is not in its shortest form.
    const indefinite = Buffer.concat([Buffer.from([0x30, 0x80]), der.subarray(der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2), Buffer.from([0, 0])]);
    const longForm = Buffer.concat([Buffer.from([0x30, 0x83, 0x00]), der.subarray(2)]);
    const cases: [string, Buffer, RegExp][] = [
      ['trailing', Buffer.concat([der, Buffer.from([0x00])]), /not a DER SEQUENCE/],
      ['truncated', der.subarray(0, der.length - 3), /truncated DER/],
      ['indefinite', indefinite, /indefinite length/],
      ['long form', longForm, /shortest form|truncated/],
    ];
    for (const [name, bytes, message] of cases) {
      await expect(parseCsr(asPem(bytes), `${name}.pem`), name).rejects.toThrow(expect.objectContaining({code: 'csr_invalid', message: expect.stringMatching(message)}));
    }
    for (const [algorithm, options] of [['EC', ['-pkeyopt', 'ec_paramgen_curve:P-384']], ['RSA', ['-pkeyopt', 'rsa_keygen_bits:2048']], ['ED25519', []]] as const) {
      const key = join(dir, `openssl-${algorithm}.key`);
      openssl(['genpkey', '-algorithm', algorithm, ...options, '-out', key]);
      const csr = openssl(['req', '-new', '-key', key, '-subj', '/CN=bob@example.com/O=Example', '-addext', 'subjectAltName=email:bob@example.com,DNS:bob.example.com']);
      const parsed = await parseCsr(csr, `${algorithm}.csr`);
      expect(parsed.sans).toEqual([{type: 'email', value: 'bob@example.com'}, {type: 'dns', value: 'bob.example.com'}]);
      expect(parsed.subject).toBe('CN=bob@example.com, O=Example');
      expect(parsed.publicKey.asymmetricKeyType).toBe(algorithm === 'ED25519' ? 'ed25519' : algorithm.toLowerCase());
    }
  });

  it('what an OpenSSL CSR asks for is read as the ASN.1 library reads it: every kind of name, a CA request, other extensions', async () => {
    const key = join(dir, 'asks.key');
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    const csr = openssl(['req', '-new', '-key', key, '-subj', '/CN=web', '-addext', 'subjectAltName=critical,email:ops@example.com,DNS:web.example.com,URI:spiffe://example.com/web,IP:10.1.2.3,IP:2001:db8::7,RID:1.2.3.4,dirName:dir_sect', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=keyCertSign', '-addext', '1.3.6.1.4.1.99999.1=ASN1:UTF8String:hello', '-config', file('asks.cnf', '[req]\ndistinguished_name=dn\n[dn]\n[dir_sect]\nCN=inner\n')]);
    const parsed = await parseCsr(csr, 'asks.csr');
    // The same CSR through @peculiar/asn1-csr's and asn1-x509's generic parse (the way before the DER reader).
    const request = AsnConvert.parse(Buffer.from(csr.replace(/-----[^-]+-----|\s+/g, ''), 'base64'), CertificationRequest);
    const asked = request.certificationRequestInfo.attributes.find((t) => t.type === '1.2.840.113549.1.9.14')!.values.flatMap((v) => [...AsnConvert.parse(v, asn1.Extensions)]);
    const byLibrary = AsnConvert.parse(asked.find((e) => e.extnID === asn1.id_ce_subjectAltName)!.extnValue.buffer, asn1.SubjectAlternativeName).map(sanOf).filter(Boolean);
    expect(parsed.sans).toEqual(byLibrary);
    expect(asked.map((e) => e.extnID)).toEqual(['2.5.29.17', '2.5.29.19', '2.5.29.15', '1.3.6.1.4.1.99999.1']);
    expect(parsed.sans).toEqual([
      {type: 'email', value: 'ops@example.com'},
      {type: 'dns', value: 'web.example.com'},
      {type: 'uri', value: 'spiffe://example.com/web'},
      {type: 'ip', value: '10.1.2.3'},
      {type: 'ip', value: '2001:db8::7'},
    ]);
    expect(parsed.asksForCa).toBe(true);
    expect(parsed.otherExtensions).toEqual(['2.5.29.15', '1.3.6.1.4.1.99999.1']);
  });

  it('a CSR whose extension request is malformed is csr_invalid, whatever its signature', async () => {
    const {privateKey} = ec();
    const pem = await createCsr({publicKey: createPublicKey(privateKey), privateKey, commonName: 'ann@example.com', sans: [{type: 'email', value: 'ann@example.com'}]});
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64');
    // The SAN's OID (2.5.29.17) with a non-minimal first arc byte: 0x80 0x55 instead of 0x55.
    const at = der.indexOf(Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x11]));
    expect(at).toBeGreaterThan(0);
    const bad = Buffer.from(der);
    bad[at + 2] = 0x80;
    await expect(parseCsr(`-----BEGIN CERTIFICATE REQUEST-----\n${bad.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`, 'oid.pem')).rejects.toThrow(expect.objectContaining({code: 'csr_invalid', message: expect.stringMatching(/^oid\.pem is not a PKCS#10 certificate request: an OBJECT IDENTIFIER arc not in its shortest form/)}));
  });

  it('a CRL carries the number the caller gives; a CA-only CRL says so; parsing checks the signature', async () => {
    const key = ec();
    const ca = await buildCaCertificate({commonName: 'CRL CA', key: key.privateKey, days: 30, pathLength: 0, now});
    const other = await buildCaCertificate({commonName: 'Other CA', key: ec().privateKey, days: 30, pathLength: 0, now});
    const entries = [{serial: '7A1B2C3D4E5F60718293', revokedAt: now, reason: 'keyCompromise' as const}];
    const pem = await buildCrl({issuer: {certPem: ca, key: key.privateKey}, number: 41, thisUpdate: now, nextUpdate: new Date(now.getTime() + 86_400_000), entries});
    expect(pem).toMatch(/^-----BEGIN X509 CRL-----/);
    expect(await parseCrl(pem, 'crl.pem', ca)).toMatchObject({number: 41, revoked: [{serial: '7A1B2C3D4E5F60718293', reason: 'keyCompromise'}]});
    await expect(parseCrl(pem, 'crl.pem', other)).rejects.toThrow(expect.objectContaining({code: 'crl_invalid'}));
    const arl = await buildCrl({issuer: {certPem: ca, key: key.privateKey}, number: 1, thisUpdate: now, nextUpdate: now, entries: [], scope: 'ca-certificates', url: 'http://pki.example.com/root.crl'});
    const text = openssl(['crl', '-in', file('arl.pem', arl), '-noout', '-text']);
    // (openssl prints "Only CA Certificates" on the URI's line)
    expect(text).toMatch(/Issuing Distribution Point: critical\n\s*Full Name:\n\s*URI:http:\/\/pki\.example\.com\/root\.crl\s*Only CA Certificates/);
    expect(text).toMatch(/X509v3 CRL Number: \n\s*1\n/);
  });
});
