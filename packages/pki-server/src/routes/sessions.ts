/**
 * Signing in. pkictl runs the OIDC flow itself (PKCE on a loopback redirect, or the device
 * flow) and exchanges the ID token at POST /v1/sessions for a bearer token. Browsers use the
 * server's own authorization-code flow with PKCE (GET /v1/auth/login, /v1/auth/callback), which
 * ends in an HttpOnly, Secure, SameSite=Lax cookie; changes then need the session's CSRF token.
 */
import {type ApiApp, HttpError, unavailable} from '@bcl/http-api';
import type {FastifyReply, FastifyRequest} from 'fastify';
import {z} from 'zod';
import {sessionCreatedSchema, sessionSchema} from '../api.js';
import {LoginRefused} from '../oidc/verify.js';
import type {RouteContext} from '../server.js';
import type {Caller} from '../sessions.js';

const LOGIN_TTL_MS = 10 * 60_000;

const userOf = (c: Caller) => ({email: c.email, name: c.name, iss: c.iss, sub: c.sub, admin: c.admin, groups: c.groups});

function refusal(error: LoginRefused): HttpError {
  return new HttpError(error.status, error.code, error.message, error.hint ? {hint: error.hint} : {});
}

/** Only a path of this server: `returnTo` can never send a person elsewhere. */
function safeReturn(path: string | undefined): string {
  return path && /^\/(?![/\\])[\x21-\x7e]*$/.test(path) ? path : '/';
}

export function sessionRoutes(app: ApiApp, ctx: RouteContext): void {
  app.post(
    '/v1/sessions',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Exchange an ID token (from the identity provider, fresh, used once) for a session token',
        body: z.strictObject({idToken: z.string().min(10).max(16_384)}),
        response: {201: sessionCreatedSchema},
      },
    },
    async (request, reply) => {
      try {
        const session = await ctx.sessions.login(request.body.idToken, {kind: 'cli', address: request.ip});
        return reply.code(201).send({token: session.token, expiresAt: session.caller.expiresAt.toISOString(), user: userOf(session.caller)});
      } catch (error) {
        throw error instanceof LoginRefused ? refusal(error) : error;
      }
    },
  );

  app.get('/v1/session', {onRequest: ctx.signedIn, schema: {tags: ['sessions'], summary: 'Who is signed in (and, in a browser, the CSRF token)', response: {200: sessionSchema}}}, async (request) => {
    const c = ctx.caller(request);
    return {user: userOf(c), kind: c.kind, expiresAt: c.expiresAt.toISOString(), csrfToken: c.kind === 'web' ? c.csrfToken : null};
  });

  app.delete('/v1/session', {onRequest: ctx.signedIn, schema: {tags: ['sessions'], summary: 'Sign out (the token stops working)', response: {204: z.null()}}}, async (request, reply) => {
    await ctx.sessions.end(ctx.caller(request), request.ip);
    if (ctx.caller(request).kind === 'web') void reply.clearCookie(ctx.cookieName, {path: '/'});
    return reply.code(204).send(null);
  });

  app.get(
    '/v1/auth/login',
    {schema: {tags: ['sessions'], summary: 'Browser sign-in: redirects to the identity provider (authorization code with PKCE)', querystring: z.strictObject({returnTo: z.string().max(512).optional()})}},
    async (request, reply) => {
      const web = ctx.oidc.web;
      if (!web) throw unavailable('browser_sign_in_off', 'browser sign-in is not configured on this server (oidc.web)');
      const client = await import('openid-client');
      const state = client.randomState();
      const verifier = client.randomPKCECodeVerifier();
      const nonce = client.randomNonce();
      await ctx.db
        .insertInto('login_attempts')
        .values({state, code_verifier: verifier, nonce, return_to: safeReturn(request.query.returnTo), expires_at: new Date(ctx.now().getTime() + LOGIN_TTL_MS)})
        .execute();
      const url = client.buildAuthorizationUrl(web.config, {
        redirect_uri: web.redirectUri,
        scope: 'openid email profile',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        ...(web.hd ? {hd: web.hd} : {}),
      });
      return reply.redirect(url.href, 302);
    },
  );

  app.get(
    '/v1/auth/callback',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Browser sign-in: the identity provider returns here; sets the session cookie and goes back to the page',
        querystring: z.strictObject({code: z.string().optional(), state: z.string().max(256).optional(), error: z.string().max(256).optional(), error_description: z.string().max(1024).optional(), iss: z.string().optional(), scope: z.string().optional(), authuser: z.string().optional(), hd: z.string().optional(), prompt: z.string().optional()}),
      },
    },
    async (request: FastifyRequest<{Querystring: Record<string, string | undefined>}>, reply: FastifyReply) => {
      const web = ctx.oidc.web;
      if (!web) throw unavailable('browser_sign_in_off', 'browser sign-in is not configured on this server (oidc.web)');
      const back = (returnTo: string, params: Record<string, string>) => reply.redirect(`${returnTo}${returnTo.includes('?') ? '&' : '?'}${new URLSearchParams(params)}`, 302);
      const attempt = request.query.state
        ? await ctx.db.deleteFrom('login_attempts').where('state', '=', request.query.state).returningAll().executeTakeFirst()
        : undefined;
      if (!attempt || attempt.expires_at < ctx.now()) return back('/', {loginError: 'login_expired', loginMessage: 'The sign-in took too long or was already used. Sign in again.'});
      if (request.query.error) {
        await ctx.sessions.refused(new LoginRefused('token_malformed', `the identity provider refused: ${request.query.error}`, 401), {kind: 'web', address: request.ip});
        return back(attempt.return_to, {loginError: 'provider_refused', loginMessage: 'Sign-in was cancelled or refused. Try again with your work account.'});
      }
      const client = await import('openid-client');
      let idToken: string | undefined;
      try {
        const current = new URL(request.url, web.redirectUri);
        const tokens = await client.authorizationCodeGrant(web.config, current, {pkceCodeVerifier: attempt.code_verifier, expectedState: attempt.state, expectedNonce: attempt.nonce});
        idToken = tokens.id_token;
      } catch (error) {
        await ctx.sessions.refused(new LoginRefused('token_malformed', `the code exchange failed: ${(error as Error).message}`, 401), {kind: 'web', address: request.ip});
        return back(attempt.return_to, {loginError: 'code_exchange_failed', loginMessage: 'Sign-in did not complete. Try again.'});
      }
      try {
        const session = await ctx.sessions.login(idToken ?? '', {kind: 'web', address: request.ip, nonce: attempt.nonce});
        void reply.setCookie(ctx.cookieName, session.token, {path: '/', httpOnly: true, secure: ctx.secureCookie, sameSite: 'lax', expires: session.caller.expiresAt});
        return reply.redirect(attempt.return_to, 302);
      } catch (error) {
        if (!(error instanceof LoginRefused)) throw error;
        return back(attempt.return_to, {loginError: error.code, loginMessage: `${error.message}. ${error.hint ?? ''}`.trim()});
      }
    },
  );
}
