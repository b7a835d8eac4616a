// Browser sign-in handled by the server (the PKI Toolbox's): the authorization-code flow with
// PKCE against the real OIDC provider, an HttpOnly SameSite cookie, and CSRF protection on
// every change; people outside the domain come back to the page with a plain reason.
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {freePort, type OidcProvider, type PkiServer, type PostgresServer, startOidcProvider, startPkiServer, startPostgres} from '@bcl/testkit';
import {api, auditCount, newCsr} from './support.js';

let pg: PostgresServer;
let oidc: OidcProvider;
let server: PkiServer;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  pg = await startPostgres();
  oidc = await startOidcProvider({
    users: [
      {sub: '1', email: 'ann@example.com', hd: 'example.com', name: 'Ann'},
      {sub: '3', email: 'mallory@gmail.com', name: 'Mallory'},
    ],
    clients: [{clientId: 'bcl-cli'}, {clientId: 'pki-toolbox', clientSecret: 'toolbox secret', applicationType: 'web', redirectUris: [`${base}/v1/auth/callback`]}],
  });
  server = await startPkiServer({postgres: pg, oidc, ports: [port], web: {clientId: 'pki-toolbox', clientSecret: 'toolbox secret'}});
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await oidc?.stop();
  await pg?.stop();
});

/** Signs in through the provider as a browser would and returns the server's final redirect and cookie. */
async function browserSignIn(user: string): Promise<{location: string; cookie: string | undefined; setCookie: string | null; callback: URL}> {
  const start = await fetch(`${base}/v1/auth/login?returnTo=/toolbox/`, {redirect: 'manual'});
  expect(start.status).toBe(302);
  const authorize = new URL(start.headers.get('location')!);
  expect(authorize.origin).toBe(oidc.issuer);
  expect(authorize.searchParams.get('client_id')).toBe('pki-toolbox');
  expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
  expect(authorize.searchParams.get('redirect_uri')).toBe(`${base}/v1/auth/callback`);
  const callback = await oidc.login(authorize.href, user);
  const done = await fetch(callback, {redirect: 'manual'});
  expect(done.status).toBe(302);
  const setCookie = done.headers.get('set-cookie');
  return {location: done.headers.get('location')!, cookie: setCookie?.split(';')[0], setCookie, callback};
}

describe('browser sign-in', () => {
  let cookie: string;
  let csrf: string;

  it('code flow with PKCE ends in an HttpOnly, SameSite cookie and back on the page', async () => {
    const r = await browserSignIn('ann@example.com');
    expect(r.location).toBe('/toolbox/');
    expect(r.setCookie).toMatch(/^pki_session=pkiw_[\w-]{43}; .*HttpOnly/);
    expect(r.setCookie).toMatch(/SameSite=Lax/);
    expect(r.setCookie).toMatch(/Path=\//);
    cookie = r.cookie!;
    const me = await api(base, '/v1/session', {headers: {cookie}});
    expect(me.json).toMatchObject({kind: 'web', user: {email: 'ann@example.com'}, csrfToken: expect.any(String)});
    csrf = me.json.csrfToken;
    // The callback works once.
    const again = await fetch(r.callback, {redirect: 'manual'});
    expect(again.headers.get('location')).toMatch(/^\/\?loginError=login_expired/);
  });

  it('a change needs the session\'s CSRF token and our own origin; with them the browser gets its certificate', async () => {
    const {csr} = await newCsr('ann@example.com');
    const none = await api(base, '/v1/requests', {headers: {cookie}, json: {csr, profile: 'vpn'}});
    expect(none.status).toBe(403);
    expect(none.json.error.code).toBe('csrf_token_invalid');
    const wrong = await api(base, '/v1/requests', {headers: {cookie, 'x-csrf-token': 'x'.repeat(32)}, json: {csr, profile: 'vpn'}});
    expect(wrong.json.error.code).toBe('csrf_token_invalid');
    const elsewhere = await api(base, '/v1/requests', {headers: {cookie, 'x-csrf-token': csrf, origin: 'https://evil.example'}, json: {csr, profile: 'vpn'}});
    expect(elsewhere.json.error.code).toBe('origin_refused');
    const ok = await api(base, '/v1/requests', {headers: {cookie, 'x-csrf-token': csrf, origin: base}, json: {csr, profile: 'vpn', deviceLabel: 'work laptop'}});
    expect(ok.status, ok.text).toBe(201);
    expect(ok.json.certificate).toMatchObject({email: 'ann@example.com', profile: 'vpn', deviceLabel: 'work laptop'});
    const list = await api(base, '/v1/certificates', {headers: {cookie}});
    expect(list.json.certificates).toHaveLength(1);
  });

  it('someone outside the domain comes back to the page with the reason in plain words, and no cookie', async () => {
    const before = await auditCount(server, 'login.refused', 'hd_missing');
    const r = await browserSignIn('mallory@gmail.com');
    expect(r.setCookie).toBeNull();
    const back = new URL(r.location, base);
    expect(back.pathname).toBe('/toolbox/');
    expect(back.searchParams.get('loginError')).toBe('hd_missing');
    expect(back.searchParams.get('loginMessage')).toContain('Sign in with your company (Google Workspace) account');
    expect(await auditCount(server, 'login.refused', 'hd_missing')).toBe(before + 1);
  });

  it('returnTo never leaves this server', async () => {
    const start = await fetch(`${base}/v1/auth/login?returnTo=//evil.example/x`, {redirect: 'manual'});
    const callback = await oidc.login(start.headers.get('location')!, 'ann@example.com');
    const done = await fetch(callback, {redirect: 'manual'});
    expect(done.headers.get('location')).toBe('/');
  });

  it('signing out ends the cookie session', async () => {
    const out = await api(base, '/v1/session', {method: 'DELETE', headers: {cookie, 'x-csrf-token': csrf}});
    expect(out.status).toBe(204);
    expect((await api(base, '/v1/session', {headers: {cookie}})).status).toBe(401);
  });
});
