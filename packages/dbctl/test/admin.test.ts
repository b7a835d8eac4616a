import {readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {type MariaDbServer, startMariaDb, startPostgres, tempDir} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {dbctlRunner, homeWithConfig, Transcript} from './support.js';

// The administration commands that every engine has, run the same way on a real PostgreSQL and a
// real MariaDB (Debian's mariadb-server). No MySQL 8 server can be had here: docs/testing.md says why.
// PostgreSQL's own behaviour (schemas, default privileges, owners) is in admin-postgres.test.ts.

/** What the tests use of a server: testkit's MariaDB harness, and PostgreSQL's with psql as sql. */
type Server = Pick<MariaDbServer, 'host' | 'port' | 'user' | 'password' | 'logFile' | 'sql' | 'stop'>;

interface EngineUnderTest {
  name: string;
  engine: 'postgres' | 'mysql';
  start(): Promise<Server>;
  /** The database the tests work in. */
  db: string;
  /** What a refused statement of a user without the privilege says. */
  denied: RegExp;
  authFailed: RegExp;
  /** How many accounts or roles have exactly this name. */
  countUsers(server: Server, name: string): Promise<string>;
  countDatabases(server: Server, name: string): Promise<string>;
}

const ENGINES: EngineUnderTest[] = [
  {
    name: 'PostgreSQL',
    engine: 'postgres',
    start: async () => {
      const pg = await startPostgres();
      return {...pg, sql: (s, as) => pg.psql(s, as), stop: () => pg.stop()};
    },
    db: 'shop',
    denied: /permission denied|must be owner/,
    authFailed: /password authentication failed/,
    countUsers: (s, name) => s.sql(`SELECT count(*) FROM pg_roles WHERE rolname = '${name.replace(/'/g, "''")}'`),
    countDatabases: (s, name) => s.sql(`SELECT count(*) FROM pg_database WHERE datname = '${name.replace(/'/g, "''")}'`),
  },
  {
    name: 'MariaDB',
    engine: 'mysql',
    start: async () => startMariaDb(),
    db: 'shop_db',
    denied: /denied/,
    authFailed: /Access denied/,
    countUsers: (s, name) => s.sql(`SELECT count(*) FROM mysql.user WHERE User = '${name.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`),
    countDatabases: (s, name) => s.sql(`SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '${name.replace(/'/g, "''")}'`),
  },
];

describe.each(ENGINES)('dbctl on $name', (e: EngineUnderTest) => {
  let server: Server;
  let home: ReturnType<typeof homeWithConfig>;
  const transcript = new Transcript();
  let dbctl: ReturnType<typeof dbctlRunner>;
  const files = tempDir('dbctl-admin-pw-');
  const pwFile = (name: string) => join(files.path, `${name.replace(/[^a-z0-9]/gi, '_')}.pw`);
  const readPw = (name: string) => {
    const pw = readFileSync(pwFile(name), 'utf8').trim();
    transcript.remember(pw);
    return pw;
  };
  const as = (user: string, password: string) => ({user, password, database: e.db});
  const denied = (promise: Promise<unknown>) => expect(promise).rejects.toThrow(e.denied);
  const admin = (statements: string) => server.sql(statements, {user: server.user, password: server.password, database: e.db});

  beforeAll(async () => {
    server = await e.start();
    transcript.remember(server.password);
    home = homeWithConfig(
      {connections: {main: {engine: e.engine, host: server.host, port: server.port, user: server.user, passwordEnv: 'ADMIN_PASSWORD', ...(e.engine === 'postgres' ? {tls: 'disable'} : {})}}, defaultConnection: 'main'},
      {ADMIN_PASSWORD: server.password},
    );
    dbctl = dbctlRunner(home, transcript);
  });

  afterAll(async () => {
    const leaks = transcript.leakedSecrets([home && join(home.xdg.state, 'bcl'), server?.logFile].filter(Boolean) as string[]);
    await server?.stop();
    home?.remove();
    files.remove();
    expect(leaks).toEqual([]);
  });

  it('creates a database idempotently', async () => {
    const first = await dbctl(['db', 'create', e.db, '--json']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.json().result).toMatchObject({database: e.db, created: true});
    expect((await dbctl(['db', 'create', e.db, '--json'])).json().result).toMatchObject({created: false});
    await admin('CREATE TABLE before_grant (id int); INSERT INTO before_grant VALUES (1);');
  });

  it('readonly reads existing and later tables, but cannot write or create', async () => {
    const res = await dbctl(['user', 'create', 'reader', '--profile', 'readonly', '--database', e.db, '--password-file', pwFile('reader'), '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.json().result).toMatchObject({user: 'reader', profile: 'readonly', databases: [e.db], created: true, passwordFile: pwFile('reader')});
    expect(statSync(pwFile('reader')).mode & 0o777).toBe(0o600);
    const pw = readPw('reader');
    expect(pw).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(await server.sql('SELECT count(*) FROM before_grant', as('reader', pw))).toBe('1');
    await admin('CREATE TABLE after_grant (id int); INSERT INTO after_grant VALUES (1), (2);');
    expect(await server.sql('SELECT count(*) FROM after_grant', as('reader', pw))).toBe('2');
    await denied(server.sql('INSERT INTO after_grant VALUES (3)', as('reader', pw)));
    await denied(server.sql('CREATE TABLE mine (id int)', as('reader', pw)));
  });

  it('readwrite writes rows but cannot drop tables', async () => {
    const res = await dbctl(['user', 'create', 'writer', '-p', 'readwrite', '-d', e.db, '--password-file', pwFile('writer')]);
    expect(res.exitCode, res.stderr).toBe(0);
    const pw = readPw('writer');
    await server.sql('INSERT INTO after_grant VALUES (3)', as('writer', pw));
    expect(await server.sql('SELECT count(*) FROM after_grant', as('writer', pw))).toBe('3');
    await denied(server.sql('DROP TABLE after_grant', as('writer', pw)));
  });

  it('owner creates and drops its own tables', async () => {
    expect((await dbctl(['user', 'create', 'app', '-p', 'owner', '-d', e.db, '--password-file', pwFile('app')])).exitCode).toBe(0);
    await server.sql('CREATE TABLE orders (id int); DROP TABLE orders;', as('app', readPw('app')));
  });

  it('revoke removes access; grant restores it', async () => {
    expect((await dbctl(['revoke', 'reader', '--database', e.db])).exitCode).toBe(0);
    await denied(server.sql('SELECT count(*) FROM after_grant', as('reader', readPw('reader'))));
    expect((await dbctl(['revoke', 'reader', '--database', e.db])).exitCode).toBe(0);
    expect((await dbctl(['grant', 'reader', '--profile', 'readonly', '--database', e.db])).exitCode).toBe(0);
    expect(await server.sql('SELECT count(*) FROM after_grant', as('reader', readPw('reader')))).toBe('3');
  });

  it('rotates a password: the old one fails, the new one works', async () => {
    const old = readPw('writer');
    const res = await dbctl(['password', 'rotate', 'writer', '--password-file', pwFile('writer'), '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.json().result).toMatchObject({user: 'writer', databases: [e.db]});
    const fresh = readPw('writer');
    expect(fresh).not.toBe(old);
    await expect(server.sql('SELECT 1', as('writer', old))).rejects.toThrow(e.authFailed);
    expect(await server.sql('SELECT 1', as('writer', fresh))).toBe('1');
  });

  it('handles a user named x"; DROP TABLE t; -- safely', async () => {
    await admin('CREATE TABLE t (id int)');
    const evil = 'x"; DROP TABLE t; --';
    const res = await dbctl(['user', 'create', evil, '-p', 'readonly', '-d', e.db, '--password-file', pwFile(evil)]);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(await server.sql('SELECT count(*) FROM t', as(evil, readPw(evil)))).toBe('0');
    expect((await dbctl(['user', 'drop', evil, '--yes'])).exitCode).toBe(0);
    expect(await e.countUsers(server, evil)).toBe('0');
  });

  it('never loses a password: without a destination nothing is created (exit 2)', async () => {
    const res = await dbctl(['user', 'create', 'lost', '--profile', 'readonly', '--database', e.db]);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('--password-file');
    expect(await e.countUsers(server, 'lost')).toBe('0');
  });

  // Names the engine would not keep as given: exit 3 naming the argument, and nothing on the server.
  // Before the identifier check these reached the server: a truncated name changed or dropped
  // another object, '' made MariaDB's anonymous account, the rest failed as exit 7 (dbctl.sql_failed).
  const refusals: {title: string; args: (db: string) => string[]; argument: string; message: RegExp}[] = [
    {title: 'an empty user name', args: (db) => ['user', 'create', '', '-p', 'readonly', '-d', db, '--password-file', pwFile('empty')], argument: '<name>', message: /an empty name is not allowed/},
    {title: 'an empty database name', args: () => ['db', 'create', ''], argument: '<name>', message: /an empty name is not allowed/},
    {title: 'an empty --database', args: () => ['grant', 'reader', '-p', 'readonly', '-d', ''], argument: '--database', message: /an empty name is not allowed/},
    ...(e.engine === 'postgres'
      ? [
          {title: 'a pg_ role', args: (db: string) => ['user', 'create', 'pg_reader', '-p', 'readonly', '-d', db, '--show-password'], argument: '<name>', message: /role names starting with "pg_" are reserved/},
          {title: 'a pg_ schema', args: (db: string) => ['schema', 'create', 'pg_reports', '--database', db], argument: '<name>', message: /schema names starting with "pg_" are reserved/},
          {title: 'the role public', args: (db: string) => ['grant', 'public', '-p', 'readonly', '-d', db], argument: '<user>', message: /"public" is a reserved role name/},
          {title: 'a 64-byte database', args: () => ['db', 'create', 'd'.repeat(64)], argument: '<name>', message: /64 bytes long/},
        ]
      : [
          {title: 'a 129-character user', args: (db: string) => ['user', 'create', 'u'.repeat(129), '-p', 'readonly', '-d', db, '--show-password'], argument: '<name>', message: /at most 128 characters/},
          {title: 'a 65-character database', args: () => ['db', 'create', 'd'.repeat(65)], argument: '<name>', message: /at most 64/},
          {title: 'an emoji in a user name', args: (db: string) => ['user', 'create', 'cake🎂', '-p', 'readonly', '-d', db, '--show-password'], argument: '<name>', message: /beyond U\+FFFF/},
        ]),
  ];
  for (const r of refusals) {
    it(`refuses ${r.title} with exit 3 naming ${r.argument}`, async () => {
      const res = await dbctl([...r.args(e.db), '--json']);
      expect(res.exitCode, res.stdout).toBe(3);
      const error = res.json().error!;
      expect(error.code).toBe('dbctl.invalid_name');
      expect(error.message.startsWith(`${r.argument}: `)).toBe(true);
      expect(error.message).toMatch(r.message);
    });
  }

  it("creates no anonymous account for user create ''", async () => {
    expect(await e.countUsers(server, '')).toBe('0');
  });

  if (e.engine === 'postgres') {
    it('does not let a 64-byte name reach the role or database whose name is its first 63 bytes', async () => {
      const long = 'a'.repeat(63);
      expect((await dbctl(['user', 'create', long, '-p', 'owner', '-d', e.db, '--password-file', pwFile('long')])).exitCode).toBe(0);
      expect((await dbctl(['db', 'create', long])).exitCode).toBe(0);
      // PostgreSQL would truncate both to `long`: the owner would become readonly, the database dropped.
      const changed = await dbctl(['user', 'create', `${long}B`, '-p', 'readonly', '-d', e.db, '--show-password', '--json']);
      expect(changed.exitCode).toBe(3);
      expect(changed.json().error?.message).toContain('is 64 bytes long: PostgreSQL keeps only the first 63 bytes');
      const dropped = await dbctl(['db', 'drop', `${long}X`, '--yes']);
      expect(dropped.exitCode).toBe(3);
      expect(await e.countDatabases(server, long)).toBe('1');
      expect(await server.sql(`SELECT has_database_privilege('${long}', '${e.db}', 'CREATE')`)).toBe('t');
    });
  } else {
    it('escapes "_" in database grants: a grant on shop_db does not reach shopXdb', async () => {
      await server.sql('CREATE DATABASE shopXdb; CREATE TABLE shopXdb.secret (id int);');
      await denied(server.sql('SELECT count(*) FROM shopXdb.secret', as('reader', readPw('reader'))));
    });

    it('lists access per account', async () => {
      const res = await dbctl(['access', 'list', '--database', e.db, '--json']);
      expect(res.exitCode, res.stderr).toBe(0);
      const rows = res.json<{result: {user: string; host: string; database: string; object: string; privileges: string[]}[]}>().result;
      expect(rows).toContainEqual({user: 'reader', host: '%', database: e.db, schema: null, object: 'database', privileges: ['SELECT', 'SHOW VIEW']});
      expect(rows.find((r) => r.user === 'writer')?.privileges).toEqual(['CREATE TEMPORARY TABLES', 'DELETE', 'EXECUTE', 'INSERT', 'LOCK TABLES', 'SELECT', 'SHOW VIEW', 'UPDATE']);
      const human = await dbctl(['access', 'list', '--user', 'reader']);
      expect(human.stdout).toMatch(/reader@%\s+shop_db\s+database\s+SELECT,SHOW VIEW/);
    });

    it('refuses schemas, which MySQL does not have (exit 3)', async () => {
      const res = await dbctl(['schema', 'create', 'x', '--database', e.db]);
      expect(res.exitCode).toBe(3);
      expect(res.stderr).toContain('no schemas');
    });
  }
});
