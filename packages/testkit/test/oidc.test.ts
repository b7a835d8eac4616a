// The OIDC provider harness as the PKI server and pkictl will use it: discovery, the code flow
// with PKCE, the device flow, Google-like claims, and deliberately wrong tokens.
import {createHash, randomBytes} from 'node:crypto';
import {createRemoteJWKSet, decodeJwt, jwtVerify} from 'jose';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {type OidcProvider, startOidcProvider} from '../src/index.js';

let idp: OidcProvider;
let jwks: ReturnType<typeof createRemoteJWKSet>;

beforeAll(async () => {
  idp = await startOidcProvider({
    clients: [
      {clientId: 'pkictl', redirectUris: ['http://127.0.0.1/callback']},
      {clientId: 'toolbox', clientSecret: 'toolbox-secret', applicationType: 'web', redirectUris: ['http://127.0.0.1:8080/oidc/callback']},
    ],
  });
  jwks = createRemoteJWKSet(new URL(idp.jwksUrl));
});
afterAll(async () => idp?.stop());

const verify = (token: string, audience = 'pkictl') => jwtVerify(token, jwks, {issuer: idp.issuer, audience, algorithms: ['RS256']});

/** What pkictl login does: a PKCE authorization request to a loopback redirect on some port. */
function authorizationRequest(options: {clientId?: string; redirectUri?: string; pkce?: boolean; loginHint?: string} = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const url = new URL(`${idp.issuer}/auth`);
  url.searchParams.set('client_id', options.clientId ?? 'pkictl');
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', 'openid email profile');
  url.searchParams.set('redirect_uri', options.redirectUri ?? 'http://127.0.0.1:53682/callback');
  url.searchParams.set('state', state);
  if (options.pkce !== false) {
    url.searchParams.set('code_challenge', createHash('sha256').update(verifier).digest('base64url'));
    url.searchParams.set('code_challenge_method', 'S256');
  }
  if (options.loginHint) url.searchParams.set('login_hint', options.loginHint);
  return {url: url.href, verifier, state};
}

async function token(form: Record<string, string>, auth?: string): Promise<{status: number; json: any}> {
  const res = await fetch(`${idp.issuer}/token`, {
    method: 'POST',
    headers: {'content-type': 'application/x-www-form-urlencoded', ...(auth ? {authorization: `Basic ${Buffer.from(auth).toString('base64')}`} : {})},
    body: new URLSearchParams(form),
  });
  return {status: res.status, json: await res.json()};
}

describe('discovery', () => {
  it('publishes the code flow with S256 PKCE and the device authorization endpoint', async () => {
    const doc = (await (await fetch(idp.discoveryUrl)).json()) as Record<string, unknown>;
    expect(doc).toMatchObject({
      issuer: idp.issuer,
      authorization_endpoint: `${idp.issuer}/auth`,
      token_endpoint: `${idp.issuer}/token`,
      jwks_uri: idp.jwksUrl,
      device_authorization_endpoint: `${idp.issuer}/device/auth`,
      code_challenge_methods_supported: ['S256'],
    });
    expect(doc.claims_supported).toEqual(expect.arrayContaining(['sub', 'hd', 'azp', 'email', 'email_verified']));
  });
});

