import {chmodSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {type PostgresServer, runCli, startPostgres, tempDir} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {dbctlRunner, homeWithConfig, Transcript, writeConfig} from './support.js';

// Direct administration against a real PostgreSQL: profiles, revoke, rotation, drops, access list.
let pg: PostgresServer;
let home: ReturnType<typeof homeWithConfig>;
const transcript = new Transcript();
let dbctl: ReturnType<typeof dbctlRunner>;
const files = tempDir('dbctl-pw-');
const pwFile = (name: string) => join(files.path, `${name.replace(/[^a-z0-9]/gi, '_')}.pw`);
const readPw = (name: string) => {
  const pw = readFileSync(pwFile(name), 'utf8').trim();
  transcript.remember(pw);
  return pw;
};
const as = (user: string, password: string) => ({user, password, database: 'shop'});
const denied = async (promise: Promise<unknown>) => expect(promise).rejects.toThrow(/permission denied|must be owner/);

beforeAll(async () => {
  pg = await startPostgres();
  transcript.remember(pg.password);
  home = homeWithConfig(
    {connections: {local: {engine: 'postgres', host: pg.host, port: pg.port, user: pg.user, passwordEnv: 'SHOP_PG_PASSWORD', tls: 'disable'}}, defaultConnection: 'local'},
    {SHOP_PG_PASSWORD: pg.password},
  );
  dbctl = dbctlRunner(home, transcript);
});

afterAll(async () => {
  const leaks = transcript.leakedSecrets([home && join(home.xdg.state, 'bcl'), pg?.logFile].filter(Boolean) as string[]);
  await pg?.stop();
  home?.remove();
  files.remove();
  expect(leaks).toEqual([]);
});

describe('dbctl on PostgreSQL', () => {
  it('creates a database idempotently, closed to PUBLIC', async () => {
    const first = await dbctl(['db', 'create', 'shop', '--json']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.json().result).toMatchObject({database: 'shop', created: true});
    const again = await dbctl(['db', 'create', 'shop', '--json']);
    expect(again.json().result).toMatchObject({database: 'shop', created: false});
    expect(await pg.psql(`SELECT has_database_privilege('public', 'shop', 'CONNECT')`)).toBe('f');
    await pg.psql('CREATE TABLE before_grant (id int); INSERT INTO before_grant VALUES (1);', {user: 'postgres', password: pg.password, database: 'shop'});
  });

  it('readonly reads existing and later tables, but cannot write or create', async () => {
    const res = await dbctl(['user', 'create', 'reader', '--profile', 'readonly', '--database', 'shop', '--password-file', pwFile('reader'), '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.json().result).toEqual({user: 'reader', profile: 'readonly', databases: ['shop'], schemas: {shop: ['public']}, created: true, passwordFile: pwFile('reader')});
    expect(statSync(pwFile('reader')).mode & 0o777).toBe(0o600);
    const pw = readPw('reader');
    expect(pw).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(await pg.psql('SELECT count(*) FROM before_grant', as('reader', pw))).toBe('1');
    await pg.psql('CREATE TABLE after_grant (id int); INSERT INTO after_grant VALUES (1), (2);', {user: 'postgres', password: pg.password, database: 'shop'});
    expect(await pg.psql('SELECT count(*) FROM after_grant', as('reader', pw))).toBe('2');
    await denied(pg.psql('INSERT INTO after_grant VALUES (3)', as('reader', pw)));
    await denied(pg.psql('CREATE TABLE mine (id int)', as('reader', pw)));
  });

  it('readwrite writes rows but cannot drop the schema or tables', async () => {
    const res = await dbctl(['user', 'create', 'writer', '-p', 'readwrite', '-d', 'shop', '--password-file', pwFile('writer')]);
    expect(res.exitCode, res.stderr).toBe(0);
    const pw = readPw('writer');
    await pg.psql('INSERT INTO after_grant VALUES (3)', as('writer', pw));
    expect(await pg.psql('SELECT count(*) FROM after_grant', as('writer', pw))).toBe('3');
    await denied(pg.psql('DROP SCHEMA public CASCADE', as('writer', pw)));
    await denied(pg.psql('DROP TABLE after_grant', as('writer', pw)));
  });

  it('owner creates tables that readers of the schema can read, and the others cannot drop', async () => {
    const res = await dbctl(['user', 'create', 'app', '--profile', 'owner', '--database', 'shop', '--password-file', pwFile('app')]);
    expect(res.exitCode, res.stderr).toBe(0);
    const pw = readPw('app');
    await pg.psql('CREATE TABLE orders (id serial PRIMARY KEY, total int); INSERT INTO orders (total) VALUES (10);', as('app', pw));
    expect(await pg.psql('SELECT count(*) FROM orders', as('reader', readPw('reader')))).toBe('1');
    await pg.psql('INSERT INTO orders (total) VALUES (20)', as('writer', readPw('writer')));
    await denied(pg.psql('INSERT INTO orders (total) VALUES (30)', as('reader', readPw('reader'))));
  });

  it('revoke removes access, including to tables created later', async () => {
    const res = await dbctl(['revoke', 'reader', '--database', 'shop', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    await expect(pg.psql('SELECT count(*) FROM before_grant', as('reader', readPw('reader')))).rejects.toThrow(/permission denied/);
    await pg.psql('CREATE TABLE after_revoke (id int)', as('app', readPw('app')));
    expect(await pg.psql(`SELECT has_table_privilege('reader', 'after_revoke', 'SELECT')`, {user: 'postgres', password: pg.password, database: 'shop'})).toBe('f');
    // and grant puts the profile back
    const again = await dbctl(['grant', 'reader', '--profile', 'readonly', '--database', 'shop']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(await pg.psql('SELECT count(*) FROM after_revoke', as('reader', readPw('reader')))).toBe('0');
  });

  it('rotates a password: the old one fails, the new one works', async () => {
    const old = readPw('writer');
    const res = await dbctl(['password', 'rotate', 'writer', '--password-file', pwFile('writer'), '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.json().result).toMatchObject({user: 'writer', databases: ['shop'], passwordFile: pwFile('writer')});
    const fresh = readPw('writer');
    expect(fresh).not.toBe(old);
    await expect(pg.psql('SELECT 1', as('writer', old))).rejects.toThrow(/password authentication failed/);
    expect(await pg.psql('SELECT 1', as('writer', fresh))).toBe('1');
    // the server received a SCRAM verifier, never the password
    expect(readFileSync(pg.logFile, 'utf8')).not.toContain(fresh);
  });

  it('handles a role named x"; DROP TABLE t; -- safely', async () => {
    await pg.psql('CREATE TABLE t (id int)', {user: 'postgres', password: pg.password, database: 'shop'});
    const evil = 'x"; DROP TABLE t; --';
    const res = await dbctl(['user', 'create', evil, '--profile', 'readonly', '--database', 'shop', '--password-file', pwFile(evil), '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(await pg.psql(`SELECT to_regclass('public.t') IS NOT NULL`, {user: 'postgres', password: pg.password, database: 'shop'})).toBe('t');
    expect(await pg.psql(`SELECT rolname FROM pg_roles WHERE rolname = 'x"; DROP TABLE t; --'`)).toBe(evil);
    expect(await pg.psql('SELECT count(*) FROM t', as(evil, readPw(evil)))).toBe('0');
    const list = await dbctl(['access', 'list', '--user', evil, '--database', 'shop', '--json']);
    expect(list.json<{result: {user: string; object: string}[]}>().result.some((r) => r.user === evil && r.object === 'table t')).toBe(true);
    const drop = await dbctl(['user', 'drop', evil, '--yes']);
    expect(drop.exitCode, drop.stderr).toBe(0);
    expect(await pg.psql(`SELECT count(*) FROM pg_roles WHERE rolname = 'x"; DROP TABLE t; --'`)).toBe('0');
  });

  it('lists who can do what, from the catalogs', async () => {
    const res = await dbctl(['access', 'list', '--database', 'shop', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    const rows = res.json<{result: {user: string; database: string; schema: string | null; object: string; privileges: string[]}[]}>().result;
    expect(rows).toContainEqual({user: 'reader', database: 'shop', schema: null, object: 'database', privileges: ['CONNECT']});
    expect(rows).toContainEqual({user: 'reader', database: 'shop', schema: 'public', object: 'table orders', privileges: ['SELECT']});
    expect(rows).toContainEqual({user: 'writer', database: 'shop', schema: 'public', object: 'table orders', privileges: ['DELETE', 'INSERT', 'SELECT', 'UPDATE']});
    expect(rows).toContainEqual({user: 'reader', database: 'shop', schema: 'public', object: 'default privileges on tables (created by app)', privileges: ['SELECT']});
    expect(rows.find((r) => r.user === 'app' && r.object === 'table orders')?.privileges).toContain('TRUNCATE');
    const human = await dbctl(['access', 'list', '--user', 'reader']);
    expect(human.stdout).toMatch(/^USER\s+DATABASE\s+SCHEMA\s+OBJECT\s+PRIVILEGES/);
    expect(human.stdout).toMatch(/reader\s+shop\s+public\s+table orders\s+SELECT/);
  });

  it('refuses to drop a user that owns objects unless told what to do with them', async () => {
    const refused = await dbctl(['user', 'drop', 'app', '--yes', '--json']);
    expect(refused.exitCode).toBe(6);
    expect(refused.json().error?.code).toBe('dbctl.role_owns_objects');
    expect(await pg.psql(`SELECT count(*) FROM pg_roles WHERE rolname = 'app'`)).toBe('1');
    const unconfirmed = await dbctl(['user', 'drop', 'app', '--reassign-to', 'postgres']);
    expect(unconfirmed.exitCode).toBe(6);
    expect(unconfirmed.stderr).toContain('--yes');
    const dropped = await dbctl(['user', 'drop', 'app', '--reassign-to', 'postgres', '--yes', '--json']);
    expect(dropped.exitCode, dropped.stderr).toBe(0);
    expect(dropped.json().result).toMatchObject({user: 'app', dropped: true});
    expect(await pg.psql(`SELECT tableowner FROM pg_tables WHERE tablename = 'orders'`, {user: 'postgres', password: pg.password, database: 'shop'})).toBe('postgres');
  });

  it('creates and drops schemas; a schema with tables needs --cascade', async () => {
    expect((await dbctl(['schema', 'create', 'reporting', '--database', 'shop'])).exitCode).toBe(0);
    await pg.psql('CREATE TABLE reporting.daily (d date)', {user: 'postgres', password: pg.password, database: 'shop'});
    const res = await dbctl(['user', 'create', 'analyst', '-p', 'readonly', '-d', 'shop', '-s', 'reporting', '--password-file', pwFile('analyst'), '--json']);
    expect(res.json().result).toMatchObject({schemas: {shop: ['reporting']}});
    expect(await pg.psql('SELECT count(*) FROM reporting.daily', as('analyst', readPw('analyst')))).toBe('0');
    await denied(pg.psql('SELECT count(*) FROM public.orders', as('analyst', readPw('analyst'))));
    const refused = await dbctl(['schema', 'drop', 'reporting', '--database', 'shop', '--yes']);
    expect(refused.exitCode).toBe(6);
    expect((await dbctl(['schema', 'drop', 'reporting', '--database', 'shop', '--yes', '--cascade'])).exitCode).toBe(0);
    expect(await pg.psql(`SELECT count(*) FROM pg_namespace WHERE nspname = 'reporting'`, {user: 'postgres', password: pg.password, database: 'shop'})).toBe('0');
  });

  it('never loses a password: without a destination nothing is created', async () => {
    const res = await dbctl(['user', 'create', 'lost', '--profile', 'readonly', '--database', 'shop']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('--password-file');
    expect(await pg.psql(`SELECT count(*) FROM pg_roles WHERE rolname = 'lost'`)).toBe('0');
  });

  it('shows the password only with --show-password', async () => {
    const res = await dbctl(['user', 'create', 'shown', '--profile', 'readonly', '--database', 'shop', '--show-password', '--json'], {allowStdoutSecrets: true});
    expect(res.exitCode, res.stderr).toBe(0);
    const {password} = res.json<{result: {password: string}}>().result;
    transcript.remember(password);
    expect(await pg.psql('SELECT 1', as('shown', password))).toBe('1');
  });

  it('names bad input with exit codes: unknown connection 3, unknown user 3, unknown database 3', async () => {
    const conn = await dbctl(['access', 'list', '--connection', 'nope']);
    expect(conn.exitCode).toBe(3);
    expect(conn.stderr).toContain('no connection profile "nope" in dbctl.connections (defined: local)');
    const user = await dbctl(['grant', 'ghost', '--profile', 'readonly', '--database', 'shop']);
    expect(user.exitCode).toBe(3);
    expect(user.stderr).toContain('user "ghost" does not exist');
    const db = await dbctl(['grant', 'reader', '--profile', 'readonly', '--database', 'nowhere']);
    expect(db.exitCode).toBe(3);
    const profile = await dbctl(['grant', 'reader', '--profile', 'admin', '--database', 'shop']);
    expect(profile.exitCode).toBe(2);
  });

  it('reads the admin password from a 0600 file, and falls back from TLS when the server has none (tls: prefer)', async () => {
    const file = join(files.path, 'admin.pw');
    writeFileSync(file, `${pg.password}\n`, {mode: 0o600});
    const config = {connections: {local: {engine: 'postgres', host: pg.host, port: pg.port, user: pg.user, passwordFile: file}}, defaultConnection: 'local'};
    writeConfig(home.configFile, config);
    const ok = await dbctl(['access', 'list', '--user', 'writer', '--json']);
    expect(ok.exitCode, ok.stdout).toBe(0);
    chmodSync(file, 0o644);
    const open = await dbctl(['access', 'list']);
    expect(open.exitCode).toBe(3);
    expect(open.stderr).toContain(`dbctl.connections.local.passwordFile ${file} is readable by other users`);
    writeConfig(home.configFile, {connections: {local: {engine: 'postgres', host: pg.host, port: pg.port, user: pg.user, passwordEnv: 'SHOP_PG_PASSWORD', tls: 'disable'}}, defaultConnection: 'local'});
  });

  it('works with --url, and records every operation in the audit log', async () => {
    const res = await dbctl(['access', 'list', '--url', `postgres://postgres@127.0.0.1:${pg.port}/postgres?sslmode=disable`, '--user', 'writer', '--json'], {env: {PGPASSWORD: pg.password}});
    expect(res.exitCode, res.stderr).toBe(0);
    const audit = await dbctl(['audit', 'list', '--json']);
    const entries = audit.json<{result: {operation: string; outcome: string; target: Record<string, unknown>; as: string}[]}>().result;
    expect(entries.map((e) => e.operation)).toEqual(expect.arrayContaining(['db.create', 'user.create', 'grant', 'revoke', 'password.rotate', 'user.drop', 'access.list']));
    expect(entries.find((e) => e.operation === 'user.drop' && e.outcome === 'failed')).toBeDefined();
    expect(entries.every((e) => e.as === 'postgres')).toBe(true);
    expect(statSync(join(home.xdg.state, 'bcl', 'dbctl', 'audit.log')).mode & 0o777).toBe(0o600);
  });
});

describe('dbctl with an administrator that is not a superuser (as on Cloud SQL and RDS)', () => {
  const limitedPassword = 'Limited-Admin-Pw-7c1e9a4b2d';
  const url = () => `postgres://dbadmin@127.0.0.1:${pg.port}/postgres?sslmode=disable`;
  const limited = (args: string[]) => dbctl([...args, '--url', url()], {env: {PGPASSWORD: limitedPassword}});
  const su = (sql: string) => pg.psql(sql, {user: 'postgres', password: pg.password, database: 'shop2'});

  it('creates users whose profiles hold, borrowing role memberships only for the transaction', async () => {
    transcript.remember(limitedPassword);
    await pg.psql(`CREATE ROLE dbadmin LOGIN CREATEROLE CREATEDB PASSWORD '${limitedPassword}'`);
    expect((await limited(['db', 'create', 'shop2'])).exitCode).toBe(0);
    const app = await limited(['user', 'create', 'app2', '-p', 'owner', '-d', 'shop2', '--password-file', pwFile('app2')]);
    expect(app.exitCode, app.stderr).toBe(0);
    const reader = await limited(['user', 'create', 'reader2', '-p', 'readonly', '-d', 'shop2', '--password-file', pwFile('reader2')]);
    expect(reader.exitCode, reader.stderr).toBe(0);
    await pg.psql('CREATE TABLE public.ledger (id int); INSERT INTO public.ledger VALUES (1);', {user: 'app2', password: readPw('app2'), database: 'shop2'});
    expect(await pg.psql('SELECT count(*) FROM public.ledger', {user: 'reader2', password: readPw('reader2'), database: 'shop2'})).toBe('1');
    expect(await su(`SELECT pg_has_role('dbadmin', 'app2', 'MEMBER'), pg_has_role('dbadmin', 'reader2', 'MEMBER')`)).toBe('f|f');
    expect((await limited(['revoke', 'reader2', '-d', 'shop2'])).exitCode).toBe(0);
    await denied(pg.psql('SELECT count(*) FROM public.ledger', {user: 'reader2', password: readPw('reader2'), database: 'shop2'}));
    const drop = await limited(['user', 'drop', 'app2', '--reassign-to', 'dbadmin', '--yes']);
    expect(drop.exitCode, drop.stderr).toBe(0);
    expect(await su(`SELECT tableowner FROM pg_tables WHERE tablename = 'ledger'`)).toBe('dbadmin');
  });
});

describe('bcl doctor', () => {
  it('checks terraform and that each connection answers', async () => {
    const res = transcript.record(['bcl doctor'], await runCli('bcl', ['doctor', '--json'], {env: home.env}));
    const envelope = res.json<{result?: {checks: {name: string; status: string; message: string}[]}; error?: {details: {checks: {name: string; status: string; message: string}[]}}}>();
    const checks = envelope.result?.checks ?? envelope.error!.details.checks;
    expect(checks.find((c) => c.name === 'dbctl.terraform')).toMatchObject({status: 'ok', message: expect.stringMatching(/^\d+\.\d+\.\d+/)});
    expect(checks.find((c) => c.name === 'dbctl.connections.local')).toMatchObject({status: 'ok', message: `127.0.0.1:${pg.port} accepts connections`});
  });
});

describe('the secret scan', () => {
  it('finds a planted password', () => {
    const probe = new Transcript();
    probe.remember('s3cr3t-planted-value');
    probe.runs.push({args: ['x'], stdout: 'ok', stderr: 'oops s3cr3t-planted-value', allowStdoutSecrets: false});
    expect(probe.leakedSecrets()).toEqual(['dbctl x: stderr']);
  });
});
