// Sign-in against the real OIDC provider: every ID token that must be refused is refused, with
// no session, no certificate and exactly one audit entry each; good tokens work in both of
// Google's issuer spellings and only once.
import {readFileSync} from 'node:fs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {type MintOptions, type OidcProvider, type PkiServer, type PostgresServer, startOidcProvider, startPkiServer, startPostgres} from '@bcl/testkit';
import {api, auditCount, issuedCount, newCsr} from './support.js';

let pg: PostgresServer;
let oidc: OidcProvider;
let server: PkiServer;

beforeAll(async () => {
  pg = await startPostgres();
  oidc = await startOidcProvider({
    users: [
      {sub: '100000000000000000001', email: 'ann@example.com', hd: 'example.com', name: 'Ann Example'},
      {sub: '100000000000000000003', email: 'mallory@gmail.com', name: 'Mallory (consumer account)'},
      {sub: '100000000000000000004', email: 'carl@example.com', hd: 'example.com', emailVerified: false, name: 'Carl (unverified)'},
      {sub: '100000000000000000005', hd: 'example.com', name: 'Dee (no email)'},
      {sub: '100000000000000000006', email: 'eve@other.example', hd: 'other.example', name: 'Eve (another Workspace)'},
    ],
    clients: [{clientId: 'bcl-cli'}, {clientId: 'someone-else'}],
  });
  server = await startPkiServer({postgres: pg, oidc, oidcConfig: ['acceptSchemelessIssuer: true']});
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await oidc?.stop();
  await pg?.stop();
});

const sessions = async () => Number(await server.sql('select count(*) from sessions'));

