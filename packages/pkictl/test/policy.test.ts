import {execFileSync} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {git, issue, openssl, type Person, type Pki, setupPki} from './support.js';

/** What the CA refuses or strips, and how a corrupt or tampered store is reported. */
describe('pkictl policy and store integrity', () => {
  let pki: Pki;
  let mallory: Person;

  beforeAll(async () => {
    pki = await setupPki({domains: ['example.com']});
    mallory = pki.person('mallory@example.com');
  });
  afterAll(() => pki?.remove());

  /** A request whose CSR (made with openssl, with its own key) asks for far more than policy allows. */
  async function greedyRequest(): Promise<string> {
    const res = await mallory.pk(['request', '--days', '3650']);
    expect(res.exitCode, res.stderr).toBe(0);
    const id = (res.json().result as {id: string}).id;
    const key = join(pki.dir, `greedy-${id}.key`);
    const csr = execFileSync(
      'openssl',
      [
        'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key,
        '-subj', '/CN=admin@example.com/O=Test Corp',
        '-addext', 'subjectAltName=email:boss@example.com,DNS:evil.example.com,IP:10.0.0.1',
        '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      ],
      {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']},
    );
    pki.tamper((wt) => writeFileSync(join(wt, 'requests', id, 'csr.pem'), csr), `request ${id}: by hand`);
    return id;
  }

  it('a CSR asking for another email, extra SANs, CA:true and a long lifetime gets none of it', async () => {
    const id = await greedyRequest();
    const res = await pki.admin.pk(['approve', id, ...pki.adminFlags]);
    expect(res.exitCode, res.stderr).toBe(0);
    const envelope = res.json();
    const [row] = envelope.result as {serial: string; notAfter: string}[];
    const warnings = envelope.warnings.join('\n');
    expect(warnings).toContain('email:boss@example.com');
    expect(warnings).toContain('dns:evil.example.com');
    expect(warnings).toContain('CA:true');
    expect(warnings).toContain('capped to 90');
    const pem = git(['show', `main:certs/${row!.serial}.pem`], pki.store);
    const text = openssl(['x509', '-noout', '-text', '-subject'], {input: pem}).out;
    expect(text).toContain('CA:FALSE');
    expect(text).not.toContain('CA:TRUE');
    expect(text).not.toContain('Certificate Sign');
    expect(text).not.toMatch(/boss@|evil\.example|10\.0\.0\.1|O = Test Corp/);
    expect(text).toContain('email:mallory@example.com');
    expect(text).toMatch(/subject=CN = mallory@example.com/);
    const days = (Date.parse(row!.notAfter) - Date.now()) / 86_400_000;
    expect(days).toBeLessThanOrEqual(90);
    expect(days).toBeGreaterThan(89);
  });

  it('refuses requests outside the policy before anything is written: email domain, key type, SAN types, profile', async () => {
    const outsider = pki.person('eve@elsewhere.org');
    const before = pki.head();
    const domain = await outsider.pk(['request']);
    expect(domain.exitCode).toBe(4);
    expect(domain.json().error?.message).toMatch(/eve@elsewhere\.org is not in an allowed domain \(example\.com/);
    expect(outsider.credentials()).toEqual([]);

    const san = await mallory.pk(['request', '--dns', 'evil.example.com']);
    expect(san.exitCode).toBe(4);
    expect(san.json().error?.message).toContain('profile client does not allow dns names');

    const profile = await mallory.pk(['request', '--profile', 'superuser']);
    expect(profile.exitCode).toBe(3);
    expect(profile.json().error?.message).toContain('profile "superuser" is not in ca/policy.yaml (profiles: client, vpn, server)');
    expect(pki.head()).toBe(before);
  });

  it('refuses at approval a CSR with a weak key, and a request.json edited to an outside email', async () => {
    const res = await mallory.pk(['request']);
    const id = (res.json().result as {id: string}).id;
    const csr = execFileSync('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(pki.dir, 'weak.key'), '-subj', '/CN=x'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
    pki.tamper((wt) => writeFileSync(join(wt, 'requests', id, 'csr.pem'), csr));
    const before = pki.head();
    const weak = await pki.admin.pk(['approve', id, ...pki.adminFlags]);
    expect(weak.exitCode).toBe(4);
    expect(weak.json().error?.message).toContain('RSA-2048 key');
    expect(pki.head()).toBe(before);

    const res2 = await mallory.pk(['request']);
    const id2 = (res2.json().result as {id: string}).id;
    pki.tamper((wt) => {
      const file = join(wt, 'requests', id2, 'request.json');
      writeFileSync(file, readFileSync(file, 'utf8').replace('mallory@example.com', 'mallory@evil.org'));
    });
    const before2 = pki.head();
    const outside = await pki.admin.pk(['approve', id2, ...pki.adminFlags]);
    expect(outside.exitCode).toBe(4);
    expect(outside.json().error?.message).toContain('mallory@evil.org is not in an allowed domain');
    expect(pki.head()).toBe(before2);
    for (const i of [id, id2]) expect((await pki.admin.pk(['reject', i, '--reason', 'tampered', ...pki.adminFlags])).exitCode).toBe(0);
  });

  it('a bad CSR stops approve --all with an error naming the file, and nothing is written', async () => {
    const good = (await mallory.pk(['request'])).json().result as {id: string};
    const bad = (await mallory.pk(['request'])).json().result as {id: string};
    pki.tamper((wt) => writeFileSync(join(wt, 'requests', bad.id, 'csr.pem'), '-----BEGIN CERTIFICATE REQUEST-----\nnot base64 at all\n-----END CERTIFICATE REQUEST-----\n'));
    const before = pki.head();
    const res = await pki.admin.pk(['approve', '--all', ...pki.adminFlags]);
    expect(res.exitCode).toBe(3);
    expect(res.json().error?.message).toContain(`requests/${bad.id}/csr.pem`);
    expect(res.json().error?.hint).toContain('pkictl reject');
    expect(pki.head()).toBe(before);
    expect(git(['ls-tree', '-r', '--name-only', 'main', 'certs'], pki.store).split('\n').filter(Boolean)).toHaveLength(1);

    // A CSR whose signature does not match its key (altered after signing) is named too.
    const res3 = (await mallory.pk(['request'])).json().result as {id: string};
    pki.tamper((wt) => {
      const file = join(wt, 'requests', res3.id, 'csr.pem');
      const der = Buffer.from(readFileSync(file, 'utf8').replace(/-----[^-]+-----|\s+/g, ''), 'base64');
      der[der.length - 5]! ^= 0xff;
      writeFileSync(file, `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`);
    });
    const altered = await pki.admin.pk(['approve', res3.id, ...pki.adminFlags]);
    expect(altered.exitCode).toBe(3);
    expect(altered.json().error?.message).toContain(`requests/${res3.id}/csr.pem: the request's signature does not verify`);

    // Unreadable metadata is named by every command that reads it; rejecting removes the request.
    const broken = (await mallory.pk(['request'])).json().result as {id: string};
    pki.tamper((wt) => writeFileSync(join(wt, 'requests', broken.id, 'request.json'), '{"version": 1, "id": '));
    const listing = await pki.admin.pk(['requests']);
    expect(listing.exitCode).toBe(3);
    expect(listing.json().error?.message).toContain(`requests/${broken.id}/request.json is not valid JSON`);
    expect((await pki.admin.pk(['reject', broken.id, '--reason', 'corrupt metadata', ...pki.adminFlags])).exitCode).toBe(0);
    expect(git(['ls-tree', '-r', '--name-only', 'main', `requests/${broken.id}`], pki.store).trim()).toBe('');

    // Rejecting the bad ones clears the queue; the good one is then approved.
    for (const id of [bad.id, res3.id]) expect((await pki.admin.pk(['reject', id, '--reason', 'corrupt CSR', ...pki.adminFlags])).exitCode).toBe(0);
    const ok = await pki.admin.pk(['approve', '--all', ...pki.adminFlags]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect((ok.json().result as {id: string}[]).map((r) => r.id)).toEqual([good.id]);
  });

  it('an invalid policy.yaml is refused naming the file and key; nothing is written', async () => {
    const original = git(['show', 'main:ca/policy.yaml'], pki.store);
    pki.tamper((wt) => writeFileSync(join(wt, 'ca', 'policy.yaml'), original.replace('maxLifetimeDays: 90', 'maxLifetimeDays: forever')));
    const before = pki.head();
    const res = await mallory.pk(['request']);
    expect(res.exitCode).toBe(3);
    expect(res.json().error?.message).toMatch(/^ca\/policy\.yaml:\d+:\d+: profiles\.client\.maxLifetimeDays: /);
    expect(pki.head()).toBe(before);
    const locals = mallory.credentials().length;
    expect((await mallory.pk(['request'])).exitCode).toBe(3);
    expect(mallory.credentials()).toHaveLength(locals);

    // A valid policy edited by hand (not signed by the CA) is refused too.
    pki.tamper((wt) => writeFileSync(join(wt, 'ca', 'policy.yaml'), original.replace('maxLifetimeDays: 90', 'maxLifetimeDays: 3650')));
    const unsigned = await mallory.pk(['request']);
    expect(unsigned.exitCode).toBe(3);
    expect(unsigned.json().error?.message).toContain('ca/policy.yaml was changed without the CA\'s signature');

    // The admin restores it through pkictl, which validates and signs it.
    const file = join(pki.dir, 'policy.yaml');
    writeFileSync(file, original.replace('maxLifetimeDays: 90', 'maxLifetimeDays: 30'));
    const set = await pki.admin.pk(['ca', 'policy', '--set', file, ...pki.adminFlags]);
    expect(set.exitCode, set.stderr).toBe(0);
    const cert = await issue(pki, mallory);
    const days = (Date.parse(openssl(['x509', '-in', cert.certPath, '-noout', '-enddate']).out.replace('notAfter=', '').trim()) - Date.now()) / 86_400_000;
    expect(days).toBeLessThanOrEqual(30);
  });

  it('a tampered inventory is refused naming the file; nothing is written', async () => {
    const list = (await mallory.pk(['list'])).json().result as {serial: string; status: string}[];
    expect(list.length).toBeGreaterThan(0);
    const serial = list[0]!.serial;
    const revoked = await pki.admin.pk(['revoke', serial, '--reason', 'affiliationChanged', ...pki.adminFlags]);
    expect(revoked.exitCode).toBe(0);
    const signed = pki.head();
    // Someone with push access flips the status back to valid.
    pki.tamper((wt) => {
      const file = join(wt, 'inventory.json');
      writeFileSync(file, readFileSync(file, 'utf8').replace('"status": "revoked"', '"status": "valid"'));
    });
    const before = pki.head();
    const res = await mallory.pk(['list']);
    expect(res.exitCode).toBe(3);
    expect(res.json().error?.message).toContain('inventory.json was changed without the CA\'s signature');
    expect(res.json().error?.details).toEqual({file: 'inventory.json'});
    const req = await mallory.pk(['request']);
    const approve = await pki.admin.pk(['approve', '--all', ...pki.adminFlags]);
    expect(approve.exitCode).toBe(3);
    expect(approve.json().error?.message).toContain('inventory.json');
    expect(git(['rev-list', '--count', `${before}..main`], pki.store).trim()).toBe(req.exitCode === 0 ? '1' : '0');
    // Restoring the signed version from history repairs the store.
    pki.tamper((wt) => git(['checkout', signed, '--', 'inventory.json'], wt), 'restore inventory');
    expect((await mallory.pk(['list'])).exitCode).toBe(0);
  });

  it('only the policy\'s approvers may approve', async () => {
    const file = join(pki.dir, 'policy-approvers.yaml');
    writeFileSync(file, git(['show', 'main:ca/policy.yaml'], pki.store).replace('approvers: []', 'approvers: [admin@example.com]'));
    expect((await pki.admin.pk(['ca', 'policy', '--set', file, ...pki.adminFlags])).exitCode).toBe(0);
    const id = ((await mallory.pk(['request'])).json().result as {id: string}).id;
    const res = await mallory.pk(['approve', id, ...pki.adminFlags]);
    expect(res.exitCode).toBe(4);
    expect(res.json().error?.message).toContain('mallory@example.com may not approve');
    expect((await pki.admin.pk(['approve', id, ...pki.adminFlags])).exitCode).toBe(0);
  });
});
