import type {AuditRecord} from './chain.js';
import type {PostgresAuditLog} from './postgres.js';

/** One connection of a pg pool (`pool.connect()`), not shared while a batch uses it. */
export interface BatchClient {
  query(text: string): Promise<unknown>;
  release(destroy?: Error | boolean): void;
}

export interface GroupCommitOptions<T> {
  pool: {connect(): Promise<BatchClient>};
  audit: PostgresAuditLog;
  /**
   * The statements that commit a batch's items with its audit entries (values inlined with
   * escapeLiteral), or '' when none; what must hold is checked by a statement that raises.
   */
  statements: (items: readonly T[]) => string;
  /** The most writes in one transaction (default 200). */
  maxBatch?: number;
}

interface Pending<T> {
  item: T | undefined;
  record: AuditRecord;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Group commit: the writes (an item and its audit entry, or an audit entry alone) that arrive
 * while a batch is committing wait and go together in the next one, in one transaction sent as
 * one text (PostgresAuditLog.commitBatch). Each writer is answered after its batch commits, or
 * gets its error. One batch in flight per process: the audit chain's head serializes them anyway,
 * and one lets the next batch grow.
 */
export class GroupCommit<T> {
  #queue: Pending<T>[] = [];
  #writing = false;
  #drained: (() => void) | undefined;

  constructor(private readonly options: GroupCommitOptions<T>) {}

  /** Resolves once `item` and `record` are committed. */
  write(record: AuditRecord, item?: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({item, record, resolve, reject});
      this.#flush();
    });
  }

  /** Resolves when nothing is queued or committing (on a clean stop). */
  drain(): Promise<void> {
    if (this.#queue.length === 0 && !this.#writing) return Promise.resolve();
    return new Promise<void>((resolve) => (this.#drained = resolve));
  }

  #flush(): void {
    if (this.#writing || this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, this.options.maxBatch ?? 200);
    this.#writing = true;
    this.#commit(batch).then(
      () => batch.forEach((p) => p.resolve()),
      (error: unknown) => batch.forEach((p) => p.reject(error)),
    ).finally(() => {
      this.#writing = false;
      if (this.#queue.length > 0) this.#flush();
      else this.#drained?.();
    });
  }

  async #commit(batch: readonly Pending<T>[]): Promise<void> {
    const items = batch.flatMap((p) => (p.item === undefined ? [] : [p.item]));
    const statements = items.length > 0 ? this.options.statements(items) : '';
    const client = await this.options.pool.connect();
    let broken: Error | undefined;
    try {
      await this.options.audit.commitBatch(client, statements, batch.map((p) => p.record));
    } catch (error) {
      // An error without a SQLSTATE is the connection itself: the pool must not hand it out again.
      if (!(error as {code?: string}).code) broken = error as Error;
      throw error;
    } finally {
      client.release(broken);
    }
  }
}
