import {readFileSync} from 'node:fs';
import {BclError, conflict, denied, ExitCode, invalidInput, operationFailed, unavailable} from '@bcl/core';
import type {Connection} from 'mysql2/promise';
import type {MysqlServer} from '../identifiers.js';
import {MYSQL_PROFILES} from '../spec/profiles.js';
import type {AccessProfile} from '../spec/schema.js';
import {mysqlNativeHash} from './password.js';
import type {ServerTarget} from './target.js';
import type {AccessFilter, AccessRow, DatabaseAdmin, DropUserOptions} from './types.js';
import {compareAsLocale} from '@bcl/core/text';

/**
 * MySQL and MariaDB administration with mysql2. Accounts are 'name'@'%'. A MySQL database is what
 * PostgreSQL calls a schema, so there are no schemas here; privileges on `db`.* also cover tables
 * created later. MySQL commits each GRANT/REVOKE on its own: a profile change is a short series of
 * statements, each of which is idempotent, so running the command again completes an interrupted one.
 */
export class MysqlAdmin implements DatabaseAdmin {
  readonly engine = 'mysql' as const;
  private connection: Promise<Connection> | undefined;
  private mariadb = false;
  private version = '';

  constructor(
    private readonly target: ServerTarget,
    private readonly accountHost = '%',
  ) {}

  private async conn(): Promise<Connection> {
    this.connection ??= this.connect();
    return this.connection;
  }

  private async connect(): Promise<Connection> {
    const mysql = (await import('mysql2/promise')).default;
    const base = {
      host: this.target.host,
      port: this.target.port,
      user: this.target.user,
      password: this.target.password,
      connectTimeout: 15_000,
      multipleStatements: false,
    };
    const tls = this.target.tls;
    const attempt = (ssl: object | undefined) => mysql.createConnection({...base, ...(ssl ? {ssl} : {})});
    let connection: Connection;
    try {
      if (tls === 'disable') connection = await attempt(undefined);
      else if (tls === 'verify-full') connection = await attempt({rejectUnauthorized: true, ...(this.target.caFile ? {ca: readFileSync(this.target.caFile, 'utf8')} : {})});
      else {
        try {
          connection = await attempt({rejectUnauthorized: false});
        } catch (error) {
          if (tls === 'prefer' && /does not support secure connection|HANDSHAKE_NO_SSL_SUPPORT/i.test(`${(error as {code?: string}).code} ${(error as Error).message}`)) {
            connection = await attempt(undefined);
          } else throw error;
        }
      }
    } catch (error) {
      this.connection = undefined;
      throw mysqlError(error, `connecting to ${this.target.label} as ${this.target.user}`);
    }
    connection.on('error', () => undefined);
    // Literal escaping relies on backslashes: make sure the session treats them as escapes.
    await connection.query("SET SESSION sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')");
    const [rows] = await connection.query('SELECT VERSION() AS v');
    this.version = String((rows as {v: string}[])[0]?.v ?? '');
    this.mariadb = /mariadb/i.test(this.version);
    return connection;
  }

  private async run<R = Record<string, unknown>>(sql: string, values: unknown[] = []): Promise<R[]> {
    const connection = await this.conn();
    try {
      const [rows] = await connection.query(sql, values);
      return (Array.isArray(rows) ? rows : []) as R[];
    } catch (error) {
      throw mysqlError(error, `on ${this.target.label}`);
    }
  }

  async serverVersion(): Promise<string> {
    return String((await this.run<{v: string}>('SELECT VERSION() AS v'))[0]?.v ?? 'unknown');
  }

  async mysqlServer(): Promise<MysqlServer> {
    await this.conn();
    return {flavor: this.mariadb ? 'mariadb' : 'mysql', version: this.version};
  }

