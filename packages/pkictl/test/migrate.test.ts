// `pkictl migrate --from-store <store> --to <server>`: a Git store with valid, revoked and
// superseded certificates moves to a PKI server running with the store's CA; every serial keeps
// its status, the server's CRL lists the same revocations, and the migrated people carry on.
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, expect, it} from 'vitest';
import {type OidcProvider, type PkiServer, type PostgresServer, startOidcProvider, startPkiServer, startPostgres} from '@bcl/testkit';
import {ok, type ServerUser, serverUser} from './server-support.js';
import {git, issue, openssl, PASSPHRASE, type Pki, setupPki} from './support.js';

let pki: Pki;
let pg: PostgresServer;
let oidc: OidcProvider;
let server: PkiServer;
let admin: ServerUser;
let bobHome: ServerUser['home'];
const serials: Record<string, string> = {};

beforeAll(async () => {
  pki = await setupPki();
  const ann = pki.person('ann@example.com');
  const bob = pki.person('bob@example.com');
  bobHome = bob.home;
  serials.annValid = (await issue(pki, ann)).serial;
  serials.annRevoked = (await issue(pki, ann, ['--profile', 'vpn'])).serial;
  await ok(pki.admin.pk(['revoke', serials.annRevoked, '--reason', 'keyCompromise', ...pki.adminFlags]));
  serials.bobOld = (await issue(pki, bob)).serial;
  // A renewal: bob's old certificate becomes revoked (superseded) once the new one is issued.
  const renewal = await ok(bob.pk(['renew', serials.bobOld]));
  await ok(pki.admin.pk(['approve', renewal.id, ...pki.adminFlags]));
  serials.bobNew = (await ok(bob.pk(['fetch', renewal.id]))).serial;
  // A request still waiting: it stays in the store.
  await ok(ann.pk(['request', '--profile', 'vpn']));

  pg = await startPostgres();
  oidc = await startOidcProvider({
    users: [
      {sub: '100000000000000000002', email: 'bob@example.com', hd: 'example.com', name: 'Bob'},
      {sub: '100000000000000000009', email: 'admin@example.com', hd: 'example.com', name: 'PKI Admin'},
    ],
  });
  const chain = join(pki.dir, 'chain.pem');
  writeFileSync(chain, git(['show', 'main:ca/chain.pem'], pki.store));
  const policy = git(['show', 'main:ca/policy.yaml'], pki.store);
  server = await startPkiServer({postgres: pg, oidc, ca: {certificate: chain, key: pki.caKey, passphrase: PASSPHRASE}, policy, extraConfig: 'admins: {emails: [admin@example.com]}\n'});
  admin = serverUser(server, oidc, 'admin@example.com');
  expect((await admin.loginDevice()).exitCode).toBe(0);
}, 300_000);

afterAll(async () => {
  admin?.home.remove();
  await server?.stop();
  await oidc?.stop();
  await pg?.stop();
  pki?.remove();
});

it('keeps every serial and status (valid, revoked, superseded); the CRL lists the same revocations; running it again changes nothing', async () => {
  const storeList = await ok<{serial: string; status: string; email: string; profile: string}[]>(pki.admin.pk(['list']));
  expect(storeList).toHaveLength(4);
  const res = await ok(admin.pk(['migrate', '--from-store', pki.store, '--to', server.url]));
  expect(res).toMatchObject({certificates: 4, imported: 4, unchanged: 0, valid: 2, revoked: 2, superseded: 1, crlMatches: true});
  expect(res.pendingRequestsLeft).toHaveLength(1);

  const serverList = await ok<{serial: string; status: string; email: string; profile: string}[]>(admin.pk(['list']));
  const byserial = (l: typeof storeList) => Object.fromEntries(l.map((c) => [c.serial, {status: c.status, email: c.email, profile: c.profile}]));
  expect(byserial(serverList)).toEqual(byserial(storeList));
  const bobOld = await ok(admin.pk(['show', serials.bobOld!]));
  expect(bobOld).toMatchObject({status: 'revoked', reason: 'superseded', supersededBy: serials.bobNew});
  expect(await ok(admin.pk(['show', serials.annRevoked!]))).toMatchObject({status: 'revoked', reason: 'keyCompromise'});

  // The server's CRL: signed by the same CA, numbered above the store's last, the same serials.
  const storeCrl = openssl(['crl', '-noout', '-text'], {input: git(['show', 'main:crl/crl.pem'], pki.store)}).out;
  const crlFile = join(pki.dir, 'server-crl.pem');
  writeFileSync(crlFile, await (await fetch(`${server.url}/crl.pem`)).text());
  const serverCrl = openssl(['crl', '-in', crlFile, '-noout', '-text']).out;
  const listed = (text: string) => [...text.matchAll(/Serial Number: ([0-9A-F]+)/g)].map((m) => m[1]).sort();
  expect(listed(serverCrl)).toEqual(listed(storeCrl));
  expect(listed(serverCrl)).toEqual([serials.annRevoked, serials.bobOld].sort());
  const number = (text: string) => Number(/CRL Number: \n\s*(\d+)/.exec(text)![1]);
  expect(number(serverCrl)).toBeGreaterThan(number(storeCrl));

  const again = await ok(admin.pk(['migrate', '--from-store', pki.store, '--to', server.url]));
  expect(again).toMatchObject({imported: 0, unchanged: 4, crlMatches: true});
});

it('a migrated person signs in and renews their store certificate on the server, with the key that never left their machine', async () => {
  const bob = serverUser(server, oidc, 'bob@example.com', {home: bobHome});
  expect((await bob.loginDevice()).exitCode).toBe(0);
  const list = await ok<{serial: string; status: string}[]>(bob.pk(['list']));
  expect(Object.fromEntries(list.map((c) => [c.serial, c.status]))).toEqual({[serials.bobOld!]: 'revoked', [serials.bobNew!]: 'valid'});
  const renewed = await ok(bob.pk(['renew', serials.bobNew!]));
  expect(renewed).toMatchObject({status: 'issued', renews: serials.bobNew});
  expect(await ok(bob.pk(['show', serials.bobNew!]))).toMatchObject({status: 'revoked', reason: 'superseded', supersededBy: renewed.serial});
  expect(openssl(['verify', '-CAfile', join(pki.dir, 'chain.pem'), renewed.certPath]).out).toContain('OK');
});

it('refuses a server whose CA is not the store\'s (exit 4), before importing anything', async () => {
  const other = await startPkiServer({postgres: pg, oidc, extraConfig: 'admins: {emails: [admin@example.com]}\n'});
  const otherAdmin = serverUser(other, oidc, 'admin@example.com', {extraConfig: ''});
  try {
    // The other server has its own CA: pin it for the sign-in, then try to migrate the store into it.
    expect((await otherAdmin.loginDevice()).exitCode).toBe(0);
    const res = await otherAdmin.pk(['migrate', '--from-store', pki.store, '--to', other.url, '--ca-fingerprint', pki.caFingerprint]);
    expect(res.exitCode).toBe(4);
    expect(res.json().error?.code).toBe('pkictl.ca_changed');
    expect(await other.sql("select count(*) from certificates where email is not null")).toBe('0');
  } finally {
    otherAdmin.home.remove();
    await other.stop();
  }
});