describe('the authorization code flow with PKCE', () => {
  it('logs a chosen user in through the login form and issues a Google-like ID token', async () => {
    const request = authorizationRequest();
    const back = await idp.login(request.url, 'ann@example.com');
    expect(back.origin + back.pathname).toBe('http://127.0.0.1:53682/callback');
    expect(back.searchParams.get('state')).toBe(request.state);
    const code = back.searchParams.get('code')!;
    const res = await token({grant_type: 'authorization_code', code, code_verifier: request.verifier, client_id: 'pkictl', redirect_uri: 'http://127.0.0.1:53682/callback'});
    expect(res.status).toBe(200);
    const {payload} = await verify(res.json.id_token);
    expect(payload).toMatchObject({iss: idp.issuer, aud: 'pkictl', azp: 'pkictl', sub: '100000000000000000001', hd: 'example.com', email: 'ann@example.com', email_verified: true, name: 'Ann Example'});
    // The code is single-use.
    const again = await token({grant_type: 'authorization_code', code, code_verifier: request.verifier, client_id: 'pkictl', redirect_uri: 'http://127.0.0.1:53682/callback'});
    expect(again.json.error).toBe('invalid_grant');
  });

  it('refuses a public client without PKCE, and a wrong verifier', async () => {
    const noPkce = await idp.login(authorizationRequest({pkce: false}).url, 'ann@example.com');
    expect(noPkce.searchParams.get('error')).toBe('invalid_request');
    expect(noPkce.searchParams.get('error_description')).toMatch(/requires PKCE/);
    const request = authorizationRequest();
    const code = (await idp.login(request.url, 'bob@example.com')).searchParams.get('code')!;
    const res = await token({grant_type: 'authorization_code', code, code_verifier: 'x'.repeat(43), client_id: 'pkictl', redirect_uri: 'http://127.0.0.1:53682/callback'});
    expect(res.json.error).toBe('invalid_grant');
  });

  it('has users outside the domain, with an unverified email, and without email', async () => {
    const claimsOf = async (user: string) => {
      const request = authorizationRequest({loginHint: user});
      const code = (await idp.login(request.url, user)).searchParams.get('code')!;
      const res = await token({grant_type: 'authorization_code', code, code_verifier: request.verifier, client_id: 'pkictl', redirect_uri: 'http://127.0.0.1:53682/callback'});
      return (await verify(res.json.id_token)).payload;
    };
    const consumer = await claimsOf('mallory@gmail.com');
    expect(consumer.hd).toBeUndefined();
    expect(consumer.email).toBe('mallory@gmail.com');
    expect((await claimsOf('carl@example.com')).email_verified).toBe(false);
    const noEmail = await claimsOf('100000000000000000005');
    expect(noEmail.email).toBeUndefined();
    expect(noEmail.hd).toBe('example.com');
  });

  it('serves a confidential web client (the Toolbox) with its secret', async () => {
    const request = authorizationRequest({clientId: 'toolbox', redirectUri: 'http://127.0.0.1:8080/oidc/callback'});
    const code = (await idp.login(request.url, 'ann@example.com')).searchParams.get('code')!;
    const res = await token({grant_type: 'authorization_code', code, code_verifier: request.verifier, redirect_uri: 'http://127.0.0.1:8080/oidc/callback'}, 'toolbox:toolbox-secret');
    expect(res.status).toBe(200);
    expect((await verify(res.json.id_token, 'toolbox')).payload).toMatchObject({azp: 'toolbox', email: 'ann@example.com'});
  });
});

describe('the device authorization grant', () => {
  const start = async () => {
    const res = await fetch(`${idp.issuer}/device/auth`, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'}, body: new URLSearchParams({client_id: 'pkictl', scope: 'openid email profile'})});
    return (await res.json()) as {device_code: string; user_code: string; verification_uri: string; interval: number};
  };
  const poll = (deviceCode: string) => token({grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode, client_id: 'pkictl'});

  it('is pending until the person approves, then issues the ID token of who signed in', async () => {
    const device = await start();
    expect(device.verification_uri).toBe(`${idp.issuer}/device`);
    expect((await poll(device.device_code)).json.error).toBe('authorization_pending');
    await idp.approveDevice(device.user_code, 'bob@example.com');
    const res = await poll(device.device_code);
    expect(res.status).toBe(200);
    expect((await verify(res.json.id_token)).payload).toMatchObject({email: 'bob@example.com', hd: 'example.com', azp: 'pkictl'});
  });

  it('reports access_denied when the person cancels', async () => {
    const device = await start();
    await idp.denyDevice(device.user_code);
    expect((await poll(device.device_code)).json.error).toBe('access_denied');
  });
});

describe('tokens minted for negative tests', () => {
  it('mints a valid token, and ones that are expired, for another audience, unsigned, signed by an unknown key, or with a wrong azp', async () => {
    const good = await idp.mintIdToken({user: 'ann@example.com', audience: 'pkictl'});
    expect((await verify(good)).payload).toMatchObject({email: 'ann@example.com', hd: 'example.com', azp: 'pkictl', email_verified: true});
    await expect(verify(await idp.mintIdToken({expiresIn: -60}))).rejects.toThrow(/"exp" claim timestamp check failed/);
    await expect(verify(await idp.mintIdToken({audience: 'someone-else'}))).rejects.toThrow(/unexpected "aud" claim value/);
    const none = await idp.mintIdToken({signing: 'none'});
    expect(none.endsWith('.')).toBe(true);
    await expect(verify(none)).rejects.toThrow();
    await expect(verify(await idp.mintIdToken({signing: 'foreign'}))).rejects.toThrow(/signature verification failed/);
    expect(decodeJwt(await idp.mintIdToken({azp: 'other-client'})).azp).toBe('other-client');
    expect(decodeJwt(await idp.mintIdToken({iatOffset: -7200})).iat).toBeLessThan(Date.now() / 1000 - 7000);
    expect(decodeJwt(await idp.mintIdToken({claims: {hd: 'evil.example'}})).hd).toBe('evil.example');
  });
});