describe('ID tokens that are refused', () => {
  const cases: {name: string; mint: MintOptions; status: number; code: string; message: RegExp}[] = [
    {name: 'hd of another domain', mint: {user: 'eve@other.example'}, status: 403, code: 'hd_not_allowed', message: /belongs to other\.example, which is not the company's domain/},
    {name: 'no hd (a consumer account)', mint: {user: 'mallory@gmail.com'}, status: 403, code: 'hd_missing', message: /not a company account/},
    {name: 'email_verified: false', mint: {user: 'carl@example.com'}, status: 403, code: 'email_unverified', message: /carl@example\.com is not verified/},
    {name: 'email_verified as the string "true"', mint: {user: 'ann@example.com', claims: {email_verified: 'true'}}, status: 403, code: 'email_unverified', message: /not verified/},
    {name: 'no email', mint: {user: '100000000000000000005'}, status: 403, code: 'email_missing', message: /did not say which email/},
    {name: 'an email outside the hd', mint: {user: 'ann@example.com', claims: {email: 'ann@other.example'}}, status: 403, code: 'email_domain', message: /not at your account's domain example\.com/},
    {name: 'wrong aud', mint: {user: 'ann@example.com', audience: 'not-our-client', azp: null}, status: 401, code: 'token_audience', message: /not for this PKI's clients/},
    {name: 'azp mismatch', mint: {user: 'ann@example.com', audience: 'bcl-cli', azp: 'not-our-client'}, status: 401, code: 'token_azp', message: /requested by "not-our-client"/},
    {name: 'several audiences without azp', mint: {user: 'ann@example.com', audience: ['bcl-cli', 'x'], azp: null}, status: 401, code: 'token_azp', message: /no azp with several audiences/},
    {name: 'expired', mint: {user: 'ann@example.com', expiresIn: -300}, status: 401, code: 'token_expired', message: /expired at/},
    {name: 'too old (iat an hour ago, not expired)', mint: {user: 'ann@example.com', iatOffset: -3600, expiresIn: 600}, status: 401, code: 'token_too_old', message: /more than 600 s ago/},
    {name: 'issued in the future', mint: {user: 'ann@example.com', iatOffset: 3600, expiresIn: 7200}, status: 401, code: 'token_not_yet_valid', message: /in the future/},
    {name: 'a key not in the JWKS', mint: {user: 'ann@example.com', signing: 'foreign'}, status: 401, code: 'token_signature_invalid', message: /does not verify/},
    {name: 'alg: none', mint: {user: 'ann@example.com', signing: 'none'}, status: 401, code: 'token_alg_refused', message: /unsigned tokens never are/},
    {name: 'another issuer', mint: {user: 'ann@example.com', issuer: 'https://accounts.example.net'}, status: 401, code: 'token_issuer', message: /issued by "https:\/\/accounts\.example\.net"/},
  ];

  for (const c of cases) {
    it(`${c.name}: ${c.status} ${c.code}, no session, no certificate, one audit entry`, async () => {
      const before = {refused: await auditCount(server, 'login.refused'), sessions: await sessions()};
      const res = await api(server.url, '/v1/sessions', {json: {idToken: await oidc.mintIdToken(c.mint)}});
      expect(res.status, res.text).toBe(c.status);
      expect(res.json.error.code).toBe(c.code);
      expect(res.json.error.message).toMatch(c.message);
      expect(res.text).not.toMatch(/eyJ/);
      expect(await auditCount(server, 'login.refused')).toBe(before.refused + 1);
      expect(await auditCount(server, 'login.refused', c.code)).toBeGreaterThanOrEqual(1);
      expect(await sessions()).toBe(before.sessions);
      expect(await issuedCount(server)).toBe(0);
    });
  }

  it('a key id the JWKS does not have is "not in the JWKS"', async () => {
    const token = await oidc.mintIdToken({user: 'ann@example.com', signing: 'foreign'});
    const [header, payload, signature] = token.split('.');
    const otherKid = Buffer.from(JSON.stringify({...JSON.parse(Buffer.from(header!, 'base64url').toString()), kid: 'not-published'})).toString('base64url');
    const res = await api(server.url, '/v1/sessions', {json: {idToken: `${otherKid}.${payload}.${signature}`}});
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('token_key_unknown');
  });

  it('the same token twice: the second is refused (token_replayed), audited once', async () => {
    const idToken = await oidc.mintIdToken({user: 'ann@example.com'});
    expect((await api(server.url, '/v1/sessions', {json: {idToken}})).status).toBe(201);
    const before = await auditCount(server, 'login.refused', 'token_replayed');
    const again = await api(server.url, '/v1/sessions', {json: {idToken}});
    expect(again.status).toBe(401);
    expect(again.json.error).toMatchObject({code: 'token_replayed', message: expect.stringContaining('accepted once')});
    expect(await auditCount(server, 'login.refused', 'token_replayed')).toBe(before + 1);
  });

  it('without a session nothing is issued (401 not_signed_in), with a bad token neither', async () => {
    const {csr} = await newCsr('ann@example.com');
    const none = await api(server.url, '/v1/requests', {json: {csr}});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    const forged = await api(server.url, '/v1/requests', {json: {csr}, token: `pkis_${'A'.repeat(43)}`});
    expect(forged.json.error.code).toBe('session_expired');
    const idAsBearer = await api(server.url, '/v1/requests', {json: {csr}, token: await oidc.mintIdToken({user: 'ann@example.com'})});
    expect(idAsBearer.status).toBe(401);
    expect(await issuedCount(server)).toBe(0);
  });
});

describe('ID tokens that are accepted', () => {
  it('both issuer spellings (with and without scheme) are the same person, keyed by (iss, sub)', async () => {
    const withScheme = await api(server.url, '/v1/sessions', {json: {idToken: await oidc.mintIdToken({user: 'ann@example.com'})}});
    const schemeless = await api(server.url, '/v1/sessions', {json: {idToken: await oidc.mintIdToken({user: 'ann@example.com', issuer: oidc.issuer.replace(/^http:\/\//, '')})}});
    expect(withScheme.status).toBe(201);
    expect(schemeless.status, schemeless.text).toBe(201);
    expect(schemeless.json.user).toEqual(withScheme.json.user);
    expect(withScheme.json.user).toMatchObject({email: 'ann@example.com', iss: oidc.issuer, sub: '100000000000000000001', admin: false});
    expect(await server.sql("select count(*) from users where email = 'ann@example.com'")).toBe('1');
    // The token is a secret: only its digest is stored.
    expect(await server.sql(`select count(*) from sessions where token_sha256 = '${withScheme.json.token}'`)).toBe('0');
    const me = await api(server.url, '/v1/session', {token: withScheme.json.token});
    expect(me.json).toMatchObject({kind: 'cli', user: {email: 'ann@example.com'}, csrfToken: null});
    expect((await api(server.url, '/v1/session', {token: withScheme.json.token, method: 'DELETE'})).status).toBe(204);
    expect((await api(server.url, '/v1/session', {token: withScheme.json.token})).json.error.code).toBe('session_expired');
  });

  it('every sign-in is audited, and the audit log is append-only for the server and hash-chained', async () => {
    const logins = await auditCount(server, 'login');
    expect(logins).toBeGreaterThanOrEqual(3);
    const lines = server.audit().filter((e) => e.event === 'login' || e.event === 'login.refused');
    expect(lines.length).toBe(logins + (await auditCount(server, 'login.refused')));
    const appUrl = new URL(readAppUrl());
    const asApp = {user: decodeURIComponent(appUrl.username), password: decodeURIComponent(appUrl.password), database: server.database};
    await expect(pg.psql('update audit_log set event = \'x\'', asApp)).rejects.toThrow(/permission denied/);
    await expect(pg.psql('delete from audit_log', asApp)).rejects.toThrow(/permission denied/);
    await expect(pg.psql('delete from certificates', asApp)).rejects.toThrow(/permission denied/);
  });
});

function readAppUrl(): string {
  // The harness keeps the application role's connection string beside the configuration (0600).
  return readFileSync(`${server.dir}/app-url`, 'utf8').trim();
}
