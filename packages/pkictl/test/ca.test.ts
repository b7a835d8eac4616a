import {existsSync, readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {isolatedHome, runCli, tempDir} from '@bcl/testkit';
import {git, issue, openssl, type Pki, setupPki} from './support.js';
import {splitPems} from '../src/core/certs.js';

describe('pkictl ca init with an intermediate CA (RSA)', () => {
  let pki: Pki;
  beforeAll(async () => {
    pki = await setupPki({intermediate: true, keyType: 'rsa-3072'});
  });
  afterAll(() => pki?.remove());

  it('keeps the root key apart; leaves chain to the root through the intermediate', async () => {
    const rootKey = join(pki.dir, 'root.key');
    expect(statSync(rootKey).mode & 0o777).toBe(0o600);
    expect(readFileSync(rootKey, 'utf8')).toContain('ENCRYPTED PRIVATE KEY');
    const root = git(['show', 'main:ca/root.pem'], pki.store);
    const intermediate = git(['show', 'main:ca/intermediate.pem'], pki.store);
    expect(openssl(['x509', '-noout', '-text'], {input: intermediate}).out).toMatch(/CA:TRUE, pathlen:0/);
    expect(openssl(['x509', '-noout', '-text'], {input: root}).out).toMatch(/CA:TRUE, pathlen:1/);

    const ann = pki.person('ann@example.com');
    const cert = await issue(pki, ann);
    const chain = splitPems(readFileSync(cert.chainPath, 'utf8'));
    expect(chain).toHaveLength(2);
    const rootFile = join(pki.dir, 'root.pem');
    const interFile = join(pki.dir, 'inter.pem');
    await import('node:fs').then((fs) => {
      fs.writeFileSync(rootFile, root);
      fs.writeFileSync(interFile, intermediate);
    });
    expect(openssl(['verify', '-CAfile', rootFile, '-untrusted', interFile, cert.certPath]).out).toContain('OK');
    expect(openssl(['x509', '-in', cert.certPath, '-noout', '-issuer']).out).toContain('Test Corp CA Intermediate');

    // The CRL is signed by the intermediate and checks with the full chain.
    const show = await ann.pk(['show', cert.serial]);
    expect(show.exitCode).toBe(0);
    expect((await pki.admin.pk(['revoke', cert.serial, '--reason', 'cessationOfOperation', ...pki.adminFlags])).exitCode).toBe(0);
    const crlFile = join(pki.dir, 'crl.pem');
    expect((await ann.pk(['crl', '--out', crlFile])).exitCode).toBe(0);
    const v = openssl(['verify', '-crl_check', '-CAfile', rootFile, '-untrusted', interFile, '-CRLfile', crlFile, cert.certPath], {allowFailure: true});
    expect(v.out).toContain('certificate revoked');
  });

  it('publishes the root\'s CRL, so openssl verify -crl_check_all checks the intermediate too', async () => {
    const ann = pki.person('ann@example.com');
    const cert = await issue(pki, ann);
    const files = {root: join(pki.dir, 'root.pem'), inter: join(pki.dir, 'inter.pem'), crl: join(pki.dir, 'crl-all.pem'), rootCrl: join(pki.dir, 'root-crl.pem'), both: join(pki.dir, 'crls.pem')};
    const fs = await import('node:fs');
    fs.writeFileSync(files.root, git(['show', 'main:ca/root.pem'], pki.store));
    fs.writeFileSync(files.inter, git(['show', 'main:ca/intermediate.pem'], pki.store));
    expect((await ann.pk(['crl', '--out', files.crl])).exitCode).toBe(0);
    const rootCrl = await ann.pk(['crl', '--root', '--out', files.rootCrl]);
    expect(rootCrl.exitCode, rootCrl.stderr).toBe(0);
    expect(rootCrl.json().result).toMatchObject({ca: 'root', crlNumber: 1, revoked: 0, published: false, path: 'crl/root.pem'});
    // An authority revocation list: signed by the root, for CA certificates only, valid a year by default.
    const text = openssl(['crl', '-in', files.rootCrl, '-noout', '-text']).out;
    expect(text).toContain('Issuer: CN = Test Corp CA\n');
    expect(text).toMatch(/Issuing Distribution Point: critical\n\s*Only CA Certificates/);
    const days = (Date.parse(/Next Update: (.*)/.exec(text)![1]!) - Date.parse(/Last Update: (.*)/.exec(text)![1]!)) / 86_400_000;
    expect(days).toBe(365);
    expect(openssl(['crl', '-in', files.rootCrl, '-noout', '-CAfile', files.root], {allowFailure: true}).code).toBe(0);
    expect(openssl(['crl', '-in', files.rootCrl, '-noout', '-CAfile', files.inter], {allowFailure: true}).code).not.toBe(0);

    const verifyAll = (crls: string) => openssl(['verify', '-crl_check_all', '-CAfile', files.root, '-untrusted', files.inter, '-CRLfile', crls, cert.certPath], {allowFailure: true});
    // Without the root's CRL, the check of the intermediate cannot complete.
    expect(verifyAll(files.crl).out).toContain('unable to get certificate CRL');
    fs.writeFileSync(files.both, fs.readFileSync(files.crl, 'utf8') + fs.readFileSync(files.rootCrl, 'utf8'));
    expect(verifyAll(files.both)).toMatchObject({code: 0});

    // The root key (offline) re-signs it before it expires: the next number, nothing else changes.
    const resigned = await pki.admin.pk(['crl', '--root', '--root-key', pki.rootKey!, '--passphrase-file', pki.passFile]);
    expect(resigned.exitCode, resigned.stderr).toBe(0);
    expect(resigned.json().result).toMatchObject({ca: 'root', crlNumber: 2, published: true});
    const wrongKey = await pki.admin.pk(['crl', '--root', '--root-key', pki.caKey, '--passphrase-file', pki.passFile]);
    expect(wrongKey.exitCode).toBe(4);
    expect(wrongKey.json().error?.code).toBe('pkictl.root_key_mismatch');
  });

  it('limits the intermediate to the policy\'s names: a certificate outside them is never signed', async () => {
    const intermediate = openssl(['x509', '-noout', '-text'], {input: git(['show', 'main:ca/intermediate.pem'], pki.store)}).out;
    expect(intermediate).toMatch(/X509v3 Name Constraints: critical\n\s*Permitted:\n\s*email:example\.com/);
    // A later policy admits another email domain; the intermediate still may not sign for it.
    const file = join(pki.dir, 'policy-wider.yaml');
    (await import('node:fs')).writeFileSync(file, git(['show', 'main:ca/policy.yaml'], pki.store).replace('allowedEmailDomains: [example.com]', 'allowedEmailDomains: [example.com, example.org]'));
    expect((await pki.admin.pk(['ca', 'policy', '--set', file, ...pki.adminFlags])).exitCode).toBe(0);
    const outsider = pki.person('olga@example.org');
    const req = await outsider.pk(['request']);
    expect(req.exitCode, req.stderr).toBe(0);
    const before = pki.head();
    const approve = await pki.admin.pk(['approve', (req.json().result as {id: string}).id, ...pki.adminFlags]);
    expect(approve.exitCode).toBe(4);
    expect(approve.json().error).toMatchObject({code: 'pkictl.name_constraints'});
    expect(approve.json().error?.message).toContain('email:olga@example.org is outside the issuing CA\'s name constraints (it may sign example.com)');
    expect(pki.head()).toBe(before);
  });

  it('refuses to initialize a store twice, or to overwrite a CA key', async () => {
    const again = await pki.admin.pk(['ca', 'init', '--name', 'X', '--ca-key', join(pki.dir, 'other.key'), '--passphrase-file', pki.passFile]);
    expect(again.exitCode).toBe(6);
    expect(again.json().error?.code).toBe('pkictl.store_initialized');
    expect(existsSync(join(pki.dir, 'other.key'))).toBe(false);
    const overwrite = await pki.admin.pk(['ca', 'init', '--store', join(pki.dir, 'new.git'), '--name', 'X', '--ca-key', pki.caKey, '--passphrase-file', pki.passFile]);
    expect(overwrite.exitCode).toBe(6);
    expect(overwrite.json().error?.message).toContain('refusing to overwrite a CA key');
    expect(existsSync(join(pki.dir, 'new.git'))).toBe(false);
  });
});

describe('pkictl input errors', () => {
  const home = isolatedHome();
  const dir = tempDir('pkictl-input-');
  afterAll(() => {
    home.remove();
    dir.remove();
  });
  const pk = (args: string[]) => runCli('pkictl', [...args, '--json'], {env: home.env, cwd: dir.path});

  it('names what is missing, with the documented exit codes', async () => {
    const noStore = await pk(['request', '--email', 'a@example.com']);
    expect(noStore.exitCode).toBe(2);
    expect(noStore.json().error?.message).toContain('--store');
    const noEmail = await pk(['request', '--store', join(dir.path, 'x.git')]);
    expect(noEmail.exitCode).toBe(2);
    expect(noEmail.json().error?.message).toContain('pkictl.email');
    const missing = await pk(['requests', '--store', join(dir.path, 'missing.git')]);
    expect(missing.exitCode).toBe(3);
    expect(missing.json().error?.message).toContain('does not exist');
    const badEmail = await runCli('pkictl', ['request', '--json'], {env: {...home.env, BCL_PKICTL_EMAIL: 'not-an-email'}, cwd: dir.path});
    expect(badEmail.exitCode).toBe(3);
    expect(badEmail.json().error?.message).toContain('pkictl.email');
    const shortPass = await runCli('pkictl', ['ca', 'init', '--store', join(dir.path, 'p.git'), '--name', 'X', '--ca-key', join(dir.path, 'k'), '--passphrase-env', 'P', '--json'], {
      env: {...home.env, P: 'short'},
      cwd: dir.path,
    });
    expect(shortPass.exitCode).toBe(3);
    expect(shortPass.json().error?.message).toContain('at least 8 characters');
    expect(existsSync(join(dir.path, 'k'))).toBe(false);
    const noPrompt = await pk(['ca', 'init', '--store', join(dir.path, 'p.git'), '--name', 'X', '--ca-key', join(dir.path, 'k')]);
    expect(noPrompt.exitCode).toBe(2);
    expect(noPrompt.json().error?.message).toContain('--passphrase-file');
  });

  it('--help stays fast: it loads none of the heavy modules', async () => {
    const res = await runCli('pkictl', ['approve', '--help'], {env: home.env});
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toContain('--ca-key');
    const commandFiles = ['request', 'approve', 'fetch', 'list', 'export', 'vpn-config', 'ca/init', 'login', 'migrate', 'kubeconfig', 'renew', 'revoke'].map((c) => readFileSync(new URL(`../src/commands/${c}.ts`, import.meta.url), 'utf8'));
    for (const text of commandFiles) {
      const topImports = text.split('\n').filter((l) => l.startsWith('import ') && !l.startsWith('import type'));
      expect(topImports.join('\n')).not.toMatch(/simple-git|@peculiar|node-forge|core\/|crypto\/|store\//);
    }
  });
});
