// The store's errors, apart from the stores: the command line maps them to exit codes without
// loading a database driver.

/** The database cannot be used: unreachable, refused the credentials, or its schema is not this version's. */
export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
  constructor(
    message: string,
    /** unavailable: not reachable now; schema: the schema needs `cssh-authz db migrate`. */
    readonly kind: 'unavailable' | 'schema',
  ) {
    super(message);
  }
}

/** `db import` into a database that already holds state: it would mix two histories. */
export class NotEmptyError extends Error {
  override readonly name = 'NotEmptyError';
}

/**
 * Whether a store operation failed because the database cannot be reached now (refused, cut,
 * timed out, shutting down), as opposed to a bug or bad data: callers answer 503, not 500.
 */
export function isStoreUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseError) return error.kind === 'unavailable';
  const e = error as {code?: unknown; message?: unknown} | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  // Node's socket errors, and PostgreSQL's classes 08 (connection) and 57P (operator intervention).
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|ENOTFOUND|EAI_AGAIN)$/.test(code) || /^(08|57P)/.test(code)) return true;
  return typeof e?.message === 'string' && /timeout exceeded when trying to connect|Connection terminated|connection to the server was lost/i.test(e.message);
}
