import {type Kysely, type Transaction} from 'kysely';

export type Isolation = 'serializable' | 'repeatable read' | 'read committed';

export interface TransactionOptions {
  isolation?: Isolation;
  /** Attempts in all (default 5); serialization failures and deadlocks are retried. */
  attempts?: number;
  /** Told about each retry (for a log line or a metric). */
  onRetry?: (attempt: number, code: string) => void;
}

/** SQLSTATEs after which running the whole transaction again is correct. */
const RETRYABLE = new Set(['40001', '40P01']);

export function isRetryable(error: unknown): boolean {
  return RETRYABLE.has((error as {code?: string})?.code ?? '');
}

/**
 * Runs `fn` in a transaction (SERIALIZABLE by default) and retries the whole function on a
 * serialization failure (40001) or deadlock (40P01), with a jittered backoff. `fn` must do
 * nothing outside the transaction that cannot be repeated (sign after commit, not inside).
 */
export async function inTransaction<DB, T>(db: Kysely<DB>, fn: (trx: Transaction<DB>) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return await db
        .transaction()
        .setIsolationLevel(options.isolation ?? 'serializable')
        .execute(fn);
    } catch (error) {
      if (!isRetryable(error) || attempt >= attempts) throw error;
      options.onRetry?.(attempt, (error as {code: string}).code);
      await new Promise((r) => setTimeout(r, Math.random() * 10 * 2 ** attempt));
    }
  }
}