  private async databaseExists(name: string): Promise<boolean> {
    return (await this.run('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name])).length > 0;
  }

  async createDatabase(name: string): Promise<{created: boolean}> {
    if (await this.databaseExists(name)) return {created: false};
    await this.run('CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4', [name]);
    return {created: true};
  }

  async dropDatabase(name: string): Promise<{dropped: boolean}> {
    if (!(await this.databaseExists(name))) return {dropped: false};
    await this.run('DROP DATABASE IF EXISTS ??', [name]);
    return {dropped: true};
  }

  async createSchema(): Promise<{created: boolean}> {
    throw noSchemas();
  }

  async dropSchema(): Promise<{dropped: boolean}> {
    throw noSchemas();
  }

  async userExists(name: string): Promise<boolean> {
    return (await this.run('SELECT 1 FROM mysql.user WHERE User = ? AND Host = ?', [name, this.accountHost])).length > 0;
  }

  async createUser(name: string, password: string): Promise<void> {
    if (this.mariadb) await this.run('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [name, this.accountHost, mysqlNativeHash(password)]);
    else await this.run('CREATE USER ?@? IDENTIFIED BY ?', [name, this.accountHost, password]);
  }

  async setPassword(user: string, password: string): Promise<void> {
    await this.requireUser(user);
    if (this.mariadb) await this.run('ALTER USER ?@? IDENTIFIED BY PASSWORD ?', [user, this.accountHost, mysqlNativeHash(password)]);
    else await this.run('ALTER USER ?@? IDENTIFIED BY ?', [user, this.accountHost, password]);
  }

  async applyProfile(user: string, profile: AccessProfile, database: string, schemas?: string[]): Promise<{schemas: string[]}> {
    if (schemas && schemas.length > 0) throw noSchemas('--schema');
    await this.requireUser(user);
    await this.requireDatabase(database);
    await this.revokeOn(user, database);
    await this.run(`GRANT ${MYSQL_PROFILES[profile].join(', ')} ON ${grantTarget(database)} TO ?@?`, [user, this.accountHost]);
    return {schemas: []};
  }

  async revokeAccess(user: string, database: string, schemas?: string[]): Promise<{schemas: string[]}> {
    if (schemas && schemas.length > 0) throw noSchemas('--schema');
    await this.requireUser(user);
    await this.requireDatabase(database);
    await this.revokeOn(user, database);
    return {schemas: []};
  }

  private async revokeOn(user: string, database: string): Promise<void> {
    try {
      await this.run(`REVOKE ALL PRIVILEGES ON ${grantTarget(database)} FROM ?@?`, [user, this.accountHost]);
    } catch (error) {
      // 1141: "There is no such grant defined" — nothing to revoke.
      if ((error as BclError).details && ((error as BclError).details as {errno?: number}).errno === 1141) return;
      throw error;
    }
  }

  async dropUser(name: string, _options: DropUserOptions): Promise<{dropped: boolean; reassigned: number; droppedObjects: number}> {
    if (!(await this.userExists(name))) return {dropped: false, reassigned: 0, droppedObjects: 0};
    await this.run('DROP USER ?@?', [name, this.accountHost]);
    return {dropped: true, reassigned: 0, droppedObjects: 0};
  }

  async listAccess(filter: AccessFilter): Promise<AccessRow[]> {
    if (filter.database && !(await this.databaseExists(filter.database))) {
      throw invalidInput('dbctl.unknown_database', `--database: database "${filter.database}" does not exist on ${this.target.label}`, {details: {flag: '--database'}});
    }
    const rows = new Map<string, AccessRow>();
    const add = (grantee: string, database: string | null, object: string, privilege: string) => {
      const account = parseGrantee(grantee);
      if (!account) return;
      if (filter.user && account.user !== filter.user) return;
      if (filter.database && database !== filter.database) return;
      const key = JSON.stringify([account.user, account.host, database, object]);
      const row = rows.get(key) ?? {user: account.user, host: account.host, database, schema: null, object, privileges: []};
      if (!row.privileges.includes(privilege)) row.privileges.push(privilege);
      rows.set(key, row);
    };
    if (!filter.database) {
      for (const r of await this.run<{GRANTEE: string; PRIVILEGE_TYPE: string}>(`SELECT GRANTEE, PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE <> 'USAGE'`)) {
        add(r.GRANTEE, null, 'server', r.PRIVILEGE_TYPE);
      }
    }
    for (const r of await this.run<{GRANTEE: string; TABLE_SCHEMA: string; PRIVILEGE_TYPE: string}>('SELECT GRANTEE, TABLE_SCHEMA, PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES')) {
      add(r.GRANTEE, unescapeGrantDb(r.TABLE_SCHEMA), 'database', r.PRIVILEGE_TYPE);
    }
    for (const r of await this.run<{GRANTEE: string; TABLE_SCHEMA: string; TABLE_NAME: string; PRIVILEGE_TYPE: string}>(
      'SELECT GRANTEE, TABLE_SCHEMA, TABLE_NAME, PRIVILEGE_TYPE FROM information_schema.TABLE_PRIVILEGES',
    )) {
      add(r.GRANTEE, r.TABLE_SCHEMA, `table ${r.TABLE_NAME}`, r.PRIVILEGE_TYPE);
    }
    const out = [...rows.values()];
    for (const row of out) row.privileges.sort();
    return out.sort((a, b) => compareAsLocale(a.user, b.user) || compareAsLocale(String(a.database), String(b.database)) || compareAsLocale(a.object, b.object));
  }

  async close(): Promise<void> {
    const pending = this.connection;
    this.connection = undefined;
    await (await pending?.catch(() => undefined))?.end().catch(() => undefined);
  }

  private async requireUser(user: string): Promise<void> {
    if (!(await this.userExists(user))) {
      throw invalidInput('dbctl.unknown_user', `user "${user}"@"${this.accountHost}" does not exist on ${this.target.label}`, {hint: 'Create it with dbctl user create.', details: {user}});
    }
  }

  private async requireDatabase(database: string): Promise<void> {
    if (!(await this.databaseExists(database))) {
      throw invalidInput('dbctl.unknown_database', `database "${database}" does not exist on ${this.target.label}`, {hint: 'Create it with dbctl db create.', details: {database}});
    }
  }
}

/**
 * `db`.* for GRANT/REVOKE. In database-level grants "_" and "%" are wildcards: they are escaped so
 * a grant on my_db does not also cover myXdb.
 */
export function grantTarget(database: string): string {
  const escaped = database.replace(/[\\_%]/g, (c) => `\\${c}`);
  return `\`${escaped.replace(/`/g, '``')}\`.*`;
}

function unescapeGrantDb(name: string): string {
  return name.replace(/\\([\\_%])/g, '$1');
}

/** 'name'@'host' as information_schema shows grantees. */
export function parseGrantee(grantee: string): {user: string; host: string} | undefined {
  const m = /^'((?:[^']|'')*)'@'((?:[^']|'')*)'$/.exec(grantee);
  if (!m) return undefined;
  return {user: m[1]!.replace(/''/g, "'"), host: m[2]!.replace(/''/g, "'")};
}

function noSchemas(flag?: string): BclError {
  return invalidInput('dbctl.no_schemas', `${flag ? `${flag}: ` : ''}MySQL and MariaDB have no schemas inside a database (a database is a schema)`, {
    hint: 'Use dbctl db create, and grant on the database.',
    details: flag ? {flag} : undefined,
  });
}

export function mysqlError(error: unknown, context: string): BclError {
  if (error instanceof BclError) return error;
  const e = error as {code?: string; errno?: number; sqlMessage?: string; message?: string};
  const message = `${e.sqlMessage ?? e.message ?? String(error)} (${context})`;
  const details = {errno: e.errno, code: e.code};
  switch (e.code) {
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_DBACCESS_DENIED_ERROR':
      return denied('dbctl.auth_failed', message, {hint: 'Check the user and password of the connection.', details});
    case 'ER_SPECIFIC_ACCESS_DENIED_ERROR':
    case 'ER_TABLEACCESS_DENIED_ERROR':
      return denied('dbctl.permission_denied', message, {hint: 'The administrative user lacks a privilege for this operation.', details});
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'PROTOCOL_CONNECTION_LOST':
      return unavailable('dbctl.unreachable', message, {hint: 'Check the host and port, and that the server is running.', details});
    case 'ER_CANNOT_USER':
      return conflict('dbctl.already_exists', message, {details});
    default:
      if (typeof e.errno === 'number' && e.sqlMessage) return operationFailed('dbctl.sql_failed', message, {details});
      return new BclError('dbctl.unexpected', message, ExitCode.unexpected, {cause: error, details});
  }
}
