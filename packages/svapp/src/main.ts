import {hostname} from 'node:os';
import type {AddressInfo} from 'node:net';
import {PostgresAuditLog} from '@bcl/audit';
import {Redactor} from '@bcl/core/process';
import {watchPolicy} from '@bcl/deploy-policy';
import {loadTlsMaterial, watchTlsMaterial} from '@bcl/mtls';
import {migrateToLatest, openDatabase, postgresCrlNumberStore} from '@bcl/postgres';
import {ServiceCatalog} from './catalog.js';
import type {SvappConfig} from './config.js';
import type {SvappDb} from './db/schema.js';
import {grantSvapp, migrations} from './db/migrations.js';
import {KubeEngine} from './engine.js';
import type {Log} from './log.js';
import {checkJenkinsTokens, readSecret} from './secrets.js';
import {buildServer, type SvappServer} from './server.js';
import {version} from './version.js';

export interface RunningSvapp {
  url: string;
  app: SvappServer;
  stop(): Promise<void>;
}

/**
 * `svapp serve`: the configuration read and checked, migrations run (once, under a lock, however
 * many replicas start), TLS material with CRLs whose numbers every replica shares, the policy
 * watched, then the app listens. The audit log goes to stdout as JSON lines, the log to stderr.
 */
export async function startSvapp(config: SvappConfig, log: Log, env: Record<string, string | undefined> = process.env): Promise<RunningSvapp> {
  const redactor = new Redactor();
  const url = readSecret('database.url', config.database.url, env);
  redactor.add(url);
  const migrateUrl = config.database.migrateUrl ? readSecret('database.migrateUrl', config.database.migrateUrl, env) : undefined;
  if (migrateUrl) redactor.add(migrateUrl);
  for (const u of [url, migrateUrl]) {
    const password = u ? safePassword(u) : undefined;
    if (password) redactor.add(password);
  }
  for (const token of checkJenkinsTokens(config.jenkins, env)) redactor.add(token);
  const replica = config.replica ?? env.POD_NAME ?? hostname();
  const owner = openDatabase<unknown>({url: migrateUrl ?? url, applicationName: `svapp-migrate ${replica}`, max: 1, onError: (m) => log.warn(m)});
  try {
    await migrateToLatest(owner.db, {migrations});
    if (migrateUrl) {
      const role = decodeURIComponent(new URL(url).username);
      await grantSvapp(owner.db, role);
    }
  } finally {
    await owner.close();
  }
  // A replica frozen inside a transaction (SIGSTOP, a paused VM) must not hold its row locks past
  // its lease: PostgreSQL ends such a session, and another replica's takeover goes on.
  const leaseMs = config.operations.leaseSeconds * 1000;
  const database = openDatabase<SvappDb>({url, applicationName: `svapp ${replica}`, onError: (m) => log.warn(m), idleInTransactionTimeoutMs: Math.max(1000, Math.floor(leaseMs / 3))});
  const crlNumbers = postgresCrlNumberStore(database.db);
  const tls = await loadTlsMaterial(config.tls, {crlNumbers});
  const policy = watchPolicy(config.policy, {
    onChange: (p) => log.info(`deploy policy ${config.policy} reloaded (sha256 ${p.source.sha256.slice(0, 12)})`),
    onError: (report) => log.error(report.message, {file: report.file, problems: report.lines}),
  });
  const engine = new KubeEngine(config, redactor, env, log);
  // The reloader needs the server, the health route its status: a refused CRL reload shows there.
  let tlsReloader: ReturnType<typeof watchTlsMaterial> | undefined;
  const app = await buildServer({
    db: database.db,
    databaseUrl: url,
    tls,
    policy,
    catalog: new ServiceCatalog(config.catalog),
    engine,
    audit: new PostgresAuditLog({stream: process.stdout}),
    redactor,
    replica,
    version,
    protocol: config.protocol.current,
    clients: {minVersion: config.clients.minVersion, deprecations: config.clients.deprecations},
    operations: {leaseMs, sweepMs: config.operations.sweepSeconds * 1000, maxAttempts: config.operations.maxAttempts},
    log,
    httpLog: {write: (line: string) => process.stderr.write(line)},
    tlsStatus: () => tlsReloader?.status(),
  });
  tlsReloader = watchTlsMaterial(app.server, config.tls, tls, {crlNumbers, log: {info: (m) => log.info(m), error: (m) => log.error(m)}});
  await app.listen({host: config.listenHost, port: config.listenPort});
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `https://${host}:${address.port}`,
    app,
    async stop() {
      tlsReloader?.stop();
      policy.close();
      await app.shutdown();
      await engine.close();
      await database.close();
    },
  };
}

function safePassword(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}
