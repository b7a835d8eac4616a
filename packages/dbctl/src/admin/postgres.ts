import {readFileSync} from 'node:fs';
import {BclError, conflict, denied, ExitCode, invalidInput, operationFailed, unavailable} from '@bcl/core';
import type {Client, ClientConfig} from 'pg';
import {POSTGRES_PROFILES} from '../spec/profiles.js';
import type {AccessProfile} from '../spec/schema.js';
import {scramSha256Verifier} from './password.js';
import type {ServerTarget} from './target.js';
import type {AccessFilter, AccessRow, DatabaseAdmin, DropUserOptions} from './types.js';

type PgModule = typeof import('pg');

/** PostgreSQL administration with node-postgres: one connection per database touched. */
export class PostgresAdmin implements DatabaseAdmin {
  readonly engine = 'postgres' as const;
  private readonly clients = new Map<string, Promise<Client>>();
  private pg: PgModule | undefined;

  constructor(private readonly target: ServerTarget) {}

  private get maintenanceDb(): string {
    return this.target.database ?? 'postgres';
  }

  private async client(database = this.maintenanceDb): Promise<Client> {
    let pending = this.clients.get(database);
    if (!pending) {
      pending = this.connect(database);
      this.clients.set(database, pending);
      pending.catch(() => this.clients.delete(database));
    }
    return pending;
  }

  private async connect(database: string): Promise<Client> {
    this.pg ??= ((await import('pg')) as unknown as {default: PgModule}).default;
    const base: ClientConfig = {
      host: this.target.host,
      port: this.target.port,
      user: this.target.user,
      password: this.target.password,
      database,
      connectionTimeoutMillis: 15_000,
      application_name: 'dbctl',
    };
    const attempt = async (ssl: ClientConfig['ssl']) => {
      const client = new this.pg!.Client({...base, ssl});
      client.on('error', () => undefined);
      await client.connect();
      return client;
    };
    const tls = this.target.tls;
    try {
      if (tls === 'disable') return await attempt(false);
      if (tls === 'verify-full') return await attempt({rejectUnauthorized: true, ...(this.target.caFile ? {ca: readFileSync(this.target.caFile, 'utf8')} : {})});
      try {
        return await attempt({rejectUnauthorized: false});
      } catch (error) {
        // "prefer": a server without TLS is accepted, as libpq does.
        if (tls === 'prefer' && /does not support SSL/i.test((error as Error).message)) return await attempt(false);
        throw error;
      }
    } catch (error) {
      throw pgError(error, `connecting to ${this.target.label} as ${this.target.user} (database ${database})`);
    }
  }

  private async query<R extends Record<string, unknown>>(database: string | undefined, sql: string, params: unknown[] = []): Promise<R[]> {
    const client = await this.client(database);
    try {
      return (await client.query(sql, params)).rows as R[];
    } catch (error) {
      throw pgError(error, `on ${this.target.label}`);
    }
  }

