import type {PostgresAuditLog} from '@bcl/audit';
import {BclError, conflict, ExitCode, toBclError, unavailable} from '@bcl/core/errors';
import type {Redactor} from '@bcl/core/process';
import type {EventSink} from '@bcl/deploy-core/events';
import {acquireLease, assertLease, FencedError, type Kysely, type Lease, LeaseHeldError, releaseLease, renewLease, sql} from '@bcl/postgres';
import type {EndEvent, OperationState} from '../api.js';
import type {SvappDb} from '../db/schema.js';
import type {DeployEngine, EngineRun} from '../engine.js';
import {operationError} from '../errors.js';
import type {Log} from '../log.js';
import {executeOperation, type Outcome} from './execute.js';
import {type NewEvent, operationLease, type OperationRow, type OperationStore} from './store.js';

export interface RunnerOptions {
  store: OperationStore;
  engine: DeployEngine;
  audit: PostgresAuditLog;
  redactor: Redactor;
  /** This replica's name (leases, events, logs). */
  replica: string;
  /** Without a renewal for this long, the operation's lease expires and another replica takes it over. */
  leaseMs: number;
  /** How often this replica looks for operations nobody runs. */
  sweepMs: number;
  /** Runs of one operation (the first and takeovers) before it is marked failed. */
  maxAttempts: number;
  log: Log;
  now?: () => Date;
}

export {operationLease};

/**
 * An operation's events are written at most this often (those of the meantime in one transaction,
 * under the lease): a rollout's progress is a few dozen events, and a transaction each was a quarter
 * of svapp's and PostgreSQL's CPU per deploy. The terminal event takes what is still queued.
 */
const FLUSH_EVERY_MS = 100;

/**
 * Runs operations on this replica, and takes over those whose replica died. An operation runs
 * under a lease in PostgreSQL, renewed every quarter of its duration; every write of the run
 * (its events, its result, and through the deploy core's fence every write to a cluster) checks
 * that the lease is still this replica's. A replica that lost it (stopped, cut off, frozen long
 * enough for the lease to expire) therefore writes nothing more, and the replica that took the
 * lease continues the operation: a deploy is run again (server-side apply of the same objects is
 * idempotent; the deploy lease in the cluster is taken over from the same operation), a build is
 * marked failed (Jenkins goes on building; following it again would start a second build).
 */
export class OperationRunner {
  readonly #running = new Map<string, {stop: () => void; done: Promise<void>; lease: () => Lease}>();
  #sweeper: NodeJS.Timeout | undefined;
  #sweeping = false;
  #closed = false;
  readonly #now: () => Date;

  constructor(private readonly o: RunnerOptions) {
    this.#now = o.now ?? (() => new Date());
  }

  get db(): Kysely<SvappDb> {
    return this.o.store.db;
  }

  /** The replica and lease duration new operations are created with (their lease taken at creation). */
  get creator(): {replica: string; leaseMs: number} {
    return {replica: this.o.replica, leaseMs: this.o.leaseMs};
  }

