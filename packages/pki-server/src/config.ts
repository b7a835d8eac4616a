/**
 * The PKI server's configuration file (`pki-server serve --config <file>`), loaded with the shared
 * spec loader: every problem as `file:line:column: key.path: message`. Paths are relative to the
 * file. Secrets (database URLs, the CA key's passphrase, the OIDC client secret, the directory's
 * service-account key) are never values here: the file names where they are.
 */
import {readFileSync} from 'node:fs';
import {dirname, resolve} from 'node:path';
import {isSpecError, loadYamlFile} from '@bcl/spec-loader';
import {z} from 'zod';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
  }
}

const path = z.string().min(1, 'expected a file path');
const hostPort = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port, e.g. 0.0.0.0:8443 or 127.0.0.1:0');
const httpUrl = z.url({protocol: /^https?$/, error: 'expected an http:// or https:// URL'});
const duration = z.string().regex(/^\d+(s|m|h|d)$/, 'expected a duration such as 90s, 15m, 12h or 7d');

/** A secret given by the name of an environment variable or a file (0600) holding it. */
const secret = z
  .strictObject({env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name').optional(), file: path.optional()})
  .refine((s) => (s.env === undefined) !== (s.file === undefined), {error: 'give exactly one of env or file'});

const limit = z.strictObject({
  /** Requests allowed per window. */
  max: z.number().int().positive(),
  window: duration,
});

export const serverConfigSchema = z.strictObject({
  listen: hostPort.default('127.0.0.1:8443'),
  /**
   * Where people and pkictl reach this server (behind the load balancer), e.g.
   * https://pki.example.com: the OIDC redirect URI and the session cookie derive from it.
   */
  publicUrl: httpUrl,
  /**
   * The base URL written into every certificate for relying parties (plain http://, as they fetch
   * CRLs and OCSP without TLS): <base>/crl, <base>/ocsp, <base>/ca.crt. Policy URLs win when set.
   */
  revocationBaseUrl: z.url({protocol: /^http$/, error: 'expected an http:// URL (relying parties fetch revocation data over plain HTTP)'}),
  /** TLS for the listener itself (optional: usually a load balancer or ingress terminates it). */
  tls: z.strictObject({cert: path, key: path}).optional(),
  /** Trust X-Forwarded-For from the load balancer (for per-address rate limits). */
  trustProxy: z.boolean().default(false),
  database: z.strictObject({
    /** The application role's connection string (it cannot change the audit log). */
    url: secret,
    /**
     * The owner's connection string: when given, `serve` migrates the schema at start (under an
     * advisory lock, so replicas may start at once) and grants the application role its rights.
     */
    ownerUrl: secret.optional(),
    poolSize: z.number().int().min(1).max(100).default(10),
  }),
  ca: z.strictObject({
    /** The issuing CA's certificate chain (PEM): the issuer first, its root last. */
    certificate: path,
    /** The issuing CA's private key (PKCS#8 PEM, optionally encrypted). */
    key: path,
    passphrase: secret.optional(),
  }),
  /** The policy (pkictl's ca/policy.yaml format): seeds the database when it holds no policy yet. */
  policy: path.optional(),
  oidc: z.strictObject({
    /** The identity provider, e.g. https://accounts.google.com (discovery at <issuer>/.well-known/openid-configuration). */
    issuer: httpUrl,
    /** Also accept the issuer without its scheme (Google puts "accounts.google.com" in some tokens). Default: true for Google. */
    acceptSchemelessIssuer: z.boolean().optional(),
    /** Workspace domains whose people get certificates (the `hd` claim); their email must be at that domain. */
    allowedDomains: z.array(z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'expected a domain such as example.com')).min(1),
    /** pkictl's OAuth client (public, PKCE; Google: a "Desktop app" client, whose secret is not secret). */
    cli: z.strictObject({clientId: z.string().min(1), clientSecret: z.string().min(1).optional()}),
    /** The server's own confidential client for browser sign-in (the PKI Toolbox). */
    web: z.strictObject({clientId: z.string().min(1), clientSecret: secret}).optional(),
    /** Further client ids whose ID tokens are accepted (the aud set also holds cli and web). */
    extraClientIds: z.array(z.string().min(1)).default([]),
    /** How old an ID token may be when it is exchanged for a session (its iat). */
    maxTokenAge: duration.default('10m'),
    clockTolerance: duration.default('60s'),
  }),
  /** Where groups come from (profiles with `groups`, admin groups). */
  directory: z
    .discriminatedUnion('type', [
      z.strictObject({type: z.literal('none')}),
      /** Fixed memberships (small installations, tests). */
      z.strictObject({type: z.literal('static'), groups: z.record(z.email(), z.array(z.email()))}),
      /** Google's Admin SDK Directory API with a service account and domain-wide delegation. */
      z.strictObject({
        type: z.literal('google'),
        /** The service account's JSON key file (client_email, private_key, token_uri). */
        serviceAccountKey: path,
        /** The Workspace admin the service account acts for (domain-wide delegation). */
        subject: z.email(),
        /** Default https://admin.googleapis.com (tests point it at the directory double). */
        baseUrl: httpUrl.optional(),
        cacheFor: duration.default('5m'),
      }),
    ])
    .default({type: 'none'}),
  admins: z
    .strictObject({
      /** Admin identities by email (the policy's approvers are admins too). */
      emails: z.array(z.email()).default([]),
      /** Members of these directory groups are admins. */
      groups: z.array(z.email()).default([]),
    })
    .default({emails: [], groups: []}),
  sessions: z
    .strictObject({
      /** How long a pkictl login lasts. */
      cliTtl: duration.default('12h'),
      /** How long a browser session lasts. */
      webTtl: duration.default('8h'),
      /** Secure cookies (always in production; false only for plain-http test set-ups). */
      secureCookie: z.boolean().default(true),
    })
    .default({cliTtl: '12h', webTtl: '8h', secureCookie: true}),
  rateLimits: z
    .strictObject({
      /** Every API request of one client address (shared by all replicas through PostgreSQL). */
      perAddress: limit.default({max: 600, window: '1m'}),
      /** Sign-ins, issuances, renewals and revocations of one identity. */
      perIdentity: limit.default({max: 60, window: '1m'}),
    })
    .default({perAddress: {max: 600, window: '1m'}, perIdentity: {max: 60, window: '1m'}}),
  crl: z
    .strictObject({
      /** A fresh CRL is signed at least this often (and on every revocation); it is valid for the policy's crlValidityDays. */
      refreshEvery: duration.default('1h'),
    })
    .default({refreshEvery: '1h'}),
  ocsp: z
    .strictObject({
      /** The delegated responder certificate's lifetime; a new one is made when a third is left. */
      responderDays: z.number().int().min(1).max(30).default(7),
      /** How long relying parties may cache a response (nextUpdate and Cache-Control). */
      responseValidity: duration.default('1h'),
    })
    .default({responderDays: 7, responseValidity: '1h'}),
  /** The VPN servers the PKI Toolbox offers (name, location, host:port, transport). */
  vpnServers: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(64),
        location: z.string().min(1).max(64).optional(),
        remote: hostPort,
        proto: z.enum(['udp', 'tcp']).default('udp'),
        /** The profile of the certificates this server accepts (default vpn). */
        profile: z.string().min(1).default('vpn'),
      }),
    )
    .default([]),
  /** Audit entries as JSON lines: "stdout", or a file appended to (the table is the record). */
  auditLog: z.union([z.literal('stdout'), path]).default('stdout'),
});

