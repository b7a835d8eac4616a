import {createPrivateKey} from 'node:crypto';
import {readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runCli} from '@bcl/testkit';
import {allBlobs, git, openssl, PASSPHRASE, type Person, type Pki, setupPki} from './support.js';

/** The whole life of certificates, through the real launcher, against a real bare repository. */
describe('pkictl certificate lifecycle', () => {
  let pki: Pki;
  let ann: Person;
  let bob: Person;
  let carol: Person;
  const issued: Record<string, {id: string; serial: string; certPath: string; chainPath: string; keyPath: string}> = {};

  beforeAll(async () => {
    pki = await setupPki();
    ann = pki.person('ann@example.com');
    bob = pki.person('bob@example.com');
    carol = pki.person('carol@example.com');
  });
  afterAll(() => pki?.remove());

  it('keeps the CA key outside the store, encrypted and private', () => {
    expect(statSync(pki.caKey).mode & 0o777).toBe(0o600);
    expect(readFileSync(pki.caKey, 'utf8')).toContain('BEGIN ENCRYPTED PRIVATE KEY');
    const files = git(['ls-tree', '-r', '--name-only', 'main'], pki.store).split('\n');
    expect(files).toEqual(expect.arrayContaining(['ca/root.pem', 'ca/policy.yaml', 'inventory.json', 'crl/crl.pem']));
  });

  it('request returns {id, status} and keeps the key on this machine only', async () => {
    const before = pki.head();
    const res = await ann.pk(['request']);
    expect(res.exitCode, res.stderr).toBe(0);
    const result = res.json().result as {id: string; status: string; keyPath: string};
    expect(result).toMatchObject({id: expect.stringMatching(/^[a-z0-9]{10}$/), status: 'pending'});
    expect(statSync(result.keyPath).mode & 0o777).toBe(0o600);
    expect(statSync(join(result.keyPath, '..')).mode & 0o777).toBe(0o700);
    // One commit with a clear message, holding the CSR and the metadata.
    expect(git(['rev-list', '--count', `${before}..main`], pki.store).trim()).toBe('1');
    expect(git(['log', '-1', '--format=%s%n%ae', 'main'], pki.store)).toBe(`request ${result.id}: client certificate for ann@example.com\nann@example.com\n`);
    expect(git(['show', '--name-only', '--format=', 'main'], pki.store).trim().split('\n').sort()).toEqual([`requests/${result.id}/csr.pem`, `requests/${result.id}/request.json`]);

    const pending = await pki.admin.pk(['requests']);
    expect((pending.json().result as {id: string; email: string}[]).map((r) => [r.id, r.email])).toEqual([[result.id, 'ann@example.com']]);

    // Not yet approved: exit 6, nothing written locally.
    const early = await ann.pk(['fetch', result.id]);
    expect(early.exitCode).toBe(6);
    expect(early.json().error?.code).toBe('pkictl.not_approved');
  });

  it('approve issues per profile; fetch writes cert and chain beside the key; openssl verifies', async () => {
    await bob.pk(['request', '--key-type', 'rsa-3072', '--profile', 'vpn']);
    await carol.pk(['request', '--key-type', 'ed25519', '--name', 'Carol Example']);
    const approved = await pki.admin.pk(['approve', '--all', ...pki.adminFlags]);
    expect(approved.exitCode, approved.stderr).toBe(0);
    const rows = approved.json().result as {id: string; serial: string; notAfter: string}[];
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(Object.keys(row)).toEqual(expect.arrayContaining(['id', 'serial', 'notAfter']));
      expect(row.serial).toMatch(/^[0-9A-F]{32}$/);
    }
    expect(git(['log', '-1', '--format=%s', 'main'], pki.store).trim()).toBe('approve 3 requests');

    for (const [name, person] of [['ann', ann], ['bob', bob], ['carol', carol]] as const) {
      const res = await person.pk(['fetch']);
      expect(res.exitCode, res.stderr).toBe(0);
      const r = res.json().result as (typeof issued)[string];
      expect(Object.keys(r)).toEqual(expect.arrayContaining(['id', 'serial', 'certPath', 'chainPath', 'keyPath']));
      expect(rows.map((x) => x.serial)).toContain(r.serial);
      issued[name] = r;
      expect(openssl(['verify', '-CAfile', r.chainPath, r.certPath]).out).toContain(': OK');
      // The serial as openssl prints it.
      expect(openssl(['x509', '-in', r.certPath, '-noout', '-serial']).out.trim()).toBe(`serial=${r.serial}`);
      const text = openssl(['x509', '-in', r.certPath, '-noout', '-text']).out;
      expect(text).toContain('CA:FALSE');
      expect(text).toContain('TLS Web Client Authentication');
      expect(text).toContain(`email:${person.email}`);
    }
    expect(openssl(['x509', '-in', issued.bob!.certPath, '-noout', '-text']).out).toMatch(/Public-Key: \(3072 bit\)/);
    expect(openssl(['x509', '-in', issued.carol!.certPath, '-noout', '-subject']).out).toContain('CN = Carol Example');
    expect(openssl(['x509', '-in', issued.carol!.certPath, '-noout', '-text']).out).toContain('ED25519');
  });

  it('list gives {serial, email, profile, status, notBefore, notAfter} and filters; show accepts either case', async () => {
    const all = (await ann.pk(['list'])).json().result as Record<string, string>[];
    expect(all).toHaveLength(3);
    for (const row of all) expect(Object.keys(row)).toEqual(expect.arrayContaining(['serial', 'email', 'profile', 'status', 'notBefore', 'notAfter']));
    const bobs = (await ann.pk(['list', '--email', 'bob@example.com'])).json().result as Record<string, string>[];
    expect(bobs.map((r) => [r.email, r.profile, r.status])).toEqual([['bob@example.com', 'vpn', 'valid']]);
    // Lifetime: the client profile's default maximum, 90 days.
    const days = (Date.parse(bobs[0]!.notAfter!) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89);
    expect(days).toBeLessThanOrEqual(90);

    const shown = await ann.pk(['show', issued.ann!.serial.toLowerCase()]);
    expect(shown.exitCode, shown.stderr).toBe(0);
    const s = shown.json().result as {serial: string; certificate: {sans: string[]; ca: boolean}; local: {certPath: string}};
    expect(s.serial).toBe(issued.ann!.serial);
    expect(s.certificate).toMatchObject({sans: ['email:ann@example.com'], ca: false});
    expect(s.local.certPath).toBe(issued.ann!.certPath);

    const bad = await ann.pk(['show', 'not-hex']);
    expect(bad.exitCode).toBe(3);
    expect(bad.json().error?.message).toContain('not a hex serial');
  });

  it('after revoke and crl, openssl -crl_check rejects the revoked certificate and accepts the others', async () => {
    const revoked = await pki.admin.pk(['revoke', issued.bob!.serial.toLowerCase(), '--reason', 'keyCompromise', ...pki.adminFlags]);
    expect(revoked.exitCode, revoked.stderr).toBe(0);
    expect(revoked.json().result).toMatchObject({serial: issued.bob!.serial, status: 'revoked', reason: 'keyCompromise'});
    const crlFile = join(pki.dir, 'crl.pem');
    const crl = await ann.pk(['crl', '--out', crlFile]);
    expect(crl.exitCode, crl.stderr).toBe(0);
    expect(crl.json().result).toMatchObject({revoked: 1, published: false});
    const crlText = openssl(['crl', '-in', crlFile, '-noout', '-text']).out;
    expect(crlText).toContain('Next Update');
    expect(crlText).toContain(`Serial Number: ${issued.bob!.serial}`);
    expect(crlText).toContain('Key Compromise');
    const verify = (cert: string) => openssl(['verify', '-crl_check', '-CAfile', issued.ann!.chainPath, '-CRLfile', crlFile, cert], {allowFailure: true});
    expect(verify(issued.ann!.certPath)).toMatchObject({code: 0});
    expect(verify(issued.carol!.certPath)).toMatchObject({code: 0});
    const rejected = verify(issued.bob!.certPath);
    expect(rejected.code).not.toBe(0);
    expect(rejected.out).toContain('certificate revoked');
    expect(((await ann.pk(['list', '--status', 'revoked'])).json().result as {serial: string}[]).map((r) => r.serial)).toEqual([issued.bob!.serial]);

    // Revoking twice is a conflict; the published CRL is also in the store.
    const again = await pki.admin.pk(['revoke', issued.bob!.serial, '--reason', 'superseded', ...pki.adminFlags]);
    expect(again.exitCode).toBe(6);
    expect(git(['show', 'main:crl/crl.pem'], pki.store)).toBe(readFileSync(crlFile, 'utf8'));
  });

  it('renew makes a new key and request; once issued, the old certificate is revoked as superseded', async () => {
    const renewed = await ann.pk(['renew', issued.ann!.serial]);
    expect(renewed.exitCode, renewed.stderr).toBe(0);
    const r = renewed.json().result as {id: string; status: string; renews: string; keyPath: string};
    expect(r).toMatchObject({status: 'pending', renews: issued.ann!.serial});
    expect(r.keyPath).not.toBe(issued.ann!.keyPath);
    await pki.admin.pk(['approve', r.id, ...pki.adminFlags]);
    const fetched = (await ann.pk(['fetch', r.id])).json().result as {serial: string; certPath: string; chainPath: string};
    const old = (await ann.pk(['show', issued.ann!.serial])).json().result as {status: string; reason: string; supersededBy: string};
    expect(old).toMatchObject({status: 'revoked', reason: 'superseded', supersededBy: fetched.serial});
    const crlFile = join(pki.dir, 'crl2.pem');
    writeFileSync(crlFile, git(['show', 'main:crl/crl.pem'], pki.store));
    const verify = (cert: string) => openssl(['verify', '-crl_check', '-CAfile', fetched.chainPath, '-CRLfile', crlFile, cert], {allowFailure: true}).code;
    expect(verify(fetched.certPath)).toBe(0);
    expect(verify(issued.ann!.certPath)).not.toBe(0);
    issued.ann2 = fetched as never;
  });

  it('exports PKCS#12 that openssl pkcs12 opens, and PEM, both 0600', async () => {
    const pw = join(ann.home.home, 'p12pass');
    writeFileSync(pw, 'export-secret\n', {mode: 0o600});
    const out = join(ann.home.home, 'ann.p12');
    const res = await ann.pk(['export', issued.ann2!.serial.toLowerCase(), '--format', 'p12', '--out', out, '--password-file', pw]);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const opened = openssl(['pkcs12', '-in', out, '-passin', `file:${pw}`, '-nodes']).out;
    expect(opened).toContain('BEGIN PRIVATE KEY');
    expect(opened).toContain('friendlyName: ann@example.com (client)');
    const certs = opened.match(/BEGIN CERTIFICATE/g) ?? [];
    expect(certs.length).toBe(2);
    // The key in the PKCS#12 is the one of the certificate.
    const keyPub = openssl(['pkey', '-pubout'], {input: opened.slice(opened.indexOf('-----BEGIN PRIVATE KEY'))}).out;
    const certPub = openssl(['x509', '-in', issued.ann2!.certPath, '-noout', '-pubkey']).out;
    expect(keyPub).toBe(certPub);
    const wrong = openssl(['pkcs12', '-in', out, '-passin', 'pass:wrong', '-nodes'], {allowFailure: true});
    expect(wrong.code).not.toBe(0);

    const pem = join(ann.home.home, 'ann.pem');
    expect((await ann.pk(['export', issued.ann2!.serial, '--out', pem])).exitCode).toBe(0);
    expect(statSync(pem).mode & 0o777).toBe(0o600);
    expect(openssl(['verify', '-CAfile', issued.ann2!.chainPath, pem]).out).toContain('OK');

    // Another machine has no key for it.
    const elsewhere = await bob.pk(['export', issued.ann2!.serial, '--format', 'p12', '--out', join(bob.home.home, 'x.p12'), '--password-file', pw]);
    expect(elsewhere.exitCode).toBe(3);
    expect(elsewhere.json().error?.code).toBe('pkictl.no_local_key');
  });

  it('an encrypted key (--encrypt-key) stays encrypted on disk and in the VPN profile; export asks for its passphrase', async () => {
    const dave = pki.person('dave@example.com');
    const env = {KEY_PASS: 'dave key passphrase'};
    const req = await dave.pk(['request', '--profile', 'vpn', '--encrypt-key', '--passphrase-env', 'KEY_PASS'], env);
    expect(req.exitCode, req.stderr).toBe(0);
    const {id, keyPath} = req.json().result as {id: string; keyPath: string};
    expect(readFileSync(keyPath, 'utf8')).toContain('BEGIN ENCRYPTED PRIVATE KEY');
    await pki.admin.pk(['approve', id, ...pki.adminFlags]);
    const fetched = (await dave.pk(['fetch'])).json().result as {serial: string};
    const ovpn = join(dave.home.home, 'dave.ovpn');
    expect((await dave.pk(['vpn-config', '--remote', 'vpn.example.com', '--out', ovpn])).exitCode).toBe(0);
    expect(readFileSync(ovpn, 'utf8')).toContain('BEGIN ENCRYPTED PRIVATE KEY');
    const pw = join(dave.home.home, 'pw');
    writeFileSync(pw, 'p12 password\n');
    const out = join(dave.home.home, 'dave.p12');
    const noPass = await dave.pk(['export', fetched.serial, '--format', 'p12', '--out', out, '--password-file', pw]);
    expect(noPass.exitCode).toBe(2);
    expect(noPass.json().error?.message).toContain('--passphrase-file or --passphrase-env');
    const ok = await dave.pk(['export', fetched.serial, '--format', 'p12', '--out', out, '--password-file', pw, '--passphrase-env', 'KEY_PASS'], env);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(openssl(['pkcs12', '-in', out, '-passin', `file:${pw}`, '-nodes']).out).toContain('BEGIN PRIVATE KEY');
    expect(ok.stdout + ok.stderr).not.toContain('dave key passphrase');
  });

  it('reject tells the requester why; fetch of a rejected request is exit 4', async () => {
    const req = (await carol.pk(['request', '--profile', 'vpn'])).json().result as {id: string};
    const rejected = await pki.admin.pk(['reject', req.id, '--reason', 'use the client profile', ...pki.adminFlags]);
    expect(rejected.exitCode, rejected.stderr).toBe(0);
    const fetched = await carol.pk(['fetch', req.id]);
    expect(fetched.exitCode).toBe(4);
    expect(fetched.json().error?.message).toContain('use the client profile');
  });

  it('admin commands need the CA key and its passphrase', async () => {
    const req = (await carol.pk(['request'])).json().result as {id: string};
    const before = pki.head();
    const noKey = await carol.pk(['approve', req.id]);
    expect(noKey.exitCode).toBe(4);
    expect(noKey.json().error?.code).toBe('pkictl.ca_key_required');
    const wrongPass = await pki.admin.pk(['approve', req.id, '--ca-key', pki.caKey, '--passphrase-env', 'CA_PASS'], {CA_PASS: 'not the passphrase'});
    expect(wrongPass.exitCode).toBe(4);
    expect(wrongPass.json().error?.code).toBe('pkictl.passphrase_wrong');
    const noPass = await pki.admin.pk(['approve', req.id, '--ca-key', pki.caKey]);
    expect(noPass.exitCode).toBe(2);
    expect(noPass.json().error?.message).toContain('--passphrase-file');
    expect(pki.head()).toBe(before);
    // The passphrase never shows up in output.
    expect(wrongPass.stdout + wrongPass.stderr).not.toContain('not the passphrase');
  });

  it('bcl doctor checks the store and shows the local certificates', async () => {
    const res = await runCli('bcl', ['doctor', '--json'], {env: ann.home.env, cwd: ann.home.home});
    const envelope = res.json<{result?: {checks: {name: string; status: string}[]}; error?: {details?: {checks: {name: string; status: string}[]}}}>();
    const checks = envelope.result?.checks ?? envelope.error?.details?.checks ?? [];
    expect(checks.find((c) => c.name === 'pkictl.store')?.status).toBe('ok');
    expect(checks.find((c) => c.name === 'pkictl.caFingerprint')?.status).toBe('ok');
    expect(checks.find((c) => c.name === `pkictl certificate ${issued.ann2!.serial}`)?.status).toBe('ok');
  });

  it('no private key material appears anywhere in the store history', () => {
    const blobs = allBlobs(pki.store);
    expect(blobs.length).toBeGreaterThan(20);
    // The secret part of every key made so far (EC scalar, RSA private exponent, Ed25519 seed).
    const keyFiles = [ann, bob, carol].flatMap((p) => p.credentials().map((id) => ({pem: readFileSync(join(p.credentialDir(id), 'key.pem'), 'utf8'), passphrase: undefined as string | undefined})));
    keyFiles.push({pem: readFileSync(pki.caKey, 'utf8'), passphrase: PASSPHRASE});
    const secrets = keyFiles.map(({pem, passphrase}) => Buffer.from(createPrivateKey(passphrase ? {key: pem, passphrase} : pem).export({format: 'jwk'}).d!, 'base64url'));
    expect(secrets.length).toBe(7);
    // The detector finds a secret where it is: in the local key file itself.
    const localDer = Buffer.from(keyFiles[0]!.pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64');
    expect(localDer.includes(secrets[0]!)).toBe(true);
    for (const blob of blobs) {
      expect(blob).not.toMatch(/PRIVATE KEY/);
      // Raw bytes, and the DER inside every PEM block.
      const ders = [Buffer.from(blob), ...[...blob.matchAll(/-----BEGIN [^-]+-----([\s\S]*?)-----END/g)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'))];
      for (const der of ders) for (const secret of secrets) expect(der.includes(secret)).toBe(false);
    }
  });
});