  /** Operations running on this replica now. */
  get running(): string[] {
    return [...this.#running.keys()];
  }

  startSweeping(): void {
    this.#sweeper = setInterval(() => void this.sweep(), this.o.sweepMs);
    this.#sweeper.unref();
  }

  /** Starts every operation that waits to run or whose replica stopped renewing its lease. */
  async sweep(): Promise<void> {
    if (this.#sweeping || this.#closed) return;
    this.#sweeping = true;
    try {
      const {rows} = await sql<{id: string}>`
        select o.id from svapp_operations o left join bcl_lease l on l.name = 'svapp-op:' || o.id
        where o.state in ('queued', 'running') and (l.name is null or l.expires_at < clock_timestamp())
        order by o.created_at limit 20`.execute(this.db);
      for (const {id} of rows) await this.tryRun(id);
    } catch (error) {
      this.o.log.warn(`looking for operations to run failed: ${(error as Error).message}`);
    } finally {
      this.#sweeping = false;
    }
  }

  /** Runs the operation here unless another replica holds its lease; true when this replica took it. */
  async tryRun(id: string): Promise<boolean> {
    if (this.#closed || this.#running.has(id)) return false;
    let lease: Lease;
    try {
      lease = await acquireLease(this.db, operationLease(id), this.o.replica, this.o.leaseMs);
    } catch (error) {
      if (error instanceof LeaseHeldError) return false;
      throw error;
    }
    const op = await this.o.store.get(id);
    if (!op || (op.state !== 'queued' && op.state !== 'running') || this.#running.has(id)) {
      if (!this.#running.has(id)) await releaseLease(this.db, lease).catch(() => undefined);
      return false;
    }
    const takeover = op.attempts > 0 ? {from: op.runner, handedOver: op.lastHandoverAttempt === op.attempts} : undefined;
    // A run handed over by a replica that stopped cleanly (a rolling restart) is not a failure.
    const failedRuns = op.attempts - op.handovers;
    if (takeover && (op.kind === 'build' || failedRuns >= this.o.maxAttempts)) {
      const why =
        op.kind === 'build'
          ? `svapp replica ${op.runner ?? '?'} stopped while it followed this build; the build goes on in Jenkins (svctl builds shows it), but its log here ends`
          : `svapp replicas stopped ${failedRuns} times while running this operation; it is not run again`;
      await this.finish(op, lease, {state: 'failed', error: operationError(unavailable('svapp.operation_lost', why, {hint: 'See `svctl status` and `svctl history` for what the cluster runs now.'}))}, []);
      await releaseLease(this.db, lease).catch(() => undefined);
      return false;
    }
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const held = {lease};
    const done = this.run(op, held, takeover, stopped).finally(() => this.#running.delete(id));
    this.#running.set(id, {stop, done, lease: () => held.lease});
    return true;
  }

  private async run(op: OperationRow, held: {lease: Lease}, takeover: {from: string | null; handedOver: boolean} | undefined, stopped: Promise<void>): Promise<void> {
    const {store, replica, leaseMs, log} = this.o;
    const controller = new AbortController();
    let current = held.lease;
    let lastRenewal = Date.now();
    let lost: BclError | undefined;
    let cancelledBy: string | undefined;
    const lose = (why: string) => {
      if (lost) return;
      lost = conflict('svapp.fenced', `svapp replica ${replica} no longer runs operation ${op.id} (${why}); it writes nothing more`);
      log.warn(lost.message, {operation: op.id});
      controller.abort();
    };
    void stopped.then(() => lose('this replica is shutting down'));
    // Before every write: a lease not renewed for most of its duration may be another replica's already.
    const fence = () => {
      if (!lost && Date.now() - lastRenewal > leaseMs * 0.8) lose(`its lease was last renewed ${((Date.now() - lastRenewal) / 1000).toFixed(1)} s ago`);
      if (lost) throw lost;
    };
    const heartbeat = setInterval(() => {
      void (async () => {
        if (lost) return;
        try {
          fence();
          current = await renewLease(this.db, current);
          held.lease = current;
          lastRenewal = Date.now();
        } catch (error) {
          if (error instanceof FencedError) lose('its lease was taken by another replica');
          else if (!lost) log.warn(`renewing the lease of operation ${op.id} failed: ${(error as Error).message}`);
          return;
        }
        const row = await this.db.selectFrom('svapp_operations').select('cancel_requested').where('id', '=', op.id).executeTakeFirst().catch(() => undefined);
        const cancel = row?.cancel_requested as {by: string} | null | undefined;
        if (cancel && !cancelledBy) {
          cancelledBy = cancel.by;
          controller.abort();
        }
      })();
    }, Math.max(50, leaseMs / 4));

    // Events are written in order, in batches, each batch under the lease.
    const queue: NewEvent[] = [];
    let writing: Promise<void> = Promise.resolve();
    let scheduled = false;
    let lastFlush = 0;
    const flush = (): Promise<void> => {
      writing = writing.then(async () => {
        if (queue.length === 0 || lost) return;
        const batch = queue.splice(0);
        try {
          fence();
          await this.db.transaction().execute((trx) => store.append(trx, op.id, batch, current));
        } catch (error) {
          if (error instanceof FencedError) lose('its lease was taken by another replica');
          else if (!lost) log.error(`writing ${batch.length} event(s) of operation ${op.id} failed: ${(error as Error).message}`);
        }
      });
      return writing;
    };
    const push = (type: string, data: Record<string, unknown>) => {
      queue.push({type, data: this.o.redactor.redactValue({...data, at: this.#now().toISOString()}) as Record<string, unknown>});
      if (!scheduled) {
        scheduled = true;
        const go = () => {
          scheduled = false;
          lastFlush = Date.now();
          void flush();
        };
        const wait = lastFlush + FLUSH_EVERY_MS - Date.now();
        if (wait <= 0) setImmediate(go);
        else setTimeout(go, wait);
      }
    };
    const events: EventSink = {
      emit: (event) => {
        const {type, ...data} = event;
        push(type, data);
      },
    };

    try {
      fence();
      await this.o.audit.transaction(this.db, async (trx, audit) => {
        const attempt = op.attempts + 1;
        const message = takeover
          ? `svapp replica ${replica} took over from ${takeover.from ?? 'a replica'} (attempt ${attempt}), ${takeover.handedOver ? 'which handed it over as it stopped' : 'which stopped renewing its lease'}`
          : `svapp replica ${replica} runs it`;
        await store.append(trx, op.id, [{type: takeover ? 'taken-over' : 'started', data: {replica, attempt, ...(takeover ? {from: takeover.from} : {}), message, at: this.#now().toISOString()}}], current);
        await trx.updateTable('svapp_operations').set({state: 'running', runner: replica, attempts: attempt, started_at: op.startedAt ?? this.#now()}).where('id', '=', op.id).execute();
        await audit({event: takeover ? 'operation.taken-over' : 'operation.started', operation: op.id, kind: op.kind, replica, attempt, ...(takeover ? {from: takeover.from} : {})});
      });
      const run: EngineRun = {
        environment: op.environment ?? '',
        timeoutMs: Number(op.request.timeoutMs ?? 300_000),
        rollback: op.request.rollback !== false,
        signal: controller.signal,
        events,
        who: `${op.requester.kind === 'ci' ? `ci:${op.requester.name}` : op.requester.name} via svapp`,
        leaseHolder: `${op.requester.kind === 'ci' ? `ci:${op.requester.name}` : op.requester.name} via svapp ${replica} op ${op.id}`,
        takeOverLease: (holder) => holder.endsWith(` op ${op.id}`),
        operation: op.id,
        fence,
      };
      let outcome: Outcome;
      if (op.cancelRequested) {
        cancelledBy = op.cancelRequested.by;
        outcome = {state: 'cancelled', error: operationError(new BclError('interrupted', `cancelled by ${cancelledBy} before it started`, ExitCode.interrupted))};
      } else {
        outcome = await executeOperation(op, run, this.o.engine);
      }
      if (lost) return;
      if (cancelledBy && outcome.error?.exitCode === ExitCode.interrupted) outcome = {...outcome, state: 'cancelled', error: {...outcome.error, message: `cancelled by ${cancelledBy}: ${outcome.error.message}`}};
      // What is still queued goes with the terminal event, in its transaction (one write less before
      // the result), once every batch begun before is written: sequence numbers keep event order.
      for (let pending = writing; ; pending = writing) {
        await pending;
        if (pending === writing) break;
      }
      if (lost) return;
      const rest = queue.splice(0);
      await this.finish(op, current, outcome, rest, fence).catch((error: unknown) => {
        queue.unshift(...rest);
        throw error;
      });
    } catch (error) {
      if (lost || error === lost) return;
      log.error(`operation ${op.id} failed unexpectedly: ${(error as Error).stack ?? error}`);
      await flush();
      const e = toBclError(error);
      await this.finish(op, current, {state: 'failed', error: operationError(e)}, [], fence).catch((err: unknown) => log.error(`recording the failure of ${op.id} failed: ${(err as Error).message}`));
    } finally {
      clearInterval(heartbeat);
      if (!lost) await releaseLease(this.db, current).catch(() => undefined);
    }
  }

  /** Writes the terminal event, the state and the result in one transaction under the lease, audited. */
  private async finish(op: OperationRow, lease: Lease, outcome: Outcome, extra: NewEvent[], fence?: () => void): Promise<void> {
    fence?.();
    const end: EndEvent = {state: outcome.state, ...(outcome.result !== undefined ? {result: outcome.result} : {}), ...(outcome.error ? {error: outcome.error} : {}), at: this.#now().toISOString()};
    const endData = this.o.redactor.redactValue(end) as unknown as Record<string, unknown>;
    await this.o.audit.transaction(this.db, async (trx, audit) => {
      await this.o.store.append(trx, op.id, [...extra, {type: 'end', data: endData}], lease);
      await trx
        .updateTable('svapp_operations')
        .set({state: outcome.state, result: JSON.stringify(endData), finished_at: this.#now(), runner: this.o.replica})
        .where('id', '=', op.id)
        .execute();
      await audit({
        event: 'operation.finished',
        operation: op.id,
        kind: op.kind,
        who: op.requester,
        environment: op.environment,
        services: op.services,
        client: op.client,
        outcome: outcome.state,
        ...(outcome.error ? {error: {code: outcome.error.code, message: outcome.error.message, exitCode: outcome.error.exitCode}} : {}),
        replica: this.o.replica,
      });
    });
  }

  /**
   * Stops taking operations, and hands over the running ones: they write nothing more, then their
   * leases are released, so another replica continues them at its next sweep (a rolling restart).
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweeper) clearInterval(this.#sweeper);
    const running = [...this.#running.entries()];
    for (const [, r] of running) r.stop();
    // Once a run has stopped writing, it is recorded as handed over (not a failed run) and its
    // lease is given up: another replica continues at once.
    await Promise.all(running.map(async ([id, r]) => {
      await r.done.catch(() => undefined);
      await this.recordHandover(id, r.lease()).catch((error: unknown) => this.o.log.warn(`recording the handover of operation ${id} failed: ${(error as Error).message}`));
      await releaseLease(this.db, r.lease()).catch(() => undefined);
    }));
  }

  /** Under the operation's lease (still this replica's), counts its run as handed over; audited. */
  private async recordHandover(id: string, lease: Lease): Promise<void> {
    await this.o.audit.transaction(this.db, async (trx, audit) => {
      await assertLease(trx, lease);
      const row = await trx
        .updateTable('svapp_operations')
        .set({handovers: sql<number>`handovers + 1`, last_handover_attempt: sql<number>`attempts`})
        .where('id', '=', id)
        .where('state', '=', 'running')
        .where('runner', '=', this.o.replica)
        .returning('attempts')
        .executeTakeFirst();
      if (row) await audit({event: 'operation.handed-over', operation: id, replica: this.o.replica, attempt: row.attempts});
    });
  }

  /** For tests: waits until nothing runs here. */
  async idle(): Promise<void> {
    await Promise.all([...this.#running.values()].map((r) => r.done.catch(() => undefined)));
  }
}

export type {OperationState};
