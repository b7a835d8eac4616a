import {createHash} from 'node:crypto';
import type {AuditRecord, PostgresAuditLog} from '@bcl/audit';
import {conflict, invalidInput} from '@bcl/core/errors';
import {acquireLease, assertLease, type Kysely, type Lease, notify, sql, type Transaction} from '@bcl/postgres';
import type {Decision} from '@bcl/deploy-policy';
import type {Identity, OperationKind, OperationState, OperationView} from '../api.js';
import type {SvappDb} from '../db/schema.js';

/** The lease that says which replica runs an operation (its fencing token guards every write). */
export const operationLease = (id: string) => `svapp-op:${id}`;

/** The channel replicas hear new events on (payload: the operation id). */
export const EVENTS_CHANNEL = 'svapp_events';

export interface OperationRow {
  id: string;
  kind: OperationKind;
  requestHash: string;
  request: Record<string, unknown>;
  environment: string | null;
  services: string[];
  requester: Identity;
  client: {name: string; version: string; protocol?: {min: number; max: number}} | null;
  state: OperationState;
  decisions: Decision[];
  result: unknown;
  lastSeq: number;
  attempts: number;
  /** Runs handed over by a replica that stopped cleanly: they do not count against maxAttempts. */
  handovers: number;
  /** Whether the last run ended in a handover: the attempt number it had. */
  lastHandoverAttempt: number | null;
  runner: string | null;
  cancelRequested: {by: string; at: string} | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface NewEvent {
  type: string;
  data: Record<string, unknown>;
}

export interface StoredEvent {
  seq: number;
  type: string;
  data: Record<string, unknown>;
}

type Db = Kysely<SvappDb>;
type Trx = Transaction<SvappDb>;

/** The SHA-256 of a request in canonical form (keys sorted): the same id must come with the same request. */
export function requestHash(request: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canonical) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])])) : v;
  return createHash('sha256').update(JSON.stringify(canonical(request))).digest('hex');
}

