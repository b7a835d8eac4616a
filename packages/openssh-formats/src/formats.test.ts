// Every format is checked against OpenSSH itself: ssh-keygen reads what we write, we read what it writes.
import {execFileSync, spawnSync} from 'node:child_process';
import {generateKeyPairSync, type KeyObject} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {
  decodeKrl,
  decodeOpenSshPrivateKey,
  encodeKrl,
  encodeOpenSshPrivateKey,
  fingerprint,
  formatPublicKey,
  parseCertificate,
  parsePublicKey,
  signCertificate,
  sshPublicKey,
  SshWriter,
  verifyCertificateSignature,
} from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'openssh-formats-'));
afterAll(() => rmSync(dir, {recursive: true, force: true}));
let n = 0;
const file = (name: string) => join(dir, `${++n}-${name}`);

function keygen(type: string, bits?: number): {path: string; pub: string} {
  const path = file(`id_${type}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', 'test@example', '-f', path]);
  return {path, pub: readFileSync(`${path}.pub`, 'utf8').trim()};
}

function sshKeygen(args: string[]): {code: number; out: string} {
  const r = spawnSync('ssh-keygen', args, {encoding: 'utf8'});
  return {code: r.status ?? 1, out: `${r.stdout}${r.stderr}`};
}

const now = BigInt(Math.floor(Date.now() / 1000));

function userCert(ca: KeyObject, publicKey: Buffer, extra: Partial<Parameters<typeof signCertificate>[0]> = {}) {
  return signCertificate(
    {
      publicKey,
      serial: 1234567890123n,
      certType: 'user',
      keyId: 'ann@example.com/1234567890123',
      principals: ['deploy', 'ops'],
      validAfter: now - 60n,
      validBefore: now + 3600n,
      criticalOptions: {},
      extensions: {'permit-pty': '', 'permit-agent-forwarding': '', 'permit-port-forwarding': '', 'permit-user-rc': ''},
      ...extra,
    },
    ca,
  );
}

describe('public keys', () => {
  for (const [type, bits] of [['ed25519'], ['ecdsa', 256], ['ecdsa', 384], ['ecdsa', 521], ['rsa', 2048], ['rsa', 3072]] as const) {
    it(`reads ssh-keygen's ${type}${bits ? `-${bits}` : ''} keys and agrees on the fingerprint`, () => {
      const {path, pub} = keygen(type, bits);
      const key = parsePublicKey(pub);
      expect(key.comment).toBe('test@example');
      expect(key.bits).toBe(bits ?? 256);
      expect(sshPublicKey(key.key).blob.equals(key.blob)).toBe(true);
      const theirs = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`], {encoding: 'utf8'});
      expect(theirs).toContain(fingerprint(key.blob));
    });
  }

  it('refuses malformed keys, saying what is wrong', () => {
    const good = parsePublicKey(keygen('ed25519').pub);
    const b64 = good.blob.toString('base64');
    expect(() => parsePublicKey('')).toThrow(/empty/);
    expect(() => parsePublicKey('ssh-ed25519 not*base64')).toThrow(/not base64/);
    expect(() => parsePublicKey(`ssh-dss ${b64}`)).toThrow(/DSA/);
    expect(() => parsePublicKey(`ecdsa-sha2-nistp256 ${b64}`)).toThrow(/says ecdsa-sha2-nistp256 but the key data is ssh-ed25519/);
    expect(() => parsePublicKey(`ssh-ed25519 ${good.blob.subarray(0, 20).toString('base64')}`)).toThrow(/truncated/);
    expect(() => parsePublicKey(`ssh-ed25519 ${Buffer.concat([good.blob, Buffer.from([0])]).toString('base64')}`)).toThrow(/trailing/);
    const short = new SshWriter().string('ssh-ed25519').string(Buffer.alloc(31)).toBuffer();
    expect(() => parsePublicKey(`ssh-ed25519 ${short.toString('base64')}`)).toThrow(/32 bytes/);
    const badPoint = new SshWriter().string('ecdsa-sha2-nistp256').string('nistp256').string(Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)])).toBuffer();
    expect(() => parsePublicKey(`ecdsa-sha2-nistp256 ${badPoint.toString('base64')}`)).toThrow(/not a valid key/);
    expect(() => parsePublicKey(`ssh-ed25519 ${b64}\nssh-ed25519 ${b64}`)).toThrow(/exactly one/);
    const cert = userCert(generateKeyPairSync('ed25519').privateKey, good.blob);
    expect(() => parsePublicKey(cert.line)).toThrow(/is a certificate/);
  });
});

describe('certificates', () => {
  for (const [label, ca, using] of [
    ['Ed25519', generateKeyPairSync('ed25519').privateKey, 'ssh-ed25519'],
    ['ECDSA P-256', generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey, 'ecdsa-sha2-nistp256'],
    ['ECDSA P-521', generateKeyPairSync('ec', {namedCurve: 'P-521'}).privateKey, 'ecdsa-sha2-nistp521'],
    ['RSA', generateKeyPairSync('rsa', {modulusLength: 2048}).privateKey, 'rsa-sha2-512'],
  ] as const) {
    it(`ssh-keygen -L reads what a ${label} CA signs, with every field`, () => {
      const user = keygen('ed25519');
      const cert = userCert(ca, parsePublicKey(user.pub).blob, {criticalOptions: {'force-command': '/usr/bin/uptime', 'source-address': '127.0.0.1/32,10.0.0.0/8'}});
      const certPath = `${user.path}-cert.pub`;
      writeFileSync(certPath, `${cert.line}\n`);
      const shown = execFileSync('ssh-keygen', ['-L', '-f', certPath], {encoding: 'utf8'});
      expect(shown).toContain('Type: ssh-ed25519-cert-v01@openssh.com user certificate');
      expect(shown).toContain(`Signing CA: ${using === 'rsa-sha2-512' ? 'RSA' : using === 'ssh-ed25519' ? 'ED25519' : 'ECDSA'} ${fingerprint(sshPublicKey(ca).blob)} (using ${using})`);
      expect(shown).toContain('Key ID: "ann@example.com/1234567890123"');
      expect(shown).toContain('Serial: 1234567890123');
      expect(shown).toMatch(/Principals: \n\s+deploy\n\s+ops\n/);
      expect(shown).toMatch(/Critical Options: \n\s+force-command \/usr\/bin\/uptime\n\s+source-address 127\.0\.0\.1\/32,10\.0\.0\.0\/8\n/);
      expect(shown).toMatch(/Extensions: \n\s+permit-agent-forwarding\n\s+permit-port-forwarding\n\s+permit-pty\n\s+permit-user-rc\n/);
      const parsed = parseCertificate(cert.line);
      expect(parsed.principals).toEqual(['deploy', 'ops']);
      expect(parsed.signatureAlgorithm).toBe(using);
      expect(verifyCertificateSignature(parsed)).toBe(true);
    });
  }

  it('reads certificates made by ssh-keygen -s and checks their signature', () => {
    const ca = keygen('ed25519');
    const user = keygen('ecdsa', 256);
    execFileSync('ssh-keygen', ['-q', '-s', ca.path, '-I', 'made-by-ssh-keygen', '-n', 'a,b', '-z', '42', '-V', '+1h', '-O', 'no-pty', `${user.path}.pub`]);
    const parsed = parseCertificate(readFileSync(`${user.path}-cert.pub`, 'utf8'));
    expect(parsed).toMatchObject({keyId: 'made-by-ssh-keygen', serial: 42n, principals: ['a', 'b'], certType: 'user'});
    expect(Object.keys(parsed.extensions)).not.toContain('permit-pty');
    expect(parsed.signatureKey.equals(parsePublicKey(ca.pub).blob)).toBe(true);
    expect(verifyCertificateSignature(parsed)).toBe(true);
    const tampered = Buffer.from(parsed.blob);
    tampered[tampered.length - 5]! ^= 1;
    expect(verifyCertificateSignature(parseCertificate(tampered))).toBe(false);
  });
});

describe('OpenSSH private keys', () => {
  for (const [label, key] of [
    ['Ed25519', generateKeyPairSync('ed25519').privateKey],
    ['ECDSA P-384', generateKeyPairSync('ec', {namedCurve: 'P-384'}).privateKey],
    ['RSA', generateKeyPairSync('rsa', {modulusLength: 2048}).privateKey],
  ] as const) {
    it(`ssh-keygen -y derives the right public key from our ${label} key file`, () => {
      const path = file('written');
      writeFileSync(path, encodeOpenSshPrivateKey(key, 'a comment'), {mode: 0o600});
      const {type, blob} = sshPublicKey(key);
      expect(execFileSync('ssh-keygen', ['-y', '-f', path], {encoding: 'utf8'}).trim()).toBe(formatPublicKey(type, blob, 'a comment'));
      expect(decodeOpenSshPrivateKey(readFileSync(path, 'utf8')).comment).toBe('a comment');
    });
  }

  for (const [type, bits] of [['ed25519'], ['ecdsa', 521], ['rsa', 3072]] as const) {
    it(`reads ssh-keygen's ${type} private key files`, () => {
      const {path, pub} = keygen(type, bits);
      const decoded = decodeOpenSshPrivateKey(readFileSync(path, 'utf8'));
      expect(formatPublicKey(decoded.type, sshPublicKey(decoded.key).blob, decoded.comment)).toBe(pub);
      // The key signs something ssh-keygen accepts: a certificate checked by ssh-keygen -L.
      const cert = userCert(decoded.key, parsePublicKey(keygen('ed25519').pub).blob);
      expect(verifyCertificateSignature(parseCertificate(cert.line))).toBe(true);
    });
  }

  it('refuses an encrypted key file with what to do instead', () => {
    const path = file('enc');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'a passphrase', '-f', path]);
    expect(() => decodeOpenSshPrivateKey(readFileSync(path, 'utf8'))).toThrow(/encrypted; use a PKCS#8 PEM key/);
    expect(() => decodeOpenSshPrivateKey('-----BEGIN PRIVATE KEY-----')).toThrow(/not an OpenSSH private key/);
  });
});

