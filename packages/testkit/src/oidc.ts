import {randomBytes, randomUUID} from 'node:crypto';
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';

/**
 * A real, certified OpenID provider (panva's oidc-provider) on 127.0.0.1 with a free port,
 * shaped like Google Workspace: ID tokens carry `hd`, `email`, `email_verified`, `sub` and
 * `azp`; clients use the authorization code flow with PKCE or the device authorization grant.
 * Logins are completed without a person: `login()` and `approveDevice()` drive the provider's
 * own pages over HTTP, and the login page is a plain form a scripted browser can submit.
 */
export interface OidcUser {
  /** The stable subject (Google: a number as a string). */
  sub: string;
  /** Omit for an account without an email. */
  email?: string;
  /** Default true when there is an email. */
  emailVerified?: boolean;
  /** The Workspace domain; omit for a consumer account (gmail.com has none). */
  hd?: string;
  name?: string;
}

export interface OidcClient {
  clientId: string;
  /** A confidential client (web server); omit for a public client (CLI: PKCE, no secret). */
  clientSecret?: string;
  /** For native clients any port on 127.0.0.1 matches (RFC 8252). */
  redirectUris?: string[];
  /** native (a CLI, the default) or web (a server-side app like the Toolbox). */
  applicationType?: 'native' | 'web';
}

export interface OidcProviderOptions {
  users?: OidcUser[];
  clients?: OidcClient[];
  /** ID token lifetime in seconds (default 3600). */
  idTokenTtl?: number;
}

export interface MintOptions {
  /** Whose token (default: the first user); `claims` override or add claims. */
  user?: string;
  claims?: Record<string, unknown>;
  /** Default: the first client's id. */
  audience?: string | string[];
  /** Default: the audience (Google: the client that asked). */
  azp?: string | null;
  /** Seconds from now until exp (negative: already expired). Default 3600. */
  expiresIn?: number;
  /** Seconds to shift iat by (negative: issued in the past). */
  iatOffset?: number;
  /** `none`: an unsigned token; `foreign`: signed by a key not in the JWKS (same kid). */
  signing?: 'provider' | 'none' | 'foreign';
  issuer?: string;
}

export interface OidcProvider {
  /** The issuer URL (http://127.0.0.1:port), also the discovery base. */
  issuer: string;
  discoveryUrl: string;
  jwksUrl: string;
  users: OidcUser[];
  clients: OidcClient[];
  /**
   * Completes an authorization request as `user` (sub or email): follows the provider's
   * redirects, submits the login form, grants consent, and returns the redirect to the client
   * (`code` and `state` in its query). With `deliver`, also requests that URL (a CLI's loopback
   * listener receives its code).
   */
  login(authorizationUrl: string, user: string, options?: {deliver?: boolean}): Promise<URL>;
  /** Enters a device flow's user code and logs in as `user`, as the person would in a browser. */
  approveDevice(userCode: string, user: string): Promise<void>;
  /** Refuses a device flow's user code (the person pressed Cancel). */
  denyDevice(userCode: string): Promise<void>;
  /** An ID token made by the harness, right or deliberately wrong, for negative tests. */
  mintIdToken(options?: MintOptions): Promise<string>;
  stop(): Promise<void>;
}

