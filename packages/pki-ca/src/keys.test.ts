import {execFileSync} from 'node:child_process';
import {createPrivateKey, generateKeyPairSync} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {certificateFingerprint, classifyKey, normalizeFingerprint, requireKeyType, signRenewal, verifyRenewal, type RenewalClaim} from './keys.js';

describe('key checks', () => {
  it('certifies P-256, RSA of 3072 bits and more, and Ed25519; weak keys are called weak', () => {
    expect(classifyKey(generateKeyPairSync('ec', {namedCurve: 'P-256'}).publicKey)).toBe('ecdsa-p256');
    expect(classifyKey(generateKeyPairSync('rsa', {modulusLength: 3072}).publicKey)).toBe('rsa-3072');
    expect(classifyKey(generateKeyPairSync('ed25519').publicKey)).toBe('ed25519');
    expect(classifyKey(generateKeyPairSync('rsa', {modulusLength: 2048}).publicKey)).toEqual({unsupported: 'RSA-2048', weak: false});
    expect(classifyKey(generateKeyPairSync('rsa', {modulusLength: 1024}).publicKey)).toEqual({unsupported: 'RSA-1024', weak: true});
    expect(classifyKey(generateKeyPairSync('ec', {namedCurve: 'prime192v1'}).publicKey)).toEqual({unsupported: 'EC prime192v1', weak: true});
    expect(classifyKey(generateKeyPairSync('ec', {namedCurve: 'P-384'}).publicKey)).toEqual({unsupported: 'EC secp384r1', weak: false});
  });

  it('requireKeyType refuses what the policy does not list, naming the key (code key_refused, denied)', () => {
    const where = 'request 1: requests/1/csr.pem';
    expect(() => requireKeyType(generateKeyPairSync('rsa', {modulusLength: 1024}).publicKey, ['ecdsa-p256', 'rsa-3072'], where)).toThrow(
      'request 1: requests/1/csr.pem carries a weak RSA-1024 key; this CA issues for ecdsa-p256, rsa-3072',
    );
    expect(() => requireKeyType(generateKeyPairSync('ed25519').publicKey, ['ecdsa-p256'], where)).toThrow(expect.objectContaining({code: 'key_refused', kind: 'denied'}));
    expect(requireKeyType(generateKeyPairSync('ed25519').publicKey, ['ed25519'], where)).toBe('ed25519');
  });

  it('fingerprints as `openssl x509 -fingerprint -sha256` prints them; given ones in any usual form', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pki-ca-fp-'));
    try {
      const cert = join(dir, 'c.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', cert, '-subj', '/CN=x', '-days', '1'], {stdio: 'ignore'});
      const pem = readFileSync(cert, 'utf8');
      const openssl = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-fingerprint', '-sha256'], {encoding: 'utf8'}).trim();
      expect(openssl).toBe(`sha256 Fingerprint=${certificateFingerprint(pem)}`);
      expect(normalizeFingerprint(openssl)).toBe(certificateFingerprint(pem));
      expect(normalizeFingerprint(`SHA256:${certificateFingerprint(pem).replace(/:/g, '').toLowerCase()}`)).toBe(certificateFingerprint(pem));
      expect(normalizeFingerprint('AB:CD')).toBeUndefined();
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });
});

describe('renewal proofs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pki-ca-renewal-'));
  const cert = (name: string) => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.pem`), '-subj', `/CN=${name}`, '-days', '1', '-set_serial', '0x4A1B2C3D4E5F60718293'], {stdio: 'ignore'});
    return {pem: readFileSync(join(dir, `${name}.pem`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8')};
  };
  const victim = cert('victim');
  const mallory = cert('mallory');
  const claim: RenewalClaim = {renews: '4a:1b:2c:3d:4e:5f:60:71:82:93', csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n', request: {id: 'r1', email: 'ann@example.com', sans: []}};
  const sign = (key: string, c: RenewalClaim) => signRenewal(createPrivateKey(key), c);
  const verify = (signature: string | undefined, c = claim, pem = victim.pem) => () => verifyRenewal({certificatePem: pem, claim: c, signature, where: 'request r1'});

  it('a renewal signed with the renewed certificate\'s key verifies', () => {
    expect(verify(sign(victim.key, claim))).not.toThrow();
  });

  it('refuses an unsigned renewal, one signed by another key, and one changed after signing', () => {
    expect(verify(undefined)).toThrow(expect.objectContaining({code: 'renewal_unsigned', kind: 'denied'}));
    expect(verify(sign(mallory.key, claim))).toThrow("request r1 renews 4A1B2C3D4E5F60718293, but its signature does not verify with that certificate's key");
    const signature = sign(victim.key, claim);
    expect(verify(signature, {...claim, request: {...claim.request, email: 'mallory@example.com'}})).toThrow(expect.objectContaining({code: 'renewal_signature_invalid'}));
    expect(verify(signature, {...claim, csrPem: claim.csrPem.replace('MIIB', 'MIIC')})).toThrow(expect.objectContaining({code: 'renewal_signature_invalid'}));
    // Key order of the request's fields does not matter; their values do.
    expect(verify(signature, {...claim, request: {sans: [], email: 'ann@example.com', id: 'r1'}})).not.toThrow();
  });

  it('refuses a certificate other than the one renewed', () => {
    expect(verify(sign(victim.key, claim), {...claim, renews: '01'})).toThrow(expect.objectContaining({code: 'renewal_mismatch'}));
  });
  afterAll(() => rmSync(dir, {recursive: true, force: true}));
});
