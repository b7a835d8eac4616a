/**
 * The files the Toolbox hands out, made by its browser code (run here on Node's WebCrypto, the
 * same API) from certificates really issued by @bcl/pki-ca, checked with OpenSSL 3. The same
 * code in a real Chromium is checked end to end in browser.test.ts.
 */
import {createPrivateKey, createPublicKey, X509Certificate} from 'node:crypto';
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {buildLeafCertificate, parseCsr, verifyRenewal} from '@bcl/pki-ca';
import {run} from '@bcl/testkit';
import {newDeviceRequest, keyFromFile, renewalRequest, serverOfProfile} from '../src/web/crypto/index.js';
import {profileFileName} from '../src/web/crypto/ovpn.js';
import type {Certificate} from '../src/web/api.js';
import {makeTestCa, type TestCa} from './openssl-ca.js';

const server = {name: 'Berlin office', location: 'Berlin, DE', host: 'vpn-berlin.example.com', port: 1194, proto: 'udp' as const, profile: 'vpn'};

describe('the files made in the browser', () => {
  let ca: TestCa & {remove(): void};
  let certificate: Certificate;
  let made: Awaited<ReturnType<typeof newDeviceRequest>>;
  const file = (name: string) => join(ca.dir, name);

  beforeAll(async () => {
    ca = await makeTestCa();
    made = await newDeviceRequest('alice@example.com');
    const csr = await parseCsr(made.request, 'request');
    const leaf = await buildLeafCertificate({
      issuer: {certPem: ca.certPem, key: createPrivateKey(ca.keyPem)},
      publicKey: csr.publicKey,
      profile: {keyUsage: ['digitalSignature'], extendedKeyUsage: ['clientAuth'], maxLifetimeDays: 90, sans: ['email'], allowedDnsSuffixes: [], groups: []},
      identity: {name: 'alice@example.com', sans: [{type: 'email', value: 'alice@example.com'}]},
      now: new Date(),
    });
    certificate = {
      serial: leaf.serial, email: 'alice@example.com', name: 'Alice', profile: 'vpn', status: 'valid', notBefore: leaf.notBefore.toISOString(), notAfter: leaf.notAfter.toISOString(),
      issuedAt: new Date().toISOString(), requestId: null, deviceLabel: 'Work laptop', approvedBy: 'automatic', revokedAt: null, reason: null, renews: null, supersededBy: null,
      pem: leaf.pem, chainPem: ca.certPem, sha256Fingerprint: '',
    };
  });
  afterAll(() => ca?.remove());

  it('the certificate request carries a P-256 key and a valid self-signature, and nothing private', async () => {
    const parsed = await parseCsr(made.request, 'request');
    expect(parsed.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(made.request).not.toMatch(/PRIVATE KEY/);
    writeFileSync(file('req.pem'), made.request);
    expect((await run('openssl', ['req', '-in', file('req.pem'), '-noout', '-verify'])).stderr + '').toMatch(/verify OK|Certificate request self-signature verify OK/);
  });

  it('the .ovpn profile holds the CA, the certificate and its own key inline, and the chain verifies', async () => {
    const text = await made.device.vpnProfile(server, certificate);
    expect(text).toMatch(/^client$/m);
    expect(text).toMatch(/^remote vpn-berlin\.example\.com 1194$/m);
    expect(text).toMatch(/^proto udp$/m);
    expect(text).toMatch(/^remote-cert-tls server$/m);
    expect(text).toMatch(/<ca>\n-----BEGIN CERTIFICATE-----[\s\S]+<\/ca>\n<cert>\n-----BEGIN CERTIFICATE-----[\s\S]+<\/cert>\n<key>\n-----BEGIN PRIVATE KEY-----[\s\S]+<\/key>\n$/);
    const key = /<key>\n([\s\S]+?)<\/key>/.exec(text)![1]!;
    const cert = /<cert>\n([\s\S]+?)<\/cert>/.exec(text)![1]!;
    expect(createPublicKey(createPrivateKey(key)).export({type: 'spki', format: 'der'}).equals(new X509Certificate(cert).publicKey.export({type: 'spki', format: 'der'}))).toBe(true);
    writeFileSync(file('leaf.pem'), cert);
    const verified = await run('openssl', ['verify', '-CAfile', ca.certFile, '-purpose', 'sslclient', file('leaf.pem')]);
    expect(verified.stdout).toContain(': OK');
    expect(serverOfProfile(text)).toEqual({host: 'vpn-berlin.example.com', port: 1194, proto: 'udp'});
    expect(profileFileName(server)).toBe('berlin-office.ovpn');
  });

  it('the PKCS#12 opens with OpenSSL 3 without -legacy with the chosen password (AES-256-CBC, PBKDF2-SHA256, SHA-256 MAC), not with a wrong one', async () => {
    const password = 'correct horse battery staple';
    const p12 = await made.device.pkcs12(certificate, password, 'alice@example.com (Work laptop)');
    writeFileSync(file('alice.p12'), p12);
    const env = {...process.env, P12_PASSWORD: password};
    const info = await run('openssl', ['pkcs12', '-info', '-noout', '-in', file('alice.p12'), '-passin', 'env:P12_PASSWORD'], {env});
    expect(info.stderr).toContain('MAC: sha256');
    expect(info.stderr).toMatch(/Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 100000, PRF hmacWithSHA256/);
    const out = await run('openssl', ['pkcs12', '-in', file('alice.p12'), '-passin', 'env:P12_PASSWORD', '-nodes'], {env});
    expect(out.stdout).toContain('friendlyName: alice@example.com (Work laptop)');
    expect(out.stdout.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    const key = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(out.stdout)![0];
    expect(createPublicKey(createPrivateKey(key)).export({type: 'spki', format: 'der'}).equals(new X509Certificate(certificate.pem).publicKey.export({type: 'spki', format: 'der'}))).toBe(true);

    const wrong = await run('openssl', ['pkcs12', '-info', '-noout', '-in', file('alice.p12'), '-passin', 'env:P12_PASSWORD'], {env: {...process.env, P12_PASSWORD: 'not the password'}, allowFailure: true});
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/Mac verify error|invalid password/i);
  });

  it('a renewal is signed with the key from the old profile, as the PKI server verifies it', async () => {
    const profile = await made.device.vpnProfile(server, certificate);
    const oldKey = await keyFromFile(profile);
    expect(oldKey).toBeDefined();
    const renewal = await renewalRequest({oldKey: oldKey!, serial: certificate.serial, email: certificate.email, profile: 'vpn', deviceLabel: 'Work laptop'});
    expect(() =>
      verifyRenewal({certificatePem: certificate.pem, claim: {renews: certificate.serial, csrPem: renewal.request, request: {server: 'pki-server', profile: 'vpn', deviceLabel: 'Work laptop'}}, signature: renewal.signature, where: 'renewal'}),
    ).not.toThrow();
    // Any other field signed differently does not verify.
    expect(() =>
      verifyRenewal({certificatePem: certificate.pem, claim: {renews: certificate.serial, csrPem: renewal.request, request: {server: 'pki-server', profile: 'client', deviceLabel: 'Work laptop'}}, signature: renewal.signature, where: 'renewal'}),
    ).toThrow(/does not verify/);
    expect(await keyFromFile('client\nremote x 1\n')).toBeUndefined();
  });
});
