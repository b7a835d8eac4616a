// pkictl with a PKI server (pkictl.server): signing in through the real OIDC provider (device
// flow and PKCE on a loopback redirect), a certificate in one command, and every other command
// with the same flags, output and exit codes as with a Git store.
import {readdirSync, readFileSync, statSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {type OidcProvider, type PkiServer, type PostgresServer, startOidcProvider, startPkiServer, startPostgres} from '@bcl/testkit';
import {ok, type ServerUser, serverUser} from './server-support.js';
import {openssl} from './support.js';

let pg: PostgresServer;
let oidc: OidcProvider;
let server: PkiServer;
let ann: ServerUser;
let admin: ServerUser;
const people: ServerUser[] = [];

beforeAll(async () => {
  pg = await startPostgres();
  oidc = await startOidcProvider({
    users: [
      {sub: '100000000000000000001', email: 'ann@example.com', hd: 'example.com', name: 'Ann Example'},
      {sub: '100000000000000000003', email: 'mallory@gmail.com', name: 'Mallory (consumer account)'},
      {sub: '100000000000000000009', email: 'pki-admin@example.com', hd: 'example.com', name: 'PKI Admin'},
    ],
  });
  server = await startPkiServer({postgres: pg, oidc, extraConfig: 'admins: {emails: [pki-admin@example.com]}\n'});
  ann = serverUser(server, oidc, 'ann@example.com');
  admin = serverUser(server, oidc, 'pki-admin@example.com');
  people.push(ann, admin);
}, 180_000);

afterAll(async () => {
  for (const p of people) p.home.remove();
  await server?.stop();
  await oidc?.stop();
  await pg?.stop();
});

const sessionFiles = (u: ServerUser) => {
  const dir = join(u.home.xdg.data, 'bcl', 'pkictl', 'sessions');
  try {
    return readdirSync(dir).map((f) => join(dir, f));
  } catch {
    return [];
  }
};

describe('pkictl login', () => {
  it('--device: the code is entered on the provider\'s page; the session is kept 0600 and never printed', async () => {
    const res = await ann.loginDevice();
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.json().result).toMatchObject({server: server.url, email: 'ann@example.com', flow: 'device', admin: false});
    const files = sessionFiles(ann);
    expect(files).toHaveLength(1);
    expect(statSync(files[0]!).mode & 0o777).toBe(0o600);
    expect(statSync(join(ann.home.xdg.data, 'bcl', 'pkictl', 'sessions')).mode & 0o777).toBe(0o700);
    const token = JSON.parse(readFileSync(files[0]!, 'utf8')).token as string;
    expect(token).toMatch(/^pkis_/);
    expect(res.stdout + res.stderr).not.toContain(token);
    expect(res.stderr).toContain('enter the code');
  });

  it('the browser flow: PKCE, answered on a loopback redirect (RFC 8252)', async () => {
    const res = await admin.loginBrowser();
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.json().result).toMatchObject({email: 'pki-admin@example.com', flow: 'browser', admin: true});
    const url = new URL(/visit:\s+(http\S+)/.exec(res.stderr)![1]!);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(url.searchParams.has('code_verifier')).toBe(false);
  });

  it('a consumer account is refused with the server\'s words (exit 4); nothing is kept', async () => {
    const mallory = serverUser(server, oidc, 'mallory@gmail.com');
    people.push(mallory);
    const res = await mallory.loginDevice();
    expect(res.exitCode).toBe(4);
    expect(res.json().error).toMatchObject({code: 'pkictl.hd_missing', message: expect.stringContaining('not a company account'), hint: expect.stringContaining('company (Google Workspace) account')});
    expect(sessionFiles(mallory)).toEqual([]);
    const req = await mallory.pk(['request']);
    expect(req.exitCode).toBe(4);
    expect(req.json().error).toMatchObject({code: 'pkictl.not_signed_in', hint: expect.stringContaining('pkictl login')});
  });

  it('an unpinned server CA is not trusted non-interactively (exit 2, the fingerprint shown)', async () => {
    const unpinned = serverUser(server, oidc, 'ann@example.com', {pinned: false});
    people.push(unpinned);
    const res = await unpinned.loginDevice();
    expect(res.exitCode).toBe(2);
    expect(res.json().error?.message).toContain(server.caFingerprint);
  });
});

