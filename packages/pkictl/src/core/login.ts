/**
 * `pkictl login`: OpenID Connect with the company's identity provider, then a session of the
 * PKI server. By default the authorization-code flow with PKCE on a loopback redirect (RFC 8252:
 * http://127.0.0.1:<free port>/callback), opening the browser; `--device` uses the device
 * authorization grant for a terminal without one. The ID token goes straight to the server,
 * which verifies it and answers with a session token kept 0600; neither is printed.
 */
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {denied, interrupted, unavailable} from '@bcl/core';
import type {SessionCreated} from '@bcl/pki-server/api';
import type {PkictlSettings} from '../config.js';
import {PkiServerClient} from '../server/client.js';
import {removeSession, writeSession} from '../server/session-file.js';
import {loadServerCa} from './server-ca.js';
import type {PkiIo} from './io.js';

export interface LoginParams {
  device: boolean;
  /** Open the browser (false: only print the URL). */
  browser: boolean;
  timeoutSeconds: number;
}

export interface LoginResult {
  server: string;
  email: string;
  name: string | null;
  admin: boolean;
  expiresAt: string;
  flow: 'browser' | 'device';
  /** Where the session token is kept (0600); the token itself is never shown. */
  sessionFile: string;
}

const PAGE = (title: string, text: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body style="font-family: sans-serif; margin: 3em"><h1>${title}</h1><p>${text}</p></body></html>`;

export async function login(io: PkiIo, settings: PkictlSettings, params: LoginParams): Promise<LoginResult> {
  const client = new PkiServerClient(io, settings);
  const info = await client.info();
  // The CA behind this server must be the one the user trusts before any certificate comes from it.
  await loadServerCa(io, settings, client);
  const oidc = await import('openid-client');
  const issuer = new URL(info.oidc.issuer);
  const loopbackIssuer = issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
  let config;
  try {
    config = await oidc.discovery(issuer, info.oidc.clientId, info.oidc.clientSecret ?? undefined, info.oidc.clientSecret ? oidc.ClientSecretPost(info.oidc.clientSecret) : oidc.None(), loopbackIssuer ? {execute: [oidc.allowInsecureRequests]} : {});
  } catch (error) {
    throw unavailable('pkictl.idp_unavailable', `the identity provider ${issuer.href} is unavailable: ${(error as Error).message}`, {cause: error});
  }
  const scope = info.oidc.scopes.join(' ');
  const deadline = AbortSignal.any([io.signal, AbortSignal.timeout(params.timeoutSeconds * 1000)]);
  const idToken = params.device ? await deviceFlow(io, oidc, config, scope, deadline) : await browserFlow(io, oidc, config, scope, params, deadline);
  const created = await client.call<SessionCreated>('POST', '/v1/sessions', {body: {idToken}, expect: [201]});
  const s = created.body;
  io.redactor.add(s.token);
  const file = writeSession(io, {version: 1, server: client.url, email: s.user.email, name: s.user.name, admin: s.user.admin, expiresAt: s.expiresAt, token: s.token});
  return {server: client.url, email: s.user.email, name: s.user.name, admin: s.user.admin, expiresAt: s.expiresAt, flow: params.device ? 'device' : 'browser', sessionFile: file};
}

type Oidc = typeof import('openid-client');
type OidcConfig = Awaited<ReturnType<Oidc['discovery']>>;

async function deviceFlow(io: PkiIo, oidc: Oidc, config: OidcConfig, scope: string, signal: AbortSignal): Promise<string> {
  const started = await oidc.initiateDeviceAuthorization(config, {scope});
  // The person must see this even in --json mode: it is what they type elsewhere, not progress.
  io.ui.write(`To sign in, open ${started.verification_uri} on any device and enter the code:\n\n    ${started.user_code}\n\n${started.verification_uri_complete ? `(or open ${started.verification_uri_complete})\n` : ''}Waiting for you to finish signing in...\n`);
  try {
    const tokens = await oidc.pollDeviceAuthorizationGrant(config, started, undefined, {signal});
    if (!tokens.id_token) throw denied('pkictl.no_id_token', 'the identity provider answered without an ID token (is the openid scope allowed for this client?)');
    return tokens.id_token;
  } catch (error) {
    throw signInError(error, signal, io);
  }
}

async function browserFlow(io: PkiIo, oidc: Oidc, config: OidcConfig, scope: string, params: LoginParams, signal: AbortSignal): Promise<string> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  try {
    const url = oidc.buildAuthorizationUrl(config, {redirect_uri: redirectUri, scope, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce});
    const callback = new Promise<URL>((resolve, reject) => {
      server.on('request', (req: IncomingMessage, res: ServerResponse) => {
        const got = new URL(req.url ?? '/', redirectUri);
        if (got.pathname !== '/callback') {
          res.writeHead(404).end();
          return;
        }
        const ok = got.searchParams.get('state') === state && got.searchParams.has('code');
        res.writeHead(ok ? 200 : 400, {'content-type': 'text/html; charset=utf-8'});
        res.end(ok ? PAGE('Signed in', 'pkictl has your sign-in. You can close this window.') : PAGE('Sign-in failed', 'Go back to the terminal.'));
        if (got.searchParams.get('state') !== state) return reject(denied('pkictl.login_state', 'the sign-in answer does not belong to this login (state mismatch); nothing was done'));
        resolve(got);
      });
      signal.addEventListener('abort', () => reject(signal.reason), {once: true});
    });
    io.ui.write(`Opening your browser to sign in. If it does not open, visit:\n\n    ${url.href}\n\nWaiting for you to finish signing in...\n`);
    if (params.browser) await openBrowser(io, url.href);
    let returned: URL;
    try {
      returned = await callback;
    } catch (error) {
      throw signInError(error, signal, io);
    }
    try {
      const tokens = await oidc.authorizationCodeGrant(config, returned, {pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce});
      if (!tokens.id_token) throw denied('pkictl.no_id_token', 'the identity provider answered without an ID token');
      return tokens.id_token;
    } catch (error) {
      throw signInError(error, signal, io);
    }
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

/** The browser named by $BROWSER (as gh and git do), else the system's default opener. */
async function openBrowser(io: PkiIo, url: string): Promise<void> {
  try {
    if (io.env.BROWSER) {
      const {spawn} = await import('node:child_process');
      spawn(io.env.BROWSER, [url], {stdio: 'ignore', detached: true}).on('error', () => undefined).unref();
      return;
    }
    const {default: open} = await import('open');
    await open(url);
  } catch {
    // The URL is printed: the person can open it themselves.
  }
}

function signInError(error: unknown, signal: AbortSignal, io: PkiIo): unknown {
  if (io.signal.aborted) return interrupted();
  if (signal.aborted) return unavailable('pkictl.login_timeout', 'signing in took too long; nothing was done', {hint: 'Run `pkictl login` again (--timeout gives more time).'});
  const e = error as {error?: string; error_description?: string; message?: string};
  if (e?.error === 'access_denied') return denied('pkictl.login_refused', `signing in was refused: ${e.error_description ?? 'access denied'}`, {hint: 'Sign in with your company account.'});
  if (e?.error === 'expired_token') return unavailable('pkictl.login_timeout', 'the device code expired before the sign-in finished', {hint: 'Run `pkictl login --device` again.'});
  if (error instanceof Error && 'exitCode' in error) return error;
  return denied('pkictl.login_failed', `signing in failed: ${e?.error_description ?? e?.message ?? String(error)}`);
}

export interface LogoutResult {
  server: string;
  signedOut: boolean;
}

/** Ends the session on the server (best effort) and forgets the token. */
export async function logout(io: PkiIo, settings: PkictlSettings): Promise<LogoutResult> {
  const client = new PkiServerClient(io, settings);
  let signedOut = false;
  try {
    client.session();
    await client.authed('DELETE', '/v1/session', undefined, [204, 401]);
    signedOut = true;
  } catch {
    signedOut = false;
  }
  removeSession(io, client.url);
  return {server: client.url, signedOut};
}
