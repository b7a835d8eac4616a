/**
 * What a database, schema or role name may be, per engine: the one check that the spec schema and
 * every administration command run before anything reaches a server. Without it PostgreSQL
 * silently truncates long names (so two names reach one object), MariaDB takes '' for the
 * anonymous account, and reserved names come back from the server as a failed statement.
 *
 * Limits (each server's own error when exceeded, measured on PostgreSQL 15 and MariaDB 10.11):
 * - PostgreSQL: 63 bytes (NAMEDATALEN 64, counted in the UTF-8 bytes of the name); role names
 *   starting with "pg_" and the roles "public" and "none" are reserved; schema names starting
 *   with "pg_" are reserved.
 * - MySQL and MariaDB: database names at most 64 characters and not ending with a space; user
 *   names at most 32 characters on MySQL 5.7.8 and later (16 before), 80 on MariaDB 10.0-10.5 and
 *   128 on MariaDB 10.6 and later; no character beyond U+FFFF (identifiers are utf8mb3).
 * No engine accepts an empty name or a NUL character in one.
 */

export type IdentifierKind = 'database' | 'schema' | 'role';
export type Engine = 'postgres' | 'mysql';

/** The server behind engine "mysql", once known: MySQL or MariaDB, and its version. */
export interface MysqlServer {
  flavor: 'mysql' | 'mariadb';
  version: string;
}

export const POSTGRES_MAX_BYTES = 63;
export const MYSQL_MAX_DATABASE_CHARS = 64;

/**
 * The longest user name a MySQL-family server takes. Without a known server: `portable` (a spec,
 * which may move between a local server, Cloud SQL and RDS) is MySQL's 32; otherwise the largest
 * any supported server takes, and the server's exact limit is checked once it is known.
 */
export function mysqlUserLimit(server: MysqlServer | 'portable' | undefined): number {
  if (server === 'portable') return 32;
  if (!server) return 128;
  const [major = 0, minor = 0, patch = 0] = server.version.split(/[.-]/).map((n) => Number.parseInt(n, 10) || 0);
  const at = (a: number, b: number, c = 0) => major > a || (major === a && (minor > b || (minor === b && patch >= c)));
  if (server.flavor === 'mariadb') return at(10, 6) ? 128 : at(10, 0) ? 80 : 16;
  return at(5, 7, 8) ? 32 : 16;
}

/** Why `name` cannot be a `kind` on `engine`, or undefined when it can. */
export function identifierProblem(name: string, kind: IdentifierKind, engine: Engine, server?: MysqlServer | 'portable'): string | undefined {
  if (name === '') {
    return engine === 'mysql' && kind === 'role'
      ? "an empty name is not allowed (on MySQL and MariaDB '' is the anonymous account, as which any user name logs in)"
      : 'an empty name is not allowed';
  }
  if (name.includes('\u0000')) return 'a name cannot contain a NUL character';
  if (engine === 'postgres') {
    const bytes = Buffer.byteLength(name, 'utf8');
    if (bytes > POSTGRES_MAX_BYTES) {
      return `"${preview(name)}" is ${bytes} bytes long: PostgreSQL keeps only the first ${POSTGRES_MAX_BYTES} bytes of a name, so it would reach a different object (at most ${POSTGRES_MAX_BYTES} bytes; letters outside ASCII take 2-4 bytes each)`;
    }
    if (kind === 'role' && name.startsWith('pg_')) return `"${name}": role names starting with "pg_" are reserved by PostgreSQL`;
    if (kind === 'role' && (name === 'public' || name === 'none')) return `"${name}" is a reserved role name in PostgreSQL`;
    if (kind === 'schema' && name.startsWith('pg_')) return `"${name}": schema names starting with "pg_" are reserved by PostgreSQL`;
    return undefined;
  }
  const chars = [...name];
  if (chars.some((c) => c.codePointAt(0)! > 0xffff)) return `"${preview(name)}" has a character beyond U+FFFF (such as an emoji), which MySQL and MariaDB identifiers cannot hold`;
  if (kind === 'database' || kind === 'schema') {
    if (chars.length > MYSQL_MAX_DATABASE_CHARS) return `"${preview(name)}" is ${chars.length} characters long: MySQL and MariaDB database names have at most ${MYSQL_MAX_DATABASE_CHARS}`;
    if (name.endsWith(' ')) return `"${name}": MySQL and MariaDB database names cannot end with a space`;
    return undefined;
  }
  const limit = mysqlUserLimit(server);
  if (chars.length > limit) {
    const which =
      server === 'portable'
        ? ' (the limit of MySQL 5.7.8 and later, Cloud SQL and RDS included)'
        : server
          ? ` on ${server.flavor === 'mariadb' ? 'MariaDB' : 'MySQL'} ${server.version}`
          : ' on any MySQL or MariaDB server';
    return `"${preview(name)}" is ${chars.length} characters long: user names have at most ${limit} characters${which}`;
  }
  return undefined;
}

function preview(name: string): string {
  const chars = [...name];
  return chars.length > 24 ? `${chars.slice(0, 12).join('')}…${chars.slice(-8).join('')}` : name;
}