  /** Runs statements in one transaction on a database: all of them take effect, or none. */
  private async transaction<T>(database: string, body: (run: (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>) => Promise<T>): Promise<T> {
    const client = await this.client(database);
    await client.query('BEGIN');
    try {
      const result = await body(async (sql, params = []) => (await client.query(sql, params)).rows);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw pgError(error, `on ${this.target.label}, database ${database} (nothing was changed)`);
    }
  }

  async serverVersion(): Promise<string> {
    const rows = await this.query<{v: string}>(undefined, 'SHOW server_version');
    return rows[0]?.v ?? 'unknown';
  }

  async createDatabase(name: string, owner?: string): Promise<{created: boolean}> {
    const exists = await this.query(undefined, 'SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.length === 0) {
      // CREATE DATABASE cannot run in a transaction: borrowing the owner's role is undone in finally.
      const client = await this.client();
      const release = await borrowRoles(async (sql, params = []) => (await client.query(sql, params)).rows, owner ? [owner] : []);
      try {
        await this.query(undefined, `CREATE DATABASE ${quoteIdent(name)}${owner ? ` OWNER ${quoteIdent(owner)}` : ''}`);
      } catch (error) {
        if ((error as BclError).details && ((error as BclError).details as {sqlState?: string}).sqlState === '42P04') return {created: false};
        throw error;
      } finally {
        await release().catch(() => undefined);
      }
      // Least privilege: only roles granted CONNECT may use the database (PUBLIC has it by default).
      await this.query(undefined, `REVOKE ALL ON DATABASE ${quoteIdent(name)} FROM PUBLIC`);
      return {created: true};
    }
    if (owner) await this.query(undefined, `ALTER DATABASE ${quoteIdent(name)} OWNER TO ${quoteIdent(owner)}`);
    return {created: false};
  }

  async dropDatabase(name: string, force = false): Promise<{dropped: boolean}> {
    const exists = await this.query(undefined, 'SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.length === 0) return {dropped: false};
    await this.closeClient(name);
    try {
      await this.query(undefined, `DROP DATABASE ${quoteIdent(name)}${force ? ' WITH (FORCE)' : ''}`);
    } catch (error) {
      if (/being accessed by other users/.test((error as Error).message)) {
        throw conflict('dbctl.database_in_use', `database "${name}" is in use by other sessions`, {hint: 'Stop the clients, or pass --force to terminate their sessions.', details: {database: name}});
      }
      throw error;
    }
    return {dropped: true};
  }

  async createSchema(database: string, name: string, owner?: string): Promise<{created: boolean}> {
    await this.requireDatabase(database);
    return this.transaction(database, async (run) => {
      const exists = await run('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name]);
      const release = await borrowRoles(run, owner ? [owner] : []);
      if (exists.length === 0) await run(`CREATE SCHEMA ${quoteIdent(name)}${owner ? ` AUTHORIZATION ${quoteIdent(owner)}` : ''}`);
      else if (owner) await run(`ALTER SCHEMA ${quoteIdent(name)} OWNER TO ${quoteIdent(owner)}`);
      await release();
      return {created: exists.length === 0};
    });
  }

  async dropSchema(database: string, name: string, cascade: boolean): Promise<{dropped: boolean}> {
    await this.requireDatabase(database);
    return this.transaction(database, async (run) => {
      const exists = await run('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name]);
      if (exists.length === 0) return {dropped: false};
      if (!cascade) {
        const objects = await run(`SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1`, [name]);
        const n = Number(objects[0]?.n ?? 0);
        if (n > 0) {
          throw conflict('dbctl.schema_not_empty', `schema "${name}" in database "${database}" holds ${n} object(s)`, {
            hint: 'Pass --cascade to drop them with the schema.',
            details: {database, schema: name, objects: n},
          });
        }
      }
      await run(`DROP SCHEMA ${quoteIdent(name)}${cascade ? ' CASCADE' : ' RESTRICT'}`);
      return {dropped: true};
    });
  }

  async userExists(name: string): Promise<boolean> {
    return (await this.query(undefined, 'SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).length > 0;
  }

  async createUser(name: string, password: string): Promise<void> {
    await this.query(undefined, `CREATE ROLE ${quoteIdent(name)} LOGIN PASSWORD ${quoteLiteral(scramSha256Verifier(password))}`);
  }

  async setPassword(user: string, password: string): Promise<void> {
    await this.requireUser(user);
    await this.query(undefined, `ALTER ROLE ${quoteIdent(user)} PASSWORD ${quoteLiteral(scramSha256Verifier(password))}`);
  }

  async applyProfile(user: string, profile: AccessProfile, database: string, schemas?: string[]): Promise<{schemas: string[]}> {
    await this.requireUser(user);
    await this.requireDatabase(database);
    const grants = POSTGRES_PROFILES[profile];
    return this.transaction(database, async (run) => {
      const targets = await this.schemasIn(run, database, schemas);
      const release = await borrowRoles(run, await rolesActingIn(run, targets, user));
      await run(`REVOKE ALL ON DATABASE ${quoteIdent(database)} FROM ${quoteIdent(user)}`);
      await run(`GRANT ${grants.database.join(', ')} ON DATABASE ${quoteIdent(database)} TO ${quoteIdent(user)}`);
      for (const schema of targets) {
        await revokeInSchema(run, user, schema);
        await run(`GRANT ${grants.schema.join(', ')} ON SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(user)}`);
        await run(`GRANT ${grants.tables.join(', ')} ON ALL TABLES IN SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(user)}`);
        await run(`GRANT ${grants.sequences.join(', ')} ON ALL SEQUENCES IN SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(user)}`);
        // Tables created later by any role that can create here must be readable too.
        for (const creator of await creatorsOf(run, schema)) {
          if (creator === user) continue;
          await run(`ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(creator)} IN SCHEMA ${quoteIdent(schema)} GRANT ${grants.tables.join(', ')} ON TABLES TO ${quoteIdent(user)}`);
          await run(`ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(creator)} IN SCHEMA ${quoteIdent(schema)} GRANT ${grants.sequences.join(', ')} ON SEQUENCES TO ${quoteIdent(user)}`);
        }
        if (profile === 'owner') {
          // The user now creates objects here: the others get on its tables what they get on the administrator's.
          const mirrored = await run(
            `SELECT r.rolname AS grantee, d.defaclobjtype AS kind, array_agg(a.privilege_type ORDER BY a.privilege_type) AS privileges
               FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace
               CROSS JOIN LATERAL aclexplode(d.defaclacl) a JOIN pg_roles r ON r.oid = a.grantee
              WHERE n.nspname = $1 AND d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = current_user) AND r.rolname <> $2
                AND d.defaclobjtype IN ('r', 'S')
              GROUP BY r.rolname, d.defaclobjtype`,
            [schema, user],
          );
          for (const row of mirrored) {
            const kind = row.kind === 'r' ? 'TABLES' : 'SEQUENCES';
            await run(`ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(user)} IN SCHEMA ${quoteIdent(schema)} GRANT ${(row.privileges as string[]).join(', ')} ON ${kind} TO ${quoteIdent(String(row.grantee))}`);
          }
        }
      }
      await release();
      return {schemas: targets};
    });
  }

  async revokeAccess(user: string, database: string, schemas?: string[]): Promise<{schemas: string[]}> {
    await this.requireUser(user);
    await this.requireDatabase(database);
    return this.transaction(database, async (run) => {
      const targets = await this.schemasIn(run, database, schemas);
      const release = await borrowRoles(run, await rolesActingIn(run, targets, user));
      for (const schema of targets) await revokeInSchema(run, user, schema);
      if (!schemas) await run(`REVOKE ALL ON DATABASE ${quoteIdent(database)} FROM ${quoteIdent(user)}`);
      await release();
      return {schemas: targets};
    });
  }

  async dropUser(name: string, options: DropUserOptions): Promise<{dropped: boolean; reassigned: number; droppedObjects: number}> {
    if (!(await this.userExists(name))) return {dropped: false, reassigned: 0, droppedObjects: 0};
    if (options.reassignTo && !(await this.userExists(options.reassignTo))) {
      throw invalidInput('dbctl.unknown_role', `--reassign-to: role "${options.reassignTo}" does not exist`, {details: {flag: '--reassign-to'}});
    }
    // pg_shdepend knows, across databases, what a role owns (o) and where it holds privileges (a).
    const deps = await this.query<{datname: string | null; owned: number; acl: number}>(
      undefined,
      `SELECT d.datname, count(*) FILTER (WHERE s.deptype = 'o')::int AS owned, count(*) FILTER (WHERE s.deptype IN ('a', 'i', 'r'))::int AS acl
         FROM pg_shdepend s LEFT JOIN pg_database d ON d.oid = s.dbid
        WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = (SELECT oid FROM pg_roles WHERE rolname = $1)
        GROUP BY d.datname`,
      [name],
    );
    const owned = deps.reduce((n, d) => n + d.owned, 0);
    const ownedDatabases = deps.find((d) => d.datname === null)?.owned ?? 0;
    if (owned > 0 && !options.reassignTo && !options.dropOwned) {
      const where = deps.filter((d) => d.owned > 0).map((d) => (d.datname === null ? `${d.owned} database(s)` : `${d.owned} in ${d.datname}`));
      throw conflict('dbctl.role_owns_objects', `role "${name}" owns objects (${where.join(', ')}); dropping it would fail or lose them`, {
        hint: 'Pass --reassign-to <role> to give them to another role, or --drop-owned to delete them.',
        details: {user: name, owned: deps},
      });
    }
    if (ownedDatabases > 0 && !options.reassignTo) {
      throw conflict('dbctl.role_owns_databases', `role "${name}" owns ${ownedDatabases} database(s), which --drop-owned does not delete`, {
        hint: 'Pass --reassign-to <role>, or drop those databases first with dbctl db drop.',
      });
    }
    const databases = deps.map((d) => d.datname).filter((d): d is string => d !== null);
    if (!databases.includes(this.maintenanceDb)) databases.push(this.maintenanceDb);
    for (const database of databases) {
      await this.transaction(database, async (run) => {
        const release = await borrowRoles(run, [name, ...(options.reassignTo ? [options.reassignTo] : [])]);
        if (options.reassignTo) await run(`REASSIGN OWNED BY ${quoteIdent(name)} TO ${quoteIdent(options.reassignTo)}`);
        // Drops the remaining privileges and default privileges (and owned objects, if any are left).
        await run(`DROP OWNED BY ${quoteIdent(name)}`);
        await release();
      });
    }
    await this.query(undefined, `DROP ROLE ${quoteIdent(name)}`);
    return {dropped: true, reassigned: options.reassignTo ? owned : 0, droppedObjects: options.reassignTo ? 0 : owned};
  }

  async listAccess(filter: AccessFilter): Promise<AccessRow[]> {
    const dbs = await this.query<{datname: string}>(
      undefined,
      `SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ${filter.database ? 'AND datname = $1' : ''} ORDER BY datname`,
      filter.database ? [filter.database] : [],
    );
    if (filter.database && dbs.length === 0) {
      throw invalidInput('dbctl.unknown_database', `--database: database "${filter.database}" does not exist on ${this.target.label}`, {details: {flag: '--database'}});
    }
    const rows: AccessRow[] = [];
    const roleRows = await this.query<{rolname: string; attrs: string[]; member_of: string | null; admin: boolean | null}>(
      undefined,
      `SELECT r.rolname,
              array_remove(ARRAY[CASE WHEN r.rolsuper THEN 'SUPERUSER' END, CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END,
                                  CASE WHEN r.rolcreatedb THEN 'CREATEDB' END, CASE WHEN r.rolreplication THEN 'REPLICATION' END,
                                  CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END], NULL) AS attrs,
              g.rolname AS member_of, m.admin_option AS admin
         FROM pg_roles r LEFT JOIN pg_auth_members m ON m.member = r.oid LEFT JOIN pg_roles g ON g.oid = m.roleid
        WHERE r.rolname !~ '^pg_'`,
    );
    const groups = new Map<string, string[]>();
    const seenAttrs = new Set<string>();
    for (const r of roleRows) {
      if (r.attrs.length > 0 && !seenAttrs.has(r.rolname)) {
        seenAttrs.add(r.rolname);
        rows.push({user: r.rolname, database: null, schema: null, object: 'server', privileges: r.attrs});
      }
      if (r.member_of && !r.member_of.startsWith('pg_')) {
        groups.set(r.rolname, [...(groups.get(r.rolname) ?? []), r.member_of]);
        rows.push({user: r.rolname, database: null, schema: null, object: `role ${r.member_of}`, privileges: r.admin ? ['MEMBER', 'ADMIN'] : ['MEMBER']});
      }
    }
    for (const {datname} of dbs) {
      const found = await this.query<{grantee: string; schema: string | null; object: string; privileges: string[]}>(datname, ACCESS_SQL);
      for (const r of found) rows.push({user: r.grantee, database: datname, schema: r.schema, object: r.object, privileges: r.privileges});
    }
    if (!filter.user) return rows;
    // With --user, also what the user holds through the roles it is a member of.
    const via = new Map<string, string>();
    const walk = (role: string, through: string) => {
      for (const g of groups.get(role) ?? []) {
        if (via.has(g) || g === filter.user) continue;
        via.set(g, through);
        walk(g, through);
      }
    };
    for (const g of groups.get(filter.user) ?? []) {
      via.set(g, g);
      walk(g, g);
    }
    return rows
      .filter((r) => r.user === filter.user || (via.has(r.user) && r.database !== null))
      .map((r) => (r.user === filter.user ? r : {...r, user: filter.user!, via: r.user}));
  }

  async close(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.end().catch(() => undefined)));
  }

  private async closeClient(database: string): Promise<void> {
    const pending = this.clients.get(database);
    this.clients.delete(database);
    await (await pending?.catch(() => undefined))?.end().catch(() => undefined);
  }

  private async requireUser(user: string): Promise<void> {
    if (!(await this.userExists(user))) {
      throw invalidInput('dbctl.unknown_user', `user "${user}" does not exist on ${this.target.label}`, {
        hint: 'Create it with dbctl user create.',
        details: {user},
      });
    }
  }

  private async requireDatabase(database: string): Promise<void> {
    const rows = await this.query(undefined, 'SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rows.length === 0) {
      throw invalidInput('dbctl.unknown_database', `database "${database}" does not exist on ${this.target.label}`, {
        hint: 'Create it with dbctl db create.',
        details: {database},
      });
    }
  }

  private async schemasIn(run: (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>, database: string, wanted?: string[]): Promise<string[]> {
    const rows = await run(`SELECT nspname FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' ORDER BY nspname`);
    const all = rows.map((r) => String(r.nspname));
    if (!wanted || wanted.length === 0) return all;
    const missing = wanted.filter((s) => !all.includes(s));
    if (missing.length > 0) {
      throw invalidInput('dbctl.unknown_schema', `--schema: schema "${missing[0]}" does not exist in database "${database}" (it has: ${all.join(', ')})`, {
        hint: 'Create it with dbctl schema create.',
        details: {flag: '--schema', database, missing},
      });
    }
    return wanted;
  }
}

type Run = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

/** Everything `user` holds in a schema: on the schema, its tables and sequences, and default privileges from any grantor. */
async function revokeInSchema(run: Run, user: string, schema: string): Promise<void> {
  await run(`REVOKE ALL ON ALL TABLES IN SCHEMA ${quoteIdent(schema)} FROM ${quoteIdent(user)}`);
  await run(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${quoteIdent(schema)} FROM ${quoteIdent(user)}`);
  await run(`REVOKE ALL ON SCHEMA ${quoteIdent(schema)} FROM ${quoteIdent(user)}`);
  const grantors = await run(
    `SELECT DISTINCT pg_get_userbyid(d.defaclrole) AS grantor
       FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace CROSS JOIN LATERAL aclexplode(d.defaclacl) a
      WHERE n.nspname = $1 AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = $2)`,
    [schema, user],
  );
  for (const g of grantors) {
    const grantor = String(g.grantor);
    await run(`ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(grantor)} IN SCHEMA ${quoteIdent(schema)} REVOKE ALL ON TABLES FROM ${quoteIdent(user)}`);
    await run(`ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(grantor)} IN SCHEMA ${quoteIdent(schema)} REVOKE ALL ON SEQUENCES FROM ${quoteIdent(user)}`);
  }
}

/**
 * Cloud administrators (Cloud SQL, RDS) are not superusers: to grant on objects, set default
 * privileges for, or reassign from another role, they must be members of it. Membership in each
 * role that is needed and not held is granted for the transaction and revoked before it commits
 * (as the Terraform provider does); a superuser needs none.
 */
async function borrowRoles(run: Run, roles: string[]): Promise<() => Promise<void>> {
  const me = await run('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
  if (me[0]?.rolsuper === true || roles.length === 0) return async () => undefined;
  const granted: string[] = [];
  for (const role of [...new Set(roles)]) {
    const rows = await run(`SELECT pg_has_role(current_user, oid, 'MEMBER') AS member, rolsuper FROM pg_roles WHERE rolname = $1 AND rolname <> current_user AND rolname !~ '^pg_'`, [role]);
    const row = rows[0];
    if (!row || row.member === true || row.rolsuper === true) continue;
    await run(`GRANT ${quoteIdent(role)} TO CURRENT_USER`);
    granted.push(role);
  }
  return async () => {
    for (const role of granted.reverse()) await run(`REVOKE ${quoteIdent(role)} FROM CURRENT_USER`);
  };
}

/** The roles whose authority a profile change in these schemas acts with: owners, creators, grantors, the database owner, the user. */
async function rolesActingIn(run: Run, schemas: string[], user: string): Promise<string[]> {
  const rows = await run(
    `SELECT pg_get_userbyid(c.relowner) AS r FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1)
     UNION SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = ANY($1)
     UNION SELECT g.rolname FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a JOIN pg_roles g ON g.oid = a.grantee
            WHERE n.nspname = ANY($1) AND a.privilege_type = 'CREATE'
     UNION SELECT pg_get_userbyid(d.defaclrole) FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace WHERE n.nspname = ANY($1)
     UNION SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()
     UNION SELECT $2::text`,
    [schemas, user],
  );
  return rows.map((r) => String(r.r));
}

/** The roles that can create objects in a schema: its owner, the database owner, holders of CREATE, and the administrator. */
async function creatorsOf(run: Run, schema: string): Promise<string[]> {
  const rows = await run(
    `SELECT r.rolname FROM pg_namespace n CROSS JOIN LATERAL aclexplode(COALESCE(n.nspacl, acldefault('n', n.nspowner))) a
       JOIN pg_roles r ON r.oid = a.grantee WHERE n.nspname = $1 AND a.privilege_type = 'CREATE'
     UNION SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = $1
     UNION SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()
     UNION SELECT current_user::text`,
    [schema],
  );
  return [...new Set(rows.map((r) => String(r.rolname)))].filter((r) => !r.startsWith('pg_')).sort();
}

/** Who holds what in the current database: the database itself, schemas, tables, sequences and default privileges. */
const ACCESS_SQL = `
WITH grantees AS (SELECT oid, rolname FROM pg_roles UNION ALL SELECT 0, 'PUBLIC'),
acl AS (
  SELECT NULL::name AS schema, 'database' AS object, a.grantee, a.privilege_type
    FROM pg_database d CROSS JOIN LATERAL aclexplode(COALESCE(d.datacl, acldefault('d', d.datdba))) a WHERE d.datname = current_database()
  UNION ALL
  SELECT n.nspname, 'schema', a.grantee, a.privilege_type
    FROM pg_namespace n CROSS JOIN LATERAL aclexplode(COALESCE(n.nspacl, acldefault('n', n.nspowner))) a
   WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  UNION ALL
  SELECT n.nspname, CASE WHEN c.relkind = 'S' THEN 'sequence ' ELSE 'table ' END || c.relname, a.grantee, a.privilege_type
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    CROSS JOIN LATERAL aclexplode(COALESCE(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  UNION ALL
  SELECT n.nspname,
         'default privileges on ' || CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' ELSE 'schemas' END
           || ' (created by ' || pg_get_userbyid(d.defaclrole) || ')',
         a.grantee, a.privilege_type
    FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace CROSS JOIN LATERAL aclexplode(d.defaclacl) a
)
SELECT g.rolname AS grantee, acl.schema, acl.object, array_agg(DISTINCT acl.privilege_type ORDER BY acl.privilege_type) AS privileges
  FROM acl JOIN grantees g ON g.oid = acl.grantee
 WHERE g.rolname !~ '^pg_'
 GROUP BY g.rolname, acl.schema, acl.object
 ORDER BY g.rolname, acl.schema NULLS FIRST, acl.object`;

/** A quoted identifier: "name" with embedded quotes doubled, so no name can break out of it. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A quoted string literal ('' doubled; backslashes are plain characters with standard_conforming_strings, the default since 9.1). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Turns a node-postgres error into a BclError with the right exit code, naming what was attempted. */
export function pgError(error: unknown, context: string): BclError {
  if (error instanceof BclError) return error;
  const e = error as {code?: string; message?: string};
  const message = `${e.message ?? String(error)} (${context})`;
  const details = {sqlState: e.code};
  switch (e.code) {
    case '28P01':
    case '28000':
      return denied('dbctl.auth_failed', message, {hint: 'Check the user and password of the connection.', details});
    case '42501':
      return denied('dbctl.permission_denied', message, {hint: 'The administrative user lacks a privilege for this operation.', details});
    case '42704':
    case '3D000':
    case '3F000':
      return invalidInput('dbctl.not_found', message, {details});
    case '2BP01':
      return conflict('dbctl.dependent_objects', message, {hint: 'Other objects depend on it; reassign or drop them first.', details});
    case '42P04':
    case '42710':
      return conflict('dbctl.already_exists', message, {details});
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
      return unavailable('dbctl.unreachable', message, {hint: 'Check the host and port, and that the server is running.', details});
    default:
      if (/timeout|terminated unexpectedly|ECONNRESET/i.test(message)) return unavailable('dbctl.unreachable', message, {details});
      if (e.code && /^[0-9A-Z]{5}$/.test(e.code)) return operationFailed('dbctl.sql_failed', message, {details});
      return new BclError('dbctl.unexpected', message, ExitCode.unexpected, {cause: error, details});
  }
}