describe('a certificate in one command, and the rest', () => {
  let serial: string;

  it('pkictl request returns the certificate: key, CSR, issuance, files written', async () => {
    const r = await ok(ann.pk(['request', '--profile', 'vpn']));
    expect(r).toMatchObject({status: 'issued', email: 'ann@example.com', profile: 'vpn', store: server.url});
    serial = r.serial;
    expect(statSync(r.keyPath).mode & 0o777).toBe(0o600);
    expect(openssl(['verify', '-CAfile', r.chainPath, r.certPath]).out).toContain('OK');
    expect(openssl(['x509', '-in', r.certPath, '-noout', '-subject']).out).toContain('CN = ann@example.com');
    // The private key never went to the server.
    const key = readFileSync(r.keyPath, 'utf8').split('\n').slice(1, 3).join('');
    expect(await server.sql(`select count(*) from requests where csr_pem like '%${key.slice(0, 40)}%'`)).toBe('0');
    // The credential appears whole (staged, then renamed): every file at its mode, nothing half-made beside it.
    const dir = dirname(r.keyPath);
    const modes = Object.fromEntries(readdirSync(dir).map((f) => [f, statSync(join(dir, f)).mode & 0o777]));
    expect(modes).toEqual({'key.pem': 0o600, 'public.pem': 0o644, 'csr.pem': 0o644, 'cert.pem': 0o644, 'chain.pem': 0o644, 'credential.json': 0o644});
    expect(JSON.parse(readFileSync(join(dir, 'credential.json'), 'utf8'))).toMatchObject({id: r.id, serial: r.serial, profile: 'vpn', email: 'ann@example.com'});
    expect(readdirSync(dirname(dir)).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('a request the server refuses leaves no key behind', async () => {
    const credentials = join(ann.home.xdg.data, 'bcl', 'pkictl', 'credentials');
    const before = readdirSync(credentials).sort();
    const res = await ann.pk(['request', '--profile', 'no-such-profile']);
    expect(res.exitCode).not.toBe(0);
    expect(res.json().ok).toBe(false);
    expect(readdirSync(credentials).sort()).toEqual(before);
  });

  it('list, show, crl with the same output as for a store', async () => {
    const list = await ok<{serial: string; status: string; email: string; profile: string; requestId: string}[]>(ann.pk(['list']));
    expect(list).toEqual([expect.objectContaining({serial, status: 'valid', email: 'ann@example.com', profile: 'vpn'})]);
    const show = await ok(ann.pk(['show', serial.toLowerCase()]));
    expect(show).toMatchObject({serial, status: 'valid', approvedBy: 'automatic', certificate: {sans: [`email:ann@example.com`, expect.stringMatching(/^url:http:\/\/127\.0\.0\.1:\d+#100000000000000000001$/)]}, local: {certPath: expect.any(String)}});
    const crl = await ok(ann.pk(['crl', '--out', join(ann.home.home, 'crl.pem')]));
    expect(crl).toMatchObject({ca: 'issuer', published: false, revoked: 0});
    const unknown = await ann.pk(['show', 'ABCDEF0123']);
    expect(unknown.exitCode).toBe(3);
    expect(unknown.json().error?.code).toBe('pkictl.serial_unknown');
    const caKey = await ann.pk(['crl', '--ca-key', '/nonexistent']);
    expect(caKey.exitCode).toBe(2);
    expect(caKey.json().error?.message).toContain('--ca-key is for a Git store');
  });

  it('vpn-config and export use the certificate the server issued', async () => {
    const ovpn = join(ann.home.home, 'ann.ovpn');
    expect(await ok(ann.pk(['vpn-config', '--remote', 'vpn.example.com', '--out', ovpn]))).toMatchObject({serial});
    expect(statSync(ovpn).mode & 0o777).toBe(0o600);
    const p12 = join(ann.home.home, 'ann.p12');
    await ok(ann.pk(['export', serial, '--format', 'p12', '--out', p12, '--password-env', 'P12_PASSWORD'], {P12_PASSWORD: 'a p12 password'}));
    expect(openssl(['pkcs12', '-in', p12, '-info', '-noout', '-passin', 'pass:a p12 password']).code).toBe(0);
  });

  it('renew: signed with the old key, issued at once, the old one superseded; then revoke; a revoked certificate does not renew (exit 6)', async () => {
    const renewed = await ok(ann.pk(['renew', serial]));
    expect(renewed).toMatchObject({status: 'issued', renews: serial});
    const old = await ok(ann.pk(['show', serial]));
    expect(old).toMatchObject({status: 'revoked', reason: 'superseded', supersededBy: renewed.serial});
    const again = await ann.pk(['renew', serial]);
    expect(again.exitCode).toBe(6);
    const revoked = await ok(ann.pk(['revoke', renewed.serial, '--reason', 'keyCompromise']));
    expect(revoked).toMatchObject({serial: renewed.serial, status: 'revoked', reason: 'keyCompromise', crlNumber: expect.any(Number)});
    const twice = await ann.pk(['revoke', renewed.serial, '--reason', 'keyCompromise']);
    expect(twice.exitCode).toBe(6);
    expect(twice.json().error?.code).toBe('pkictl.already_revoked');
    const crl = await ok(ann.pk(['crl', '--out', join(ann.home.home, 'crl2.pem')]));
    expect(crl.revoked).toBe(2);
    const check = openssl(['verify', '-crl_check', '-CAfile', server.caCert, '-CRLfile', join(ann.home.home, 'crl2.pem'), old.local.certPath], {allowFailure: true});
    expect(check.out).toContain('certificate revoked');
  });

  it('a server certificate waits: requests, approve and reject for admins; fetch then writes it', async () => {
    const pending = await ok(ann.pk(['request', '--profile', 'server', '--dns', 'build.example.com']));
    expect(pending).toMatchObject({status: 'pending', serial: null});
    const early = await ann.pk(['fetch', pending.id]);
    expect(early.exitCode).toBe(6);
    expect(early.json().error?.code).toBe('pkictl.not_approved');
    const notAdmin = await ann.pk(['approve', pending.id]);
    expect(notAdmin.exitCode).toBe(4);
    expect(notAdmin.json().error?.code).toBe('pkictl.not_admin');
    const waiting = await ok<{id: string}[]>(admin.pk(['requests']));
    expect(waiting.map((r) => r.id)).toContain(pending.id);
    const approved = await ok(admin.pk(['approve', pending.id]));
    expect(approved).toEqual([expect.objectContaining({id: pending.id, email: 'ann@example.com', profile: 'server'})]);
    const fetched = await ok(ann.pk(['fetch', pending.id]));
    expect(openssl(['x509', '-in', fetched.certPath, '-noout', '-subject']).out).toContain('CN = build.example.com');
    const other = await ok(ann.pk(['request', '--profile', 'server', '--dns', 'other.example.com']));
    await ok(admin.pk(['reject', other.id, '--reason', 'use the shared host']));
    const rejected = await ann.pk(['fetch', other.id]);
    expect(rejected.exitCode).toBe(4);
    expect(rejected.json().error?.message).toContain('use the shared host');
  });

  it('logout ends the session on the server and deletes the token', async () => {
    const before = sessionFiles(ann);
    const token = JSON.parse(readFileSync(before[0]!, 'utf8')).token as string;
    expect(await ok(ann.pk(['logout']))).toMatchObject({signedOut: true});
    expect(sessionFiles(ann)).toEqual([]);
    const res = await fetch(`${server.url}/v1/session`, {headers: {authorization: `Bearer ${token}`}});
    expect(res.status).toBe(401);
  });
});
