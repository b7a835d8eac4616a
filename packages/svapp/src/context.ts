import type {PostgresAuditLog} from '@bcl/audit';
import type {Redactor} from '@bcl/core/process';
import type {Policy, PolicyWatchStatus} from '@bcl/deploy-policy';
import type {Kysely} from '@bcl/postgres';
import type {FastifyRequest} from 'fastify';
import type {Identity} from './api.js';
import type {Authorizer} from './authz.js';
import type {ServiceCatalog} from './catalog.js';
import type {SvappDb} from './db/schema.js';
import type {DeployEngine} from './engine.js';
import type {Log} from './log.js';
import type {EventWaker} from './operations/follow.js';
import type {OperationRunner} from './operations/runner.js';
import type {OperationStore} from './operations/store.js';

/** What the routes share: the stores, the policy, the engine, the clock. */
export interface SvappContext {
  db: Kysely<SvappDb>;
  store: OperationStore;
  runner: OperationRunner;
  authz: Authorizer;
  catalog: ServiceCatalog;
  engine: DeployEngine;
  audit: PostgresAuditLog;
  redactor: Redactor;
  waker: EventWaker;
  policy: () => Policy;
  policyStatus: () => PolicyWatchStatus | undefined;
  replica: string;
  version: string;
  /** The protocol this server answers in at most. */
  protocol: number;
  log: Log;
  now: () => Date;
}

/** The caller, as the policy names them (hosts are refused before any route runs). */
export function callerOf(request: FastifyRequest): Identity {
  const id = request.identity!;
  return {kind: id.kind === 'ci' ? 'ci' : 'person', name: id.name};
}

/** The client that asked, for the audit log and the operation. */
export function clientOf(request: FastifyRequest): {name: string; version: string; protocol: {min: number; max: number}} | null {
  const c = request.negotiated?.client;
  return c ? {name: c.name, version: c.version, protocol: c.protocol} : null;
}
