import type {PostgresAuditLog} from '@bcl/audit';
import type {Redactor} from '@bcl/core/process';
import type {Policy, PolicyWatchStatus} from '@bcl/deploy-policy';
import {type ApiApp, createApp, type Deprecation, type ProtocolPolicy, useProtocol} from '@bcl/http-api';
import type {TlsMaterial} from '@bcl/mtls';
import {useClientCertificates} from '@bcl/mtls/fastify';
import type {Kysely} from '@bcl/postgres';
import {PROTOCOL, SERVER_NAME} from './api.js';
import {Authorizer} from './authz.js';
import type {ServiceCatalog} from './catalog.js';
import type {SvappContext} from './context.js';
import type {SvappDb} from './db/schema.js';
import type {DeployEngine} from './engine.js';
import type {Log} from './log.js';
import {EventWaker} from './operations/follow.js';
import {OperationRunner} from './operations/runner.js';
import {OperationStore} from './operations/store.js';
import {metaRoutes} from './routes/meta.js';
import {operationRoutes} from './routes/operations.js';
import {serviceRoutes} from './routes/services.js';

export interface SvappDeps {
  db: Kysely<SvappDb>;
  /** For LISTEN (a connection of its own): how replicas hear of each other's events. */
  databaseUrl: string;
  tls: TlsMaterial;
  /** The deploy policy in force (a watch: `current` is read at every decision). */
  policy: {readonly current: Policy; status?(): PolicyWatchStatus};
  catalog: ServiceCatalog;
  engine: DeployEngine;
  audit: PostgresAuditLog;
  redactor: Redactor;
  replica: string;
  version: string;
  /** The highest protocol served (default: this build's). */
  protocol?: number;
  clients?: {minVersion?: string | undefined; deprecations?: Deprecation[]};
  operations?: {leaseMs?: number; sweepMs?: number; maxAttempts?: number};
  log: Log;
  /** JSON-lines request log (default: none). */
  httpLog?: {write(line: string): unknown};
  /** The clock of every decision (tests inject one; freezes then need no waiting). */
  now?: () => Date;
  /** TLS reload status for /v1/healthz. */
  tlsStatus?: () => unknown;
  /** Whether this replica sweeps for operations to take over (default true). */
  sweep?: boolean;
}

export type SvappServer = ApiApp & {runner: OperationRunner; context: SvappContext; shutdown(): Promise<void>};

/**
 * svapp's app: mutual TLS identities, protocol negotiation before anything runs, the deploy
 * policy at every request, operations in PostgreSQL run by whichever replica holds their lease.
 */
export async function buildServer(deps: SvappDeps): Promise<SvappServer> {
  const now = deps.now ?? (() => new Date());
  const protocol = deps.protocol ?? PROTOCOL.current;
  const app = await createApp({
    title: SERVER_NAME,
    version: deps.version,
    description: 'The svctl back end: deploys, rollbacks, builds and reads as operations, under the deploy policy.',
    https: deps.tls.serverOptions,
    log: deps.httpLog ? {stream: deps.httpLog} : false,
    bodyLimit: 8 * 1024 * 1024,
    // Event streams of long rollouts stay open; keepalives go out every 15 s.
    requestTimeout: 0,
  });
  const policy: ProtocolPolicy = {
    server: SERVER_NAME,
    protocol: {min: PROTOCOL.min, current: protocol},
    ...(deps.clients?.minVersion ? {minClientVersion: deps.clients.minVersion} : {}),
    upgradeCommand: (name) => `${name} update`,
    deprecations: deps.clients?.deprecations ?? [],
  };
  useProtocol(app, policy, {now});
  const {requireIdentity} = useClientCertificates(app, {
    onRefused: async (request, refusal) => void (await deps.audit.record(deps.db, {event: 'request.refused', route: request.url.split('?')[0], code: refusal.code, subject: refusal.subject ?? null})),
  });
  // A refused client (too old, or newer than this server) is audited: it changed nothing.
  app.addHook('onError', async (request, _reply, error) => {
    const code = (error as {code?: string}).code;
    if (code === 'client_too_old' || code === 'server_too_old') {
      await deps.audit.record(deps.db, {event: 'request.refused', route: request.url.split('?')[0], code, client: String(request.headers['bcl-client'] ?? ''), protocol: String(request.headers['bcl-protocol'] ?? '')}).catch(() => undefined);
    }
  });

  const store = new OperationStore(deps.db, deps.audit);
  const runner = new OperationRunner({
    store,
    engine: deps.engine,
    audit: deps.audit,
    redactor: deps.redactor,
    replica: deps.replica,
    leaseMs: deps.operations?.leaseMs ?? 10_000,
    sweepMs: deps.operations?.sweepMs ?? 2000,
    maxAttempts: deps.operations?.maxAttempts ?? 3,
    log: deps.log,
    now,
  });
  const waker = await EventWaker.start(deps.databaseUrl, (m) => deps.log.warn(m));
  const ctx: SvappContext = {
    db: deps.db,
    store,
    runner,
    authz: new Authorizer({policy: () => deps.policy.current, catalog: deps.catalog, now, audit: deps.audit, db: deps.db}),
    catalog: deps.catalog,
    engine: deps.engine,
    audit: deps.audit,
    redactor: deps.redactor,
    waker,
    policy: () => deps.policy.current,
    policyStatus: () => deps.policy.status?.(),
    replica: deps.replica,
    version: deps.version,
    protocol,
    log: deps.log,
    now,
  };
  metaRoutes(app, ctx, policy, requireIdentity, () => (deps.tlsStatus ? {tls: deps.tlsStatus()} : {}));
  operationRoutes(app, ctx, requireIdentity);
  serviceRoutes(app, ctx, requireIdentity);
  if (deps.sweep !== false) runner.startSweeping();

  let shut = false;
  app.addHook('onClose', async () => {
    if (shut) return;
    shut = true;
    await runner.close();
    await waker.close();
  });
  return Object.assign(app, {
    runner,
    context: ctx,
    async shutdown() {
      await app.close();
    },
  });
}
