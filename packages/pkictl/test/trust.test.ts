import {execFileSync, spawn} from 'node:child_process';
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {createPrivateKey} from 'node:crypto';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {repoRoot} from '@bcl/testkit';
import {signRenewal} from '@bcl/pki-ca/keys';
import {renewalClaimOf, recordSchemas} from '../src/store/records.js';
import {git, issue, openssl, type Person, type Pki, setupPki} from './support.js';

/**
 * What someone with push access to the store (but no CA key) can no longer do: add another
 * person's email to a request, replace the CA, or renew someone else's certificate.
 */
describe('pkictl: the Git store as a trust boundary', () => {
  let pki: Pki;
  let ann: Person;
  let mallory: Person;
  let annCert: Awaited<ReturnType<typeof issue>>;
  let malloryCert: Awaited<ReturnType<typeof issue>>;

  beforeAll(async () => {
    pki = await setupPki();
    ann = pki.person('ann@example.com');
    mallory = pki.person('mallory@example.com');
    annCert = await issue(pki, ann);
    malloryCert = await issue(pki, mallory);
  });
  afterAll(() => pki?.remove());

  const editRequest = (id: string, change: (record: Record<string, unknown>) => void) =>
    pki.tamper((wt) => {
      const file = join(wt, 'requests', id, 'request.json');
      const record = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      change(record);
      writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
    }, `request ${id}: edited by hand`);
  const stillValid = async (serial: string) => ((await ann.pk(['show', serial])).json().result as {status: string}).status;

  describe('email names', () => {
    it('a request.json edited to carry a second person\'s email is refused at approval; nothing is issued', async () => {
      const id = ((await mallory.pk(['request'])).json().result as {id: string}).id;
      editRequest(id, (r) => (r.sans = [{type: 'email', value: 'ann@example.com'}]));
      const before = pki.head();
      const res = await pki.admin.pk(['approve', id, ...pki.adminFlags]);
      expect(res.exitCode).toBe(4);
      expect(res.json().error).toMatchObject({code: 'pkictl.policy_denied'});
      expect(res.json().error?.message).toBe(
        `request ${id}: asks for the email ann@example.com, which is not the requester's (mallory@example.com); only the requester's own email is issued`,
      );
      expect(pki.head()).toBe(before);
      // Also when approving everything at once.
      expect((await pki.admin.pk(['approve', '--all', ...pki.adminFlags])).exitCode).toBe(4);
      expect(pki.head()).toBe(before);
      expect((await pki.admin.pk(['reject', id, '--reason', 'edited by hand', ...pki.adminFlags])).exitCode).toBe(0);
    });

    it('the requester\'s own email, listed again, is issued once', async () => {
      const id = ((await mallory.pk(['request'])).json().result as {id: string}).id;
      editRequest(id, (r) => (r.sans = [{type: 'email', value: 'Mallory@example.com'}]));
      const res = await pki.admin.pk(['approve', id, ...pki.adminFlags]);
      expect(res.exitCode, res.stderr).toBe(0);
      const serial = (res.json().result as {serial: string}[])[0]!.serial;
      const text = openssl(['x509', '-noout', '-ext', 'subjectAltName'], {input: git(['show', `main:certs/${serial}.pem`], pki.store)}).out;
      expect(text.trim().split('\n').pop()!.trim()).toBe('email:mallory@example.com');
    });
  });

  describe('renewals', () => {
    it('a renewal filed by someone else for a victim\'s serial is refused: it is not signed with the victim\'s key', async () => {
      // Mallory files a request in Ann's name that "renews" Ann's certificate, with a CSR of her own key.
      const id = ((await mallory.pk(['request'])).json().result as {id: string}).id;
      editRequest(id, (r) => Object.assign(r, {email: 'ann@example.com', name: 'ann@example.com', renews: annCert.serial}));
      const before = pki.head();
      const res = await pki.admin.pk(['approve', id, ...pki.adminFlags]);
      expect(res.exitCode).toBe(4);
      expect(res.json().error).toMatchObject({code: 'pkictl.renewal_unsigned'});
      expect(res.json().error?.message).toContain(`request ${id} renews ${annCert.serial} but is not signed with that certificate's key`);
      expect(pki.head()).toBe(before);
      expect(await stillValid(annCert.serial)).toBe('valid');

      // Signed with Mallory's own certificate key: the signature does not verify with Ann's.
      editRequest(id, (r) => {
        const record = recordSchemas().requestSchema.parse(r);
        const csr = git(['show', `main:requests/${id}/csr.pem`], pki.store);
        r.renewalSignature = signRenewal(createPrivateKey(readFileSync(malloryCert.keyPath)), renewalClaimOf(record, csr));
      });
      const forged = await pki.admin.pk(['approve', id, ...pki.adminFlags]);
      expect(forged.exitCode).toBe(4);
      expect(forged.json().error).toMatchObject({code: 'pkictl.renewal_signature_invalid'});
      expect(await stillValid(annCert.serial)).toBe('valid');
      expect((await pki.admin.pk(['reject', id, '--reason', 'forged renewal', ...pki.adminFlags])).exitCode).toBe(0);
    });

    it('a genuine renewal changed in the store after signing is refused', async () => {
      const renewed = await ann.pk(['renew', annCert.serial]);
      expect(renewed.exitCode, renewed.stderr).toBe(0);
      const {id} = renewed.json().result as {id: string};
      const record = JSON.parse(git(['show', `main:requests/${id}/request.json`], pki.store)) as {renewalSignature?: string};
      expect(record.renewalSignature).toMatch(/^[A-Za-z0-9+/=]{40,}$/);
      editRequest(id, (r) => (r.lifetimeDays = 3650));
      const res = await pki.admin.pk(['approve', id, ...pki.adminFlags]);
      expect(res.exitCode).toBe(4);
      expect(res.json().error).toMatchObject({code: 'pkictl.renewal_signature_invalid'});
      expect((await pki.admin.pk(['reject', id, '--reason', 'changed after signing', ...pki.adminFlags])).exitCode).toBe(0);
    });

    it('renew needs the old key on this machine; a revoked certificate is never renewed', async () => {
      const elsewhere = await mallory.pk(['renew', annCert.serial]);
      expect(elsewhere.exitCode).toBe(3);
      expect(elsewhere.json().error?.code).toBe('pkictl.no_local_key');
      expect(elsewhere.json().error?.message).toContain('a renewal is signed with the key of the certificate it renews');

      const renewed = (await mallory.pk(['renew', malloryCert.serial])).json().result as {id: string};
      // Her key is compromised and revoked before the admin gets to the renewal.
      expect((await pki.admin.pk(['revoke', malloryCert.serial, '--reason', 'keyCompromise', ...pki.adminFlags])).exitCode).toBe(0);
      const res = await pki.admin.pk(['approve', renewed.id, ...pki.adminFlags]);
      expect(res.exitCode).toBe(6);
      expect(res.json().error?.message).toContain(`renews ${malloryCert.serial}, which is revoked (keyCompromise); a revoked certificate is never renewed`);
    });
  });

  describe('CA pinning', () => {
    /** Someone with push access replaces the CA with their own of the same name and re-signs the policy and inventory with it. */
    function replaceCa(): string {
      const key = join(pki.dir, `evil-${Date.now()}.key`);
      const cert = join(pki.dir, `evil-${Date.now()}.pem`);
      openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '365', '-subj', '/CN=Test Corp CA',
        '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
      pki.tamper((wt) => {
        writeFileSync(join(wt, 'ca', 'root.pem'), readFileSync(cert));
        writeFileSync(join(wt, 'ca', 'chain.pem'), readFileSync(cert));
        for (const file of ['ca/policy.yaml', 'inventory.json']) {
          const der = execFileSync('openssl', ['dgst', '-sha256', '-sign', key, join(wt, file)]);
          writeFileSync(join(wt, `${file}.sig`), `${der.toString('base64')}\n`);
        }
      }, 'ca: rotated (not really)');
      return openssl(['x509', '-in', cert, '-noout', '-fingerprint', '-sha256']).out.trim().replace('sha256 Fingerprint=', '');
    }

    it('first use without a pin, non-interactive: refused, naming the fingerprint and how to give it', async () => {
      const newcomer = pki.person('nick@example.com', {pinned: false});
      const res = await newcomer.pk(['list']);
      expect(res.exitCode).toBe(2);
      expect(res.json().error?.message).toContain(`its root (CN=Test Corp CA) has SHA-256 fingerprint ${pki.caFingerprint}; give --ca-fingerprint or set pkictl.caFingerprint`);
      expect(newcomer.credentials()).toEqual([]);
      // Given explicitly: as a flag, or in the environment (CI).
      expect((await newcomer.pk(['list', '--ca-fingerprint', pki.caFingerprint.toLowerCase()])).exitCode).toBe(0);
      expect((await newcomer.pk(['list'], {BCL_PKICTL_CA_FINGERPRINT: pki.caFingerprint.replace(/:/g, '')})).exitCode).toBe(0);
      const wrong = await newcomer.pk(['request', '--ca-fingerprint', 'AB'.repeat(32)]);
      expect(wrong.exitCode).toBe(4);
      expect(wrong.json().error?.code).toBe('pkictl.ca_changed');
      expect(newcomer.credentials()).toEqual([]);
    });

    it('first use on a terminal: the fingerprint is shown, and once accepted it is pinned in the user\'s config file', async () => {
      const newcomer = pki.person('tina@example.com', {pinned: false});
      const out = await onTerminal(newcomer, ['list'], /Trust this CA and remember it\?/, 'y\r');
      expect(out.code, out.text).toBe(0);
      expect(out.text).toContain(`SHA-256:     ${pki.caFingerprint}`);
      const config = readFileSync(join(newcomer.home.xdg.config, 'bcl', 'config.yaml'), 'utf8');
      expect(config).toContain(`caFingerprint: ${pki.caFingerprint}`);
      // Pinned now: the next run asks nothing, even non-interactive.
      expect((await newcomer.pk(['list'])).exitCode).toBe(0);

      const refuser = pki.person('ron@example.com', {pinned: false});
      const no = await onTerminal(refuser, ['request'], /Trust this CA and remember it\?/, 'n\r');
      expect(no.code).toBe(4);
      expect(no.text).toContain('you did not trust the CA');
      expect(refuser.credentials()).toEqual([]);
      expect(readFileSync(join(refuser.home.xdg.config, 'bcl', 'config.yaml'), 'utf8')).not.toContain('caFingerprint');
    });

    it('a replaced CA is refused by every command, naming both fingerprints; nothing is written', async () => {
      // Ann requests before the swap, so there is something to fetch after it.
      const pending = ((await ann.pk(['request'])).json().result as {id: string}).id;
      expect((await pki.admin.pk(['approve', pending, ...pki.adminFlags])).exitCode).toBe(0);
      const signedHead = pki.head();
      const evil = replaceCa();
      const before = pki.head();
      const credentialsBefore = ann.credentials().length;
      for (const args of [['list'], ['requests'], ['show', annCert.serial], ['request'], ['fetch', pending], ['renew', annCert.serial], ['crl', '--out', join(pki.dir, 'x.pem')]]) {
        const res = await ann.pk(args);
        expect(res.exitCode, `${args[0]}: ${res.stdout}`).toBe(4);
        const error = res.json().error!;
        expect(error.code).toBe('pkictl.ca_changed');
        expect(error.message).toContain(`has SHA-256 fingerprint ${evil}, but pkictl.caFingerprint is ${pki.caFingerprint}`);
        expect(error.message).toMatch(/config\.yaml:\d+\)$/);
      }
      expect(pki.head()).toBe(before);
      expect(ann.credentials()).toHaveLength(credentialsBefore);
      expect(existsSync(join(ann.credentialDir(pending), 'cert.pem'))).toBe(false);
      expect(existsSync(join(pki.dir, 'x.pem'))).toBe(false);
      // The admin is refused too (their pin was written by ca init).
      expect((await pki.admin.pk(['approve', '--all', ...pki.adminFlags])).json().error?.code).toBe('pkictl.ca_changed');
      // Restored from history: accepted again.
      pki.tamper((wt) => git(['checkout', signedHead, '--', 'ca', 'inventory.json', 'inventory.json.sig'], wt), 'restore the CA');
      expect((await ann.pk(['fetch', pending])).exitCode).toBe(0);
    });

    it('vpn-config and export trust only the pinned CA in a local chain', async () => {
      const chain = readFileSync(annCert.chainPath, 'utf8');
      const evil = join(pki.dir, 'evil-local.pem');
      openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${evil}.key`, '-out', evil, '-days', '30', '-subj', '/CN=Test Corp CA']);
      writeFileSync(annCert.chainPath, readFileSync(evil));
      try {
        const ovpn = join(ann.home.home, 'ann.ovpn');
        const res = await ann.pk(['vpn-config', '--remote', 'vpn.example.com', '--out', ovpn, '--serial', annCert.serial]);
        expect(res.exitCode).toBe(4);
        expect(res.json().error?.code).toBe('pkictl.ca_changed');
        expect(existsSync(ovpn)).toBe(false);
        const pem = join(ann.home.home, 'ann.pem');
        expect((await ann.pk(['export', annCert.serial, '--out', pem])).json().error?.code).toBe('pkictl.ca_changed');
        expect(existsSync(pem)).toBe(false);
      } finally {
        writeFileSync(annCert.chainPath, chain);
      }
      expect((await ann.pk(['vpn-config', '--remote', 'vpn.example.com', '--out', join(ann.home.home, 'ok.ovpn'), '--serial', annCert.serial])).exitCode).toBe(0);
    });
  });
});

/**
 * Runs pkictl on a pseudo-terminal (util-linux `script`), as a person at a terminal would, and
 * types `answer` once the output matches `prompt`. Returns the exit code and what was shown.
 */
function onTerminal(person: Person, args: string[], prompt: RegExp, answer: string): Promise<{code: number; text: string}> {
  const env: Record<string, string> = {...person.home.env, PATH: process.env.PATH ?? '', LANG: 'C.UTF-8', TERM: 'dumb'};
  delete env.CI;
  const command = [join(repoRoot, 'bin', 'pkictl'), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qefc', command, '/dev/null'], {env, cwd: person.home.home, stdio: ['pipe', 'pipe', 'pipe']});
    let text = '';
    let answered = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const onData = (d: Buffer) => {
      text += d.toString();
      if (!answered && prompt.test(text)) {
        answered = true;
        child.stdin.write(answer);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({code: code ?? 1, text: text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')});
    });
  });
}
