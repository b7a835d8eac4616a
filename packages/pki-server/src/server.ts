/**
 * buildServer(deps): the PKI server's HTTP API on the shared server set-up. Handlers are thin:
 * validate (zod), find the caller, call the registration authority, map the result.
 */
import cookie from '@fastify/cookie';
import type {PostgresAuditLog} from '@bcl/audit';
import {registerToolbox} from '@bcl/pki-toolbox';
import {type ApiApp, createApp, type ProtocolPolicy, unauthenticated, useProtocol, forbidden} from '@bcl/http-api';
import type {Kysely} from '@bcl/postgres';
import type {FastifyReply, FastifyRequest} from 'fastify';
import type {Configuration} from 'openid-client';
import {API_PROTOCOL} from './api.js';
import type {CaMaterial} from './ca.js';
import type {CrlPublisher} from './crl.js';
import type {PkiDb} from './db/schema.js';
import type {OcspResponder} from './ocsp.js';
import type {PolicyStore} from './policy-store.js';
import {type RateLimits, useRateLimits} from './rate-limit.js';
import type {RegistrationAuthority, RevocationPointers} from './registration.js';
import {adminRoutes} from './routes/admin.js';
import {certificateRoutes} from './routes/certificates.js';
import {infoRoutes} from './routes/info.js';
import {revocationRoutes} from './routes/revocation.js';
import {sessionRoutes} from './routes/sessions.js';
import {type Caller, type Sessions, sameSecret} from './sessions.js';

export interface ServerDeps {
  version: string;
  db: Kysely<PkiDb>;
  ca: CaMaterial;
  policies: PolicyStore;
  audit: PostgresAuditLog;
  sessions: Sessions;
  registration: RegistrationAuthority;
  crl: CrlPublisher;
  ocsp: OcspResponder;
  revocation: RevocationPointers;
  publicUrl: string;
  oidc: {
    issuer: string;
    cli: {clientId: string; clientSecret?: string | undefined};
    /** The server's own client for browser sign-in, when configured. */
    web?: {config: Configuration; redirectUri: string; hd?: string | undefined} | undefined;
  };
  rateLimits: RateLimits;
  ocspValidityMs: number;
  secureCookie: boolean;
  vpnServers: {name: string; location?: string | undefined; remote: string; proto: 'udp' | 'tcp'; profile: string}[];
  tls?: {cert: Buffer; key: Buffer} | undefined;
  trustProxy: boolean;
  log?: {write(line: string): unknown} | false;
  now: () => Date;
}

/** What routes get: the deps, and how to know who is calling. */
export interface RouteContext extends ServerDeps {
  /** onRequest hook: the caller (bearer token or session cookie with CSRF), or 401. */
  signedIn: (request: FastifyRequest) => Promise<void>;
  /** onRequest hook after signedIn: the per-identity rate limit. */
  identityLimit: (request: FastifyRequest) => Promise<void>;
  caller: (request: FastifyRequest) => Caller;
  cookieName: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const PROTOCOL: ProtocolPolicy = {
  server: 'PKI server',
  protocol: {...API_PROTOCOL},
  upgradeCommand: (client) => (client === 'pkictl' ? 'pkictl update' : `update ${client}`),
  // Browsers (the PKI Toolbox) and relying parties send no BCL client headers.
  requireClientHeaders: false,
};

export async function buildServer(deps: ServerDeps): Promise<ApiApp> {
  const app = await createApp({
    title: 'PKI server',
    version: deps.version,
    description: 'Certificates for Google Workspace identities: sign-in, issuance, renewal, revocation, CRL and OCSP.',
    log: deps.log === undefined ? {} : deps.log === false ? false : {stream: deps.log},
    trustProxy: deps.trustProxy,
    ...(deps.tls ? {https: {cert: deps.tls.cert, key: deps.tls.key}} : {}),
    bodyLimit: 16 * 1024 * 1024,
  });
  useProtocol(app, PROTOCOL, {now: deps.now});
  // The PKI Toolbox's pages and assets (static, no database): mounted before the per-address
  // limit, whose counters live in PostgreSQL, so loading a page costs no database round trips.
  await registerToolbox(app, {prefix: '/'});
  await app.register(cookie);
  const cookieName = deps.secureCookie ? '__Host-pki_session' : 'pki_session';
  const identityCheck = await useRateLimits(app, deps.db, deps.rateLimits, (request, key) => {
    void deps.audit.record(deps.db, {event: 'rate_limited', key, route: request.routeOptions.url ?? null, address: request.ip}).catch(() => undefined);
  });

  app.decorateRequest('caller', undefined);
  const signedIn = async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    let token: string | undefined;
    let viaCookie = false;
    if (header?.toLowerCase().startsWith('bearer ')) token = header.slice(7).trim();
    else if (request.cookies?.[cookieName]) {
      token = request.cookies[cookieName];
      viaCookie = true;
    }
    const challenge = {'www-authenticate': 'Bearer realm="pki"'};
    if (!token) throw unauthenticated('not_signed_in', 'sign in first: run `pkictl login`, or open the PKI Toolbox', {headers: challenge});
    const caller = await deps.sessions.caller(token);
    if (!caller) throw unauthenticated('session_expired', 'your session has expired or was ended: sign in again', {headers: challenge, hint: 'Run `pkictl login`.'});
    if (viaCookie && !SAFE_METHODS.has(request.method)) {
      // A cookie goes with every request the browser makes: a change also needs what only our page can read.
      const sent = request.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !caller.csrfToken || !sameSecret(sent, caller.csrfToken)) {
        throw forbidden('csrf_token_invalid', 'this change must carry the X-CSRF-Token of your session (GET /v1/session)', {hint: 'Reload the page and try again.'});
      }
      const origin = request.headers.origin;
      if (origin !== undefined && origin !== new URL(deps.publicUrl).origin) throw forbidden('origin_refused', `requests from ${origin} may not change anything here`);
    }
    request.caller = caller;
    request.identityForLog = `person:${caller.email}`;
  };
  const ctx: RouteContext = {
    ...deps,
    signedIn,
    identityLimit: async (request) => identityCheck(request, request.caller ? `${request.caller.iss}#${request.caller.sub}` : request.ip),
    caller: (request) => {
      if (!request.caller) throw unauthenticated('not_signed_in', 'sign in first');
      return request.caller;
    },
    cookieName,
  };

  infoRoutes(app, ctx);
  sessionRoutes(app, ctx);
  certificateRoutes(app, ctx);
  revocationRoutes(app, ctx);
  adminRoutes(app, ctx);
  app.get('/healthz', {config: {rateLimit: false, protocol: false} as never, schema: {hide: true}}, async (_request, reply: FastifyReply) => reply.send({ok: true, ocsp: deps.ocsp.status()}));
  return app;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in person (set by the signedIn hook). */
    caller?: Caller;
  }
}
