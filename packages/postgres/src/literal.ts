import pg from 'pg';

/**
 * A value as an SQL literal ('...' with quotes doubled, E'...' when it holds a backslash), for the
 * few statements sent as one text in a single round trip (the simple query protocol takes no
 * parameters). Everything else uses parameters.
 */
export function escapeLiteral(value: string): string {
  return pg.escapeLiteral(value);
}

/** escapeLiteral, and SQL's null for a missing value. */
export function escapeNullable(value: string | null | undefined): string {
  return value === null || value === undefined ? 'null' : pg.escapeLiteral(value);
}

/** A name as an SQL identifier ("..." with quotes doubled). */
export function escapeIdentifier(name: string): string {
  return pg.escapeIdentifier(name);
}
