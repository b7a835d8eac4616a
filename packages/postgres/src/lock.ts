import {createHash} from 'node:crypto';
import {type Kysely, sql, type Transaction} from 'kysely';
import {inTransaction, type TransactionOptions} from './transaction.js';

/** Another process holds the lock (only with `wait: false`). */
export class LockBusyError extends Error {
  override readonly name = 'LockBusyError';
  constructor(readonly key: string) {
    super(`${key} is being changed by another process; try again`);
  }
}

/** The 64-bit advisory lock id of a name (first 8 bytes of its SHA-256, signed). */
export function lockId(key: string): bigint {
  return createHash('sha256').update(key).digest().readBigInt64BE(0);
}

/**
 * "One writer at a time" for `key` (e.g. "crl:<issuer>", "krl"): runs `fn` in a transaction that
 * first takes pg_advisory_xact_lock, so writers on every replica queue up, and the lock is
 * released by commit or rollback, also when the process dies. `wait: false` fails with
 * LockBusyError instead of queueing.
 */
export async function withAdvisoryLock<DB, T>(db: Kysely<DB>, key: string, fn: (trx: Transaction<DB>) => Promise<T>, options: TransactionOptions & {wait?: boolean} = {}): Promise<T> {
  const id = lockId(key);
  return inTransaction(
    db,
    async (trx) => {
      if (options.wait === false) {
        const {rows} = await sql<{locked: boolean}>`select pg_try_advisory_xact_lock(${id}) as locked`.execute(trx);
        if (!rows[0]?.locked) throw new LockBusyError(key);
      } else {
        await sql`select pg_advisory_xact_lock(${id})`.execute(trx);
      }
      return fn(trx);
    },
    {isolation: 'read committed', ...options},
  );
}
