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
