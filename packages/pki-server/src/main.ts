/**
 * Starting a replica from its configuration: migrate (when given the owner's connection), load
 * the CA, seed the policy, discover the identity provider, make this replica's OCSP responder
 * certificate, build the app, listen, and keep the CRL fresh. Several replicas may start at
 * once on one database; none keeps state of its own.
 */
import {createWriteStream, readFileSync} from 'node:fs';
import {PostgresAuditLog} from '@bcl/audit';
import type {ApiApp} from '@bcl/http-api';
import {randomSerial} from '@bcl/pki-ca';
import {ensureApplicationRole, type Kysely, migrateToLatest, openDatabase, sql, withAdvisoryLock} from '@bcl/postgres';
import {createRemoteJWKSet} from 'jose';
import {loadCa} from './ca.js';
import {ConfigError, durationMs, readSecret, type ServerConfig} from './config.js';
import {CrlPublisher} from './crl.js';
import type {PkiDb} from './db/schema.js';
import {grantApplication, migrations} from './db/migrations.js';
import {googleDirectory} from './directory/google.js';
import {type Directory, noDirectory, staticDirectory} from './directory/index.js';
import {OcspResponder} from './ocsp.js';
import {defaultIssuerAliases, IdTokenVerifier} from './oidc/verify.js';
import {PolicyStore} from './policy-store.js';
import {pruneRateLimits} from './rate-limit.js';
import {RegistrationAuthority} from './registration.js';
import {buildServer} from './server.js';
import {Sessions} from './sessions.js';

export interface RunningServer {
  app: ApiApp;
  url: string;
  /** The migrations this replica applied (empty when another one did). */
  migrated: string[];
  close(): Promise<void>;
}

export interface StartOptions {
  version: string;
  env?: NodeJS.ProcessEnv;
  /** Candidate serials (default: random 126 bits). */
  serials?: () => string;
  log?: (line: Record<string, unknown>) => void;
}

/** Runs the migrations with the owner's connection and gives the application role its rights. */
export async function migrate(config: ServerConfig, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  if (!config.database.ownerUrl) throw new ConfigError(`${config.file}: database.ownerUrl: migrating needs the owner's connection string`, config.file);
  const ownerUrl = readSecret(config.database.ownerUrl, 'database.ownerUrl', config.file, env);
  const appUrl = new URL(readSecret(config.database.url, 'database.url', config.file, env));
  const owner = openDatabase<unknown>({url: ownerUrl, max: 2, applicationName: 'pki-server-migrate'});
  try {
    const applied = await migrateToLatest(owner.db, {migrations});
    const role = decodeURIComponent(appUrl.username);
    const ownerRole = decodeURIComponent(new URL(ownerUrl).username);
    if (role && role !== ownerRole) {
      // In one transaction, one replica at a time: another replica never sees the role without its rights.
      await withAdvisoryLock(owner.db as Kysely<any>, 'pki-server:grants', async (trx) => {
        const exists = await sql<{n: number}>`select count(*)::int as n from pg_roles where rolname = ${role}`.execute(trx);
        if (exists.rows[0]!.n === 0) await ensureApplicationRole(trx, {role, password: decodeURIComponent(appUrl.password)});
        await grantApplication(trx, role);
      });
    }
    return applied;
  } finally {
    await owner.close();
  }
}

async function discover(issuer: string): Promise<Record<string, unknown>> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let last: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const res = await fetch(url, {signal: AbortSignal.timeout(10_000)});
      if (!res.ok) throw new Error(`${res.status}`);
      const meta = (await res.json()) as Record<string, unknown>;
      if (meta.issuer !== issuer) throw new ConfigError(`oidc.issuer: ${url} says its issuer is ${JSON.stringify(meta.issuer)}, not ${issuer}`, issuer);
      return meta;
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      last = error;
      await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
    }
  }
  throw new Error(`the identity provider's discovery document ${url} is unavailable: ${(last as Error).message}`);
}