describe('KRL', () => {
  const ca = generateKeyPairSync('ed25519').privateKey;
  const caPath = file('ca');
  const caBlob = sshPublicKey(ca).blob;
  writeFileSync(caPath, `${formatPublicKey('ssh-ed25519', caBlob)}\n`);
  const certs = new Map<string, string>();
  const issue = (serial: bigint, keyId: string) => {
    const user = keygen('ed25519');
    const path = `${user.path}-cert.pub`;
    writeFileSync(path, userCert(ca, parsePublicKey(user.pub).blob, {serial, keyId}).line);
    certs.set(`${serial}`, path);
    return path;
  };
  const revoked = [issue(5n, 'a'), issue(100n, 'b'), issue(101n, 'c'), issue(102n, 'd'), issue(7n, 'bob@example.com/7')];
  const kept = [issue(6n, 'e'), issue(103n, 'f'), issue(8n, 'bob@example.com/8')];
  const krlPath = file('krl');
  const krl = encodeKrl({
    version: 3n,
    generatedAt: new Date(),
    comment: 'test',
    certificates: [
      {caKey: caBlob, serials: [102n, 5n, 100n, 101n, 5n], keyIds: []},
      {caKey: null, serials: [], keyIds: ['bob@example.com/7']},
    ],
  });
  writeFileSync(krlPath, krl);

  it('ssh-keygen -Q finds revoked certificates and passes the others', () => {
    for (const path of revoked) expect(sshKeygen(['-Q', '-f', krlPath, path])).toMatchObject({code: 1, out: expect.stringContaining('REVOKED')});
    for (const path of kept) expect(sshKeygen(['-Q', '-f', krlPath, path])).toMatchObject({code: 0, out: expect.stringContaining('ok')});
  });

  it('ssh-keygen -Q -l lists what we encoded, and we read back what ssh-keygen -k writes', () => {
    const listing = sshKeygen(['-Q', '-l', '-f', krlPath]);
    expect(listing.code).toBe(0);
    expect(listing.out).toContain('# KRL version 3');
    expect(listing.out).toMatch(/serial: 5\n/);
    expect(listing.out).toMatch(/serial: 100-102\n/);
    expect(listing.out).toContain('id: bob@example.com/7');
    expect(decodeKrl(krl).certificates[0]!.serials).toEqual([100n, 101n, 102n, 5n]);
    const theirs = file('their.krl');
    const spec = file('spec');
    writeFileSync(spec, 'serial: 9\nserial: 20-22\nid: carol\n');
    execFileSync('ssh-keygen', ['-q', '-k', '-f', theirs, '-s', `${caPath}`, '-z', '4', spec]);
    const decoded = decodeKrl(readFileSync(theirs));
    expect(decoded.version).toBe(4n);
    expect(decoded.certificates.flatMap((s) => s.serials).sort()).toEqual([20n, 21n, 22n, 9n]);
    expect(decoded.certificates.flatMap((s) => s.keyIds)).toEqual(['carol']);
  });

  it('refuses serial 0', () => {
    expect(() => encodeKrl({version: 1n, generatedAt: new Date(), comment: '', certificates: [{caKey: caBlob, serials: [0n], keyIds: []}]})).toThrow(/between 1/);
  });
});
