import {Kysely, PostgresDialect} from 'kysely';
import pg from 'pg';

// int8 (bigint) columns as strings would surprise every caller: parse them as BigInt-safe
// strings stay strings, but counts and ids within 2^53 are what servers use; keep pg's default
// (string) and let schemas say `bigint` where it matters.

export interface DatabaseOptions {
  /** postgres://user:password@host:port/database?sslmode=... (a secret: never logged). */
  url: string;
  /** Pool size per process (default 10). */
  max?: number;
  /** Shown in pg_stat_activity, e.g. "svapp". */
  applicationName?: string;
  /** Statement timeout (default 30 s): a stuck query fails instead of holding a request. */
  statementTimeoutMs?: number;
  /**
   * Ends a session that sits in an open transaction this long (default: never), so a process
   * that froze mid-transaction (SIGSTOP, a paused VM) cannot hold its row locks for ever.
   */
  idleInTransactionTimeoutMs?: number;
  /** Connection timeout (default 10 s). */
  connectTimeoutMs?: number;
  /** Where pool errors go (with the URL's password removed). */
  onError?: (message: string) => void;
}

export interface Database<DB> {
  db: Kysely<DB>;
  pool: pg.Pool;
  /** The URL without its password, for logs and messages. */
  describe: string;
  close(): Promise<void>;
}

/**
 * A Kysely instance over a pg pool from a connection string. Nothing here logs the URL or the
 * password; errors name the server by `describe` (postgres://user@host:port/db).
 */
export function openDatabase<DB>(options: DatabaseOptions): Database<DB> {
  const describe = redactUrl(options.url);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'bcl',
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    ...(options.idleInTransactionTimeoutMs ? {idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs} : {}),
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client's error (the server restarted) must not crash the process.
  const reportError = (error: Error) => options.onError?.(`postgres ${describe}: ${redactSecrets(error.message, options.url)}`);
  pool.on('error', reportError);
  // Nor an error a client in use gets between its queries (the pool listens only to idle ones): a
  // session PostgreSQL ends under a frozen process (idle_in_transaction_session_timeout) or an
  // admin's pg_terminate_backend. Its next query fails, and the pool drops it when released.
  pool.on('connect', (client) => client.on('error', reportError));
  const db = new Kysely<DB>({dialect: new PostgresDialect({pool})});
  return {
    db,
    pool,
    describe,
    async close() {
      await db.destroy();
    },
  };
}

/** postgres://user:secret@host/db -> postgres://user@host/db (query parameters dropped too: they may hold passwords). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return 'postgres://(unparsable connection string)';
  }
}

/** Removes the URL's password from a message, in case a driver quotes it. */
export function redactSecrets(message: string, url: string): string {
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password ? message.split(password).join('***') : message;
  } catch {
    return message;
  }
}