export async function startServer(config: ServerConfig, options: StartOptions): Promise<RunningServer> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line) => process.stderr.write(`${JSON.stringify({time: new Date().toISOString(), ...line})}\n`));
  const migrated = config.database.ownerUrl ? await migrate(config, env) : [];
  const database = openDatabase<PkiDb>({url: readSecret(config.database.url, 'database.url', config.file, env), max: config.database.poolSize, applicationName: 'pki-server', onError: (m) => log({level: 'error', msg: m})});
  const db = database.db;
  const now = () => new Date();
  const auditStream = config.auditLog === 'stdout' ? process.stdout : createWriteStream(config.auditLog, {flags: 'a', mode: 0o600});
  const audit = new PostgresAuditLog({stream: auditStream, now});
  const ca = loadCa({certificateFile: config.ca.certificate, keyFile: config.ca.key, passphrase: config.ca.passphrase ? readSecret(config.ca.passphrase, 'ca.passphrase', config.file, env) : undefined, configFile: config.file});
  const policies = new PolicyStore(db, ca, audit);
  await policies.seed(config.policy, config.file);

  const meta = await discover(config.oidc.issuer);
  const jwks = createRemoteJWKSet(new URL(String(meta.jwks_uri)), {cooldownDuration: 30_000, cacheMaxAge: 600_000});
  const web = config.oidc.web;
  const verifier = new IdTokenVerifier({
    issuer: config.oidc.issuer,
    issuerAliases: defaultIssuerAliases(config.oidc.issuer, config.oidc.acceptSchemelessIssuer),
    clientIds: [config.oidc.cli.clientId, ...(web ? [web.clientId] : []), ...config.oidc.extraClientIds],
    allowedDomains: config.oidc.allowedDomains,
    maxTokenAgeMs: durationMs(config.oidc.maxTokenAge),
    clockToleranceMs: durationMs(config.oidc.clockTolerance),
    jwks,
  });
  let webClient;
  if (web) {
    const client = await import('openid-client');
    const secret = readSecret(web.clientSecret, 'oidc.web.clientSecret', config.file, env);
    const configuration = new client.Configuration(meta as never, web.clientId, secret, client.ClientSecretBasic(secret));
    const issuerUrl = new URL(config.oidc.issuer);
    // Plain http only for an identity provider on this machine (tests, demos).
    if (issuerUrl.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuerUrl.hostname)) client.allowInsecureRequests(configuration);
    webClient = {config: configuration, redirectUri: `${config.publicUrl.replace(/\/$/, '')}/v1/auth/callback`, hd: issuerUrl.host === 'accounts.google.com' && config.oidc.allowedDomains.length === 1 ? config.oidc.allowedDomains[0] : undefined};
  }

  const directory: Directory =
    config.directory.type === 'google'
      ? googleDirectory({serviceAccountKeyFile: config.directory.serviceAccountKey, subject: config.directory.subject, baseUrl: config.directory.baseUrl, cacheMs: durationMs(config.directory.cacheFor), configFile: config.file})
      : config.directory.type === 'static'
        ? staticDirectory(config.directory.groups)
        : noDirectory;
  const sessions = new Sessions(
    db,
    audit,
    verifier,
    directory,
    {emails: config.admins.emails, groups: config.admins.groups, approvers: async () => (await policies.current()).policy.approvers},
    {cli: durationMs(config.sessions.cliTtl), web: durationMs(config.sessions.webTtl)},
    now,
    log,
  );
  const crl = new CrlPublisher(db, ca, policies, audit, now, durationMs(config.crl.refreshEvery));
  const base = config.revocationBaseUrl.replace(/\/$/, '');
  const revocation = {crlUrl: `${base}/crl`, ocspUrl: `${base}/ocsp`, caCertUrl: `${base}/ca.crt`};
  const registration = new RegistrationAuthority({db, pool: database.pool, ca, policies, audit, directory, crl, revocation, now, serials: options.serials ?? randomSerial});
  const ocspValidityMs = durationMs(config.ocsp.responseValidity);
  const ocsp = new OcspResponder(db, ca, audit, now, () => registration.reserveSerial(), {responderDays: config.ocsp.responderDays, validityMs: ocspValidityMs});
  await crl.refreshIfDue('start');
  await ocsp.responder();

  const app = await buildServer({
    version: options.version,
    db,
    ca,
    policies,
    audit,
    sessions,
    registration,
    crl,
    ocsp,
    revocation,
    publicUrl: config.publicUrl,
    oidc: {issuer: config.oidc.issuer, cli: config.oidc.cli, web: webClient},
    rateLimits: {
      perAddress: {max: config.rateLimits.perAddress.max, windowMs: durationMs(config.rateLimits.perAddress.window)},
      perIdentity: {max: config.rateLimits.perIdentity.max, windowMs: durationMs(config.rateLimits.perIdentity.window)},
    },
    ocspValidityMs,
    secureCookie: config.sessions.secureCookie,
    vpnServers: config.vpnServers,
    tls: config.tls ? {cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key)} : undefined,
    trustProxy: config.trustProxy,
    now,
  });
  await app.listen({host: config.listenHost, port: config.listenPort});
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.listenPort;
  const url = `${config.tls ? 'https' : 'http'}://${config.listenHost.includes(':') ? `[${config.listenHost}]` : config.listenHost}:${port}`;

  // Housekeeping on every replica; the CRL refresh takes a lock, so one of them signs.
  const timer = setInterval(() => {
    void (async () => {
      await crl.refreshIfDue();
      await ocsp.responder();
      await sessions.prune();
      await pruneRateLimits(db);
    })().catch((error: Error) => log({level: 'error', msg: `housekeeping: ${error.message}`}));
  }, 60_000);
  timer.unref();

  return {
    app,
    url,
    migrated,
    async close() {
      clearInterval(timer);
      await app.close();
      await registration.drain();
      await database.close();
      if (auditStream !== process.stdout) await new Promise<void>((r) => (auditStream as ReturnType<typeof createWriteStream>).end(r));
    },
  };
}