export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<OidcProvider> {
  const {default: Provider} = await import('oidc-provider');
  const jose = await import('jose');
  const users: OidcUser[] = options.users ?? [
    {sub: '100000000000000000001', email: 'ann@example.com', hd: 'example.com', name: 'Ann Example'},
    {sub: '100000000000000000002', email: 'bob@example.com', hd: 'example.com', name: 'Bob Example'},
    {sub: '100000000000000000003', email: 'mallory@gmail.com', name: 'Mallory (consumer account)'},
    {sub: '100000000000000000004', email: 'carl@example.com', hd: 'example.com', emailVerified: false, name: 'Carl (unverified)'},
    {sub: '100000000000000000005', hd: 'example.com', name: 'Dee (no email)'},
  ];
  const clients: OidcClient[] = options.clients ?? [{clientId: 'bcl-cli', redirectUris: ['http://127.0.0.1/callback']}];
  const findUser = (who: string) => users.find((u) => u.sub === who || u.email === who);
  const mustFind = (who: string) => {
    const user = findUser(who);
    if (!user) throw new Error(`startOidcProvider: no test user ${who} (users: ${users.map((u) => u.email ?? u.sub).join(', ')})`);
    return user;
  };
  const claimsOf = (user: OidcUser, clientId: string | undefined) => ({
    sub: user.sub,
    ...(clientId ? {azp: clientId} : {}),
    ...(user.hd ? {hd: user.hd} : {}),
    ...(user.email ? {email: user.email, email_verified: user.emailVerified ?? true} : {}),
    ...(user.name ? {name: user.name} : {}),
  });

  const {privateKey} = await jose.generateKeyPair('RS256', {extractable: true});
  const kid = `test-${randomBytes(4).toString('hex')}`;
  const privateJwk = {...(await jose.exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig'};
  const foreign = await jose.generateKeyPair('RS256');

  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const page = (title: string, body: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><main><h1>${title}</h1>${body}</main></body></html>`;

  const provider = new Provider(issuer, {
    clients: clients.map((c) => ({
      client_id: c.clientId,
      ...(c.clientSecret ? {client_secret: c.clientSecret} : {token_endpoint_auth_method: 'none'}),
      application_type: c.applicationType ?? 'native',
      redirect_uris: c.redirectUris ?? ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'],
    })),
    jwks: {keys: [privateJwk as never]},
    cookies: {keys: [randomBytes(32).toString('hex')]},
    // Google puts the profile claims in the ID token itself.
    conformIdTokenClaims: false,
    claims: {openid: ['sub', 'azp', 'hd'], email: ['email', 'email_verified'], profile: ['name']},
    scopes: ['openid', 'email', 'profile', 'offline_access'],
    findAccount: async (ctx: {oidc?: {client?: {clientId: string}}}, sub: string) => {
      const user = findUser(sub);
      if (!user) return undefined;
      return {accountId: sub, claims: async () => claimsOf(user, ctx.oidc?.client?.clientId)};
    },
    interactions: {url: (_ctx: unknown, interaction: {uid: string}) => `/interaction/${interaction.uid}`},
    features: {
      devInteractions: {enabled: false},
      deviceFlow: {
        enabled: true,
        userCodeInputSource: async (ctx: {body: string}, form: string) => void (ctx.body = page('Connect a device', form)),
        userCodeConfirmSource: async (ctx: {body: string}, form: string, _client: unknown, _info: unknown, code: string) => void (ctx.body = page(`Confirm the code ${code}`, form)),
        successSource: async (ctx: {body: string}) => void (ctx.body = page('Signed in', '<p>You can close this window.</p>')),
      },
      revocation: {enabled: true},
    },
    adapter: memoryAdapter(),
    clientBasedCORS: () => true,
    renderError: async (ctx: {type: string; body: unknown}, out: Record<string, string>) => {
      ctx.type = 'html';
      ctx.body = page('Sign-in error', `<pre>${escapeHtml(JSON.stringify(out))}</pre>`);
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      DeviceCode: 600,
      Grant: 3600,
      IdToken: options.idTokenTtl ?? 3600,
      Interaction: 600,
      RefreshToken: 86400,
      Session: 3600,
    },
  } as never);

  const callback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', issuer);
    const m = /^\/interaction\/([\w-]+)(\/login|\/abort)?$/.exec(url.pathname);
    if (!m) return void callback(req, res);
    interaction(req, res, m[2]).catch((error: unknown) => {
      res.writeHead(500, {'content-type': 'text/plain'});
      res.end(`interaction failed: ${(error as Error).message}`);
    });
  });

  /** The login page (a form listing the test users), or an automatic login/consent. */
  async function interaction(req: IncomingMessage, res: ServerResponse, action: string | undefined): Promise<void> {
    const details = (await provider.interactionDetails(req, res)) as unknown as {
      uid: string;
      prompt: {name: string; details: {missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]>}};
      params: {client_id: string; login_hint?: string};
      session?: {accountId: string};
      grantId?: string;
    };
    if (action === '/abort') {
      return void (await provider.interactionFinished(req, res, {error: 'access_denied', error_description: 'the person refused'}, {mergeWithLastSubmission: false}));
    }
    if (details.prompt.name === 'login') {
      let who = details.params.login_hint && findUser(details.params.login_hint) ? details.params.login_hint : undefined;
      if (action === '/login' && req.method === 'POST') who = new URLSearchParams(await readBody(req)).get('user') ?? undefined;
      const user = who ? findUser(who) : undefined;
      if (user) return void (await provider.interactionFinished(req, res, {login: {accountId: user.sub}}, {mergeWithLastSubmission: false}));
      const buttons = users.map((u) => `<li><button type="submit" name="user" value="${escapeHtml(u.sub)}">${escapeHtml(u.name ?? u.sub)} &lt;${escapeHtml(u.email ?? 'no email')}&gt;</button></li>`).join('');
      res.writeHead(200, {'content-type': 'text/html; charset=utf-8'});
      res.end(page('Choose an account', `<form method="post" action="/interaction/${details.uid}/login"><ul>${buttons}</ul></form><form method="post" action="/interaction/${details.uid}/abort"><button type="submit">Cancel</button></form>`));
      return;
    }
    // Consent: the test clients are first-party; grant what was asked.
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({accountId: details.session!.accountId, clientId: details.params.client_id});
    if (!grant) throw new Error(`grant ${details.grantId} not found`);
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, {consent: {grantId}}, {mergeWithLastSubmission: true});
  }

  /** A tiny browser: a cookie jar and manual redirects, so every hop is the provider's own. */
  function browser() {
    const jar = new Map<string, string>();
    const request = async (target: string, init: {method?: string; form?: Record<string, string>} = {}) => {
      const res = await fetch(target, {
        method: init.method ?? 'GET',
        redirect: 'manual',
        headers: {
          cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
          ...(init.form ? {'content-type': 'application/x-www-form-urlencoded'} : {}),
        },
        ...(init.form ? {body: new URLSearchParams(init.form).toString()} : {}),
      });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const eq = pair!.indexOf('=');
        const name = pair!.slice(0, eq).trim();
        const value = pair!.slice(eq + 1).trim();
        if (/expires=Thu, 01 Jan 1970/i.test(c) || value === '') jar.delete(name);
        else jar.set(name, value);
      }
      return {status: res.status, location: res.headers.get('location'), text: await res.text()};
    };
    /** Follows redirects (and the login form) within the provider; stops at the first URL elsewhere, or a page. */
    const follow = async (start: {status: number; location: string | null; text: string}, base: string, user: OidcUser | undefined) => {
      let current = start;
      let at = base;
      for (let hops = 0; hops < 20; hops++) {
        if (current.status >= 300 && current.status < 400 && current.location) {
          const next = new URL(current.location, at);
          if (next.origin !== issuer) return {external: next, page: undefined};
          at = next.href;
          current = await request(next.href);
          continue;
        }
        const form = /<form method="post" action="(\/interaction\/[\w-]+\/login)"/.exec(current.text);
        if (form && user) {
          at = new URL(form[1]!, issuer).href;
          current = await request(at, {method: 'POST', form: {user: user.sub}});
          continue;
        }
        const autoPost = /<form method="post" action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(current.text);
        if (current.text.includes('document.forms[0].submit()') && autoPost) {
          // oidc-provider's form_post page (device user_code prefill): submit it as a browser would.
          const fields = Object.fromEntries([...autoPost[2]!.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((f) => [f[1]!, decodeHtml(f[2]!)]));
          at = new URL(decodeHtml(autoPost[1]!), issuer).href;
          current = await request(at, {method: 'POST', form: fields});
          continue;
        }
        return {external: undefined, page: current};
      }
      throw new Error('the OIDC provider redirected more than 20 times');
    };
    return {request, follow};
  }

  async function deviceStep(userCode: string, user: OidcUser | undefined, confirm: boolean): Promise<void> {
    const b = browser();
    const input = await b.request(`${issuer}/device`);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(input.text)?.[1];
    if (!xsrf) throw new Error(`the device page has no form: ${input.status}`);
    const confirmPage = await b.request(`${issuer}/device`, {method: 'POST', form: {xsrf, user_code: userCode}});
    const xsrf2 = /name="xsrf" value="([^"]+)"/.exec(confirmPage.text)?.[1];
    if (!xsrf2) throw new Error(`the device code ${userCode} was not accepted: ${confirmPage.text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()}`);
    const submitted = await b.request(`${issuer}/device`, {method: 'POST', form: {xsrf: xsrf2, user_code: userCode, ...(confirm ? {confirm: 'yes'} : {abort: 'yes'})}});
    if (!confirm) return;
    const end = await b.follow(submitted, `${issuer}/device`, user);
    if (!end.page?.text.includes('Signed in')) throw new Error(`device sign-in did not finish: ${end.page?.status} ${end.page?.text.slice(0, 300)}`);
  }

  return {
    issuer,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    jwksUrl: `${issuer}/jwks`,
    users,
    clients,
    async login(authorizationUrl, who, opts = {}) {
      const user = mustFind(who);
      const b = browser();
      const first = await b.request(authorizationUrl);
      const end = await b.follow(first, authorizationUrl, user);
      if (!end.external) throw new Error(`the sign-in did not return to the client: ${end.page?.status} ${end.page?.text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300)}`);
      if (opts.deliver) await fetch(end.external, {redirect: 'manual'});
      return end.external;
    },
    approveDevice: (userCode, who) => deviceStep(userCode, mustFind(who), true),
    denyDevice: (userCode) => deviceStep(userCode, undefined, false),
    async mintIdToken(o = {}) {
      const user = mustFind(o.user ?? users[0]!.sub);
      const audience = o.audience ?? clients[0]!.clientId;
      const now = Math.floor(Date.now() / 1000) + (o.iatOffset ?? 0);
      const azp = o.azp === undefined ? (Array.isArray(audience) ? audience[0] : audience) : o.azp;
      const payload = {
        ...claimsOf(user, undefined),
        ...(azp === null ? {} : {azp}),
        iss: o.issuer ?? issuer,
        aud: audience,
        iat: now,
        exp: Math.floor(Date.now() / 1000) + (o.expiresIn ?? 3600),
        jti: randomUUID(),
        ...o.claims,
      };
      if (o.signing === 'none') {
        const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
        return `${enc({alg: 'none', typ: 'JWT'})}.${enc(payload)}.`;
      }
      const key = o.signing === 'foreign' ? foreign.privateKey : privateKey;
      return new jose.SignJWT(payload).setProtectedHeader({alg: 'RS256', kid, typ: 'JWT'}).sign(key);
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * oidc-provider's storage interface kept in a Map: the harness lives as long as one test file,
 * and its own development adapter warns on every start.
 */
function memoryAdapter() {
  const store = new Map<string, {payload: Record<string, unknown>; expiresAt: number}>();
  return class MemoryAdapter {
    constructor(private readonly model: string) {}
    #key(id: string) {
      return `${this.model}:${id}`;
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn: number) {
      store.set(this.#key(id), {payload, expiresAt: Date.now() + expiresIn * 1000});
    }
    async find(id: string) {
      const entry = store.get(this.#key(id));
      if (!entry || entry.expiresAt < Date.now()) return undefined;
      return entry.payload;
    }
    async findByUserCode(userCode: string) {
      for (const [key, entry] of store) if (key.startsWith(`${this.model}:`) && entry.payload.userCode === userCode) return entry.payload;
      return undefined;
    }
    async findByUid(uid: string) {
      for (const [key, entry] of store) if (key.startsWith(`${this.model}:`) && entry.payload.uid === uid) return entry.payload;
      return undefined;
    }
    async consume(id: string) {
      const entry = store.get(this.#key(id));
      if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(this.#key(id));
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, entry] of store) if (entry.payload.grantId === grantId) store.delete(key);
    }
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function decodeHtml(text: string): string {
  return text.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}
