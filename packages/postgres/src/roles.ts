import {type Kysely, sql} from 'kysely';
import {scramVerifier} from './scram.js';

export type TablePrivilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';

/**
 * The role the application connects as at run time: LOGIN, and nothing else (no superuser, no
 * CREATEDB/CREATEROLE, no CREATE in the schema). The tables belong to the role that runs the
 * migrations; `grantTables` gives this role exactly what it needs (the audit table: SELECT and
 * INSERT only). The password is sent as a SCRAM-SHA-256 verifier computed here, so the
 * plaintext never reaches the server's statement log.
 */
export async function ensureApplicationRole(db: Kysely<any>, options: {role: string; password: string; schema?: string}): Promise<void> {
  const role = sql.id(options.role);
  const verifier = sql.lit(scramVerifier(options.password));
  const exists = await sql<{n: number}>`select count(*)::int as n from pg_roles where rolname = ${options.role}`.execute(db);
  if (exists.rows[0]!.n === 0) {
    await sql`create role ${role} login nosuperuser nocreatedb nocreaterole noinherit password ${verifier}`.execute(db);
  } else {
    await sql`alter role ${role} login nosuperuser nocreatedb nocreaterole noinherit password ${verifier}`.execute(db);
  }
  const schema = sql.id(options.schema ?? 'public');
  const database = (await sql<{db: string}>`select current_database() as db`.execute(db)).rows[0]!.db;
  await sql`grant connect on database ${sql.id(database)} to ${role}`.execute(db);
  await sql`grant usage on schema ${schema} to ${role}`.execute(db);
  await sql`revoke create on schema ${schema} from ${role}`.execute(db);
}

/** Sets the role's privileges on each table to exactly those listed (revoke all, then grant). */
export async function grantTables(db: Kysely<any>, role: string, grants: Record<string, readonly TablePrivilege[]>): Promise<void> {
  for (const [table, privileges] of Object.entries(grants)) {
    await sql`revoke all on table ${sql.table(table)} from ${sql.id(role)}`.execute(db);
    if (privileges.length > 0) await sql`grant ${sql.raw(privileges.map(assertPrivilege).join(', '))} on table ${sql.table(table)} to ${sql.id(role)}`.execute(db);
  }
}

function assertPrivilege(p: string): string {
  if (!['SELECT', 'INSERT', 'UPDATE', 'DELETE'].includes(p)) throw new Error(`not a table privilege: ${p}`);
  return p;
}
