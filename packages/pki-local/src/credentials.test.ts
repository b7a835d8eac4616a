import {execFileSync} from 'node:child_process';
import {generateKeyPairSync} from 'node:crypto';
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {writeFileAtomicSync, writeSecretFileSync} from '@bcl/files';
import {createCredentialDir, type CredentialPaths, CredentialStage, credentialsDir, findCredential, listCredentials, loadPrivateKey, normalizeSerial, writeMeta} from './index.js';

const home = mkdtempSync(join(tmpdir(), 'pki-local-'));
const env = {HOME: home, XDG_DATA_HOME: join(home, 'data')};
afterAll(() => rmSync(home, {recursive: true, force: true}));

/** A credential directory as pkictl leaves it, with a certificate made by openssl. */
function credential(id: string, opts: {email: string; profile?: string; days: number; serial: string; fetched?: boolean; wrongCert?: boolean; requestedAt: string}) {
  const paths = createCredentialDir(credentialsDir(env), id);
  const {privateKey, publicKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'});
  writeSecretFileSync(paths.keyPath, privateKey.export({type: 'pkcs8', format: 'pem'}));
  writeFileAtomicSync(paths.publicKeyPath, publicKey.export({type: 'spki', format: 'pem'}), {mode: 0o644});
  writeMeta(paths, {version: 1, id, store: '/srv/pki.git', email: opts.email, name: 'Ann', profile: opts.profile ?? 'client', keyType: 'ecdsa-p256', encrypted: false, requestedAt: opts.requestedAt});
  if (opts.fetched === false) return paths;
  const signWith = opts.wrongCert ? join(home, `other-${id}.pem`) : paths.keyPath;
  if (opts.wrongCert) writeFileSync(signWith, generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey.export({type: 'pkcs8', format: 'pem'}));
  execFileSync('openssl', ['req', '-x509', '-key', signWith, '-out', paths.certPath, '-subj', `/CN=${opts.email}`, '-set_serial', `0x${opts.serial}`, '-days', String(opts.days)], {stdio: 'pipe'});
  return paths;
}

describe('local credentials', () => {
  const a = credential('aaaa1111', {email: 'ann@example.com', days: 30, serial: '4A01', requestedAt: '2025-01-01T00:00:00Z'});
  credential('bbbb2222', {email: 'ann@example.com', days: 60, serial: '4A02', requestedAt: '2025-01-02T00:00:00Z'});
  credential('cccc3333', {email: 'ann@example.com', days: 90, serial: '4A03', requestedAt: '2025-01-03T00:00:00Z', wrongCert: true});
  credential('dddd4444', {email: 'ann@example.com', days: 1, serial: '4A04', requestedAt: '2025-01-04T00:00:00Z', fetched: false});
  credential('eeee5555', {email: 'bob@example.com', profile: 'vpn', days: 10, serial: '4A05', requestedAt: '2025-01-05T00:00:00Z'});

  it('keeps keys private and lists every credential with its state', () => {
    expect(statSync(a.keyPath).mode & 0o777).toBe(0o600);
    expect(statSync(a.dir).mode & 0o777).toBe(0o700);
    const states = Object.fromEntries(listCredentials({env}).map((c) => [c.id, c.state]));
    expect(states).toEqual({aaaa1111: 'valid', bbbb2222: 'valid', cccc3333: 'mismatch', dddd4444: 'pending', eeee5555: 'valid'});
  });

  it('finds the usable certificate that expires last, by email, profile or serial in any case', () => {
    expect(findCredential({env, email: 'ANN@example.com'})?.serial).toBe('4A02');
    expect(findCredential({env, serial: '4a:01'})?.certPath).toBe(a.certPath);
    expect(findCredential({env, profile: 'vpn'})?.email).toBe('bob@example.com');
    expect(findCredential({env, email: 'ann@example.com', minRemainingMs: 45 * 86_400_000})?.serial).toBe('4A02');
    expect(findCredential({env, email: 'ann@example.com', minRemainingMs: 70 * 86_400_000})).toBeUndefined();
    expect(findCredential({env, serial: '4A03'})).toBeUndefined();
    expect(findCredential({env, serial: 'zz'})).toBeUndefined();
  });

  it('treats expired certificates as unusable', () => {
    const later = new Date(Date.now() + 45 * 86_400_000);
    expect(findCredential({env, email: 'ann@example.com', now: later})?.serial).toBe('4A02');
    expect(findCredential({env, serial: '4A01', now: later})).toBeUndefined();
  });

  it('loads the key that matches the certificate', () => {
    const key = loadPrivateKey(a);
    expect(key.asymmetricKeyType).toBe('ec');
    expect(readFileSync(a.certPath, 'utf8')).toContain('BEGIN CERTIFICATE');
  });

  it('normalizes serials the way openssl prints them', () => {
    expect(normalizeSerial('0x4a:0b')).toBe('4A0B');
    expect(normalizeSerial('abc')).toBe('0ABC');
    expect(normalizeSerial('xyz')).toBeUndefined();
  });
});

describe('a new credential', () => {
  const stagedEnv = {HOME: home, XDG_DATA_HOME: join(home, 'staged')};
  const meta = {version: 1, id: 'ffff6666', store: 'https://pki.example.com', email: 'ann@example.com', name: 'ann@example.com', profile: 'client', keyType: 'ecdsa-p256' as const, encrypted: false, requestedAt: '2025-01-06T00:00:00Z'};

  it('is not listed while it is built, and is listed whole once published', () => {
    const {privateKey, publicKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'});
    const stage = CredentialStage.create(credentialsDir(stagedEnv));
    let paths: CredentialPaths | undefined;
    try {
      stage.write('key', String(privateKey.export({type: 'pkcs8', format: 'pem'})));
      stage.write('publicKey', String(publicKey.export({type: 'spki', format: 'pem'})));
      expect(listCredentials({env: stagedEnv})).toEqual([]);
      stage.writeMeta(meta);
      expect(listCredentials({env: stagedEnv})).toEqual([]);
      paths = stage.publish();
    } finally {
      stage.discard();
    }
    expect(statSync(paths!.keyPath).mode & 0o777).toBe(0o600);
    expect(statSync(paths!.publicKeyPath).mode & 0o777).toBe(0o644);
    expect(listCredentials({env: stagedEnv}).map((c) => [c.id, c.state])).toEqual([['ffff6666', 'pending']]);
    expect(readdirSync(credentialsDir(stagedEnv))).toEqual(['ffff6666']);
  });

  it('leaves nothing when it is given up', () => {
    const stage = CredentialStage.create(credentialsDir(stagedEnv));
    try {
      stage.write('key', 'PRIVATE');
    } finally {
      stage.discard();
    }
    expect(readdirSync(credentialsDir(stagedEnv))).toEqual(['ffff6666']);
  });
});