function fromRow(r: SvappDb['svapp_operations'] & {last_seq: number; attempts: number; handovers: number; created_at: Date}): OperationRow {
  return {
    id: r.id,
    kind: r.kind as OperationKind,
    requestHash: r.request_hash,
    request: r.request as Record<string, unknown>,
    environment: r.environment,
    services: r.services,
    requester: r.requester as Identity,
    client: r.client as OperationRow['client'],
    state: r.state as OperationState,
    decisions: r.decisions as Decision[],
    result: r.result,
    lastSeq: r.last_seq,
    attempts: r.attempts,
    handovers: r.handovers,
    lastHandoverAttempt: r.last_handover_attempt,
    runner: r.runner,
    cancelRequested: r.cancel_requested as OperationRow['cancelRequested'],
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

/** What a client sees of an operation. */
export function operationView(op: OperationRow): OperationView {
  const waiting = op.state === 'waiting-approval' ? op.decisions.filter((d) => d.outcome === 'approval-required') : [];
  return {
    id: op.id,
    kind: op.kind,
    state: op.state,
    environment: op.environment,
    services: op.services,
    requester: op.requester,
    client: op.client ? {name: op.client.name, version: op.client.version} : null,
    createdAt: op.createdAt.toISOString(),
    startedAt: op.startedAt?.toISOString() ?? null,
    finishedAt: op.finishedAt?.toISOString() ?? null,
    runner: op.runner,
    attempts: op.attempts,
    eventsUrl: `/v1/operations/${op.id}/events`,
    ...(waiting.length > 0 ? {waitingFor: {message: waiting.map((d) => d.message).join('; '), groups: [...new Set(waiting.flatMap((d) => d.details.approval?.groups ?? []))]}} : {}),
  };
}

/**
 * The operation a retried request names: the same request (kind and body) by the same caller. An
 * id taken by someone else is a conflict that tells nothing of that operation (the caller may not
 * be allowed to read it); the same caller's other request under a used id says what the id names.
 */
export function retriedOperation(existing: OperationRow, request: Pick<OperationRow, 'kind' | 'requestHash' | 'requester'>): OperationRow {
  const hint = 'Operation ids are chosen by the client and name one request; a new request needs a new id.';
  if (existing.requester.kind !== request.requester.kind || existing.requester.name !== request.requester.name) {
    throw conflict('svapp.operation_exists', `operation ${existing.id} exists`, {hint, details: {id: existing.id}});
  }
  if (existing.requestHash !== request.requestHash || existing.kind !== request.kind) {
    throw conflict('svapp.operation_exists', `operation ${existing.id} exists with another request (a ${existing.kind} of ${existing.services.join(', ')} in ${existing.environment ?? 'no environment'})`, {hint, details: {id: existing.id}});
  }
  return existing;
}

/**
 * Operations and their events in PostgreSQL, where every replica reads them. Events get their
 * sequence numbers from the operation row (`last_seq`, updated in the writer's transaction), so
 * writers on several replicas never give two events one number, and a reader resuming after N
 * gets exactly N+1, N+2, ...
 */
export class OperationStore {
  constructor(
    readonly db: Db,
    readonly audit: PostgresAuditLog,
  ) {}

  async get(id: string, trx: Kysely<SvappDb> = this.db): Promise<OperationRow | undefined> {
    const row = await trx.selectFrom('svapp_operations').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? fromRow(row as never) : undefined;
  }

  async mustGet(id: string): Promise<OperationRow> {
    const op = await this.get(id);
    if (!op) throw invalidInput('svapp.unknown_operation', `svapp has no operation ${id}`, {hint: 'See `svctl ops list` for the operations svapp knows.', details: {id}});
    return op;
  }

  /**
   * Creates an operation with its first events and audit entries, in one transaction; the same
   * id with the same request is the existing operation (created: false), with another request a
   * conflict. Nothing is half-written: the answer goes out after the commit.
   */
  async create(
    op: Omit<OperationRow, 'lastSeq' | 'attempts' | 'handovers' | 'lastHandoverAttempt' | 'runner' | 'cancelRequested' | 'createdAt' | 'startedAt' | 'finishedAt' | 'result'>,
    events: NewEvent[],
    records: AuditRecord[],
    /** The replica that runs it: its lease is taken in the same transaction, so no other replica's sweep starts it first. */
    runner?: {replica: string; leaseMs: number},
  ): Promise<{op: OperationRow; created: boolean}> {
    return this.audit.transaction(this.db, async (trx, audit) => {
      const inserted = await trx
        .insertInto('svapp_operations')
        .values({
          id: op.id,
          kind: op.kind,
          request_hash: op.requestHash,
          request: JSON.stringify(op.request),
          environment: op.environment,
          services: op.services,
          requester: JSON.stringify(op.requester),
          client: op.client ? JSON.stringify(op.client) : null,
          state: op.state,
          decisions: JSON.stringify(op.decisions),
          result: null,
          runner: null,
          cancel_requested: null,
          started_at: null,
          finished_at: null,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!inserted) {
        return {op: retriedOperation((await this.get(op.id, trx))!, op), created: false};
      }
      await this.append(trx, op.id, events);
      if (runner) await acquireLease(trx, operationLease(op.id), runner.replica, runner.leaseMs);
      for (const r of records) await audit(r);
      return {op: (await this.get(op.id, trx))!, created: true};
    });
  }

  /** Appends events in the caller's transaction; with a lease, only while it is still current (fencing). */
  async append(trx: Trx | Db, id: string, events: readonly NewEvent[], lease?: Lease): Promise<number> {
    if (lease) await assertLease(trx, lease);
    if (events.length === 0) return 0;
    const row = await trx
      .updateTable('svapp_operations')
      .set((eb) => ({last_seq: eb('last_seq', '+', events.length)}))
      .where('id', '=', id)
      .returning('last_seq')
      .executeTakeFirstOrThrow();
    const first = row.last_seq - events.length + 1;
    await trx
      .insertInto('svapp_operation_events')
      .values(events.map((e, i) => ({op_id: id, seq: first + i, type: e.type, data: JSON.stringify(e.data)})))
      .execute();
    await notify(trx, EVENTS_CHANNEL, id);
    return row.last_seq;
  }

  /** The events after `after`, in order. */
  async eventsAfter(id: string, after: number, limit = 500): Promise<StoredEvent[]> {
    const rows = await this.db.selectFrom('svapp_operation_events').select(['seq', 'type', 'data']).where('op_id', '=', id).where('seq', '>', after).orderBy('seq').limit(limit).execute();
    return rows.map((r) => ({seq: r.seq, type: r.type, data: r.data as Record<string, unknown>}));
  }

  async list(filter: {environment?: string | undefined; service?: string | undefined; state?: string | undefined; open?: boolean; limit: number}): Promise<OperationRow[]> {
    let q = this.db.selectFrom('svapp_operations').selectAll().orderBy('created_at', 'desc').limit(filter.limit);
    if (filter.environment) q = q.where('environment', '=', filter.environment);
    if (filter.service) q = q.where(sql<boolean>`${filter.service} = any(services)`);
    if (filter.state) q = q.where('state', '=', filter.state);
    if (filter.open) q = q.where('state', 'in', ['waiting-approval', 'queued', 'running']);
    return (await q.execute()).map((r) => fromRow(r as never));
  }
}