export type ServerConfigFile = z.output<typeof serverConfigSchema>;

export interface ServerConfig extends ServerConfigFile {
  file: string;
  listenHost: string;
  listenPort: number;
}

const UNITS: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000};

/** "15m" -> 900000. */
export function durationMs(text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

/** Loads and validates the configuration; file paths become absolute (relative to the file). */
export function loadServerConfig(file: string, text?: string): ServerConfig {
  let parsed: ServerConfigFile;
  try {
    parsed = loadYamlFile(serverConfigSchema, file, text === undefined ? {} : {text});
  } catch (error) {
    if (isSpecError(error)) throw new ConfigError(error.message, file);
    throw error;
  }
  const base = dirname(resolve(file));
  const abs = (p: string) => resolve(base, p);
  const absSecret = <T extends {env?: string | undefined; file?: string | undefined}>(s: T): T => (s.file ? {...s, file: abs(s.file)} : s);
  const [host, port] = splitHostPort(parsed.listen);
  return {
    ...parsed,
    file: resolve(file),
    listenHost: host,
    listenPort: port,
    ...(parsed.tls ? {tls: {cert: abs(parsed.tls.cert), key: abs(parsed.tls.key)}} : {}),
    database: {...parsed.database, url: absSecret(parsed.database.url), ...(parsed.database.ownerUrl ? {ownerUrl: absSecret(parsed.database.ownerUrl)} : {})},
    ca: {certificate: abs(parsed.ca.certificate), key: abs(parsed.ca.key), ...(parsed.ca.passphrase ? {passphrase: absSecret(parsed.ca.passphrase)} : {})},
    ...(parsed.policy ? {policy: abs(parsed.policy)} : {}),
    oidc: {...parsed.oidc, ...(parsed.oidc.web ? {web: {...parsed.oidc.web, clientSecret: absSecret(parsed.oidc.web.clientSecret)}} : {})},
    directory: parsed.directory.type === 'google' ? {...parsed.directory, serviceAccountKey: abs(parsed.directory.serviceAccountKey)} : parsed.directory,
    auditLog: parsed.auditLog === 'stdout' ? 'stdout' : abs(parsed.auditLog),
  };
}

function splitHostPort(listen: string): [string, number] {
  const i = listen.lastIndexOf(':');
  return [listen.slice(0, i).replace(/^\[|\]$/g, ''), Number(listen.slice(i + 1))];
}

/** Reads a secret from the environment or its file (first line), naming the key when it is missing. */
export function readSecret(s: {env?: string | undefined; file?: string | undefined}, key: string, configFile: string, env: NodeJS.ProcessEnv = process.env): string {
  if (s.env) {
    const value = env[s.env];
    if (!value) throw new ConfigError(`${configFile}: ${key}.env: the environment variable ${s.env} is not set`, configFile);
    return value;
  }
  let text: string;
  try {
    text = readFileSync(s.file!, 'utf8');
  } catch (error) {
    throw new ConfigError(`${configFile}: ${key}.file: cannot read ${s.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, configFile);
  }
  const value = text.split(/\r?\n/)[0] ?? '';
  if (!value) throw new ConfigError(`${configFile}: ${key}.file: ${s.file} is empty`, configFile);
  return value;
}
