import {readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {type MariaDbServer, startMariaDb, tempDir} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {dbctlRunner, homeWithConfig, Transcript} from './support.js';

// The same access profiles on a real MariaDB (Debian's mariadb-server).
let db: MariaDbServer;
let home: ReturnType<typeof homeWithConfig>;
const transcript = new Transcript();
let dbctl: ReturnType<typeof dbctlRunner>;
const files = tempDir('dbctl-mariadb-pw-');
const pwFile = (name: string) => join(files.path, `${name.replace(/[^a-z0-9]/gi, '_')}.pw`);
const readPw = (name: string) => {
  const pw = readFileSync(pwFile(name), 'utf8').trim();
  transcript.remember(pw);
  return pw;
};
const as = (user: string, password: string) => ({user, password, database: 'shop_db'});
const denied = (promise: Promise<unknown>) => expect(promise).rejects.toThrow(/denied/);

beforeAll(async () => {
  db = await startMariaDb();
  transcript.remember(db.password);
  home = homeWithConfig(
    {connections: {maria: {engine: 'mysql', host: db.host, port: db.port, user: db.user, passwordEnv: 'MARIA_PASSWORD'}}, defaultConnection: 'maria'},
    {MARIA_PASSWORD: db.password},
  );
  dbctl = dbctlRunner(home, transcript);
});

afterAll(async () => {
  const leaks = transcript.leakedSecrets([home && join(home.xdg.state, 'bcl'), db?.logFile].filter(Boolean) as string[]);
  await db?.stop();
  home?.remove();
  files.remove();
  expect(leaks).toEqual([]);
});

describe('dbctl on MariaDB', () => {
  it('creates a database idempotently', async () => {
    const first = await dbctl(['db', 'create', 'shop_db', '--json']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.json().result).toMatchObject({database: 'shop_db', created: true});
    expect((await dbctl(['db', 'create', 'shop_db', '--json'])).json().result).toMatchObject({created: false});
    // a look-alike database that a wildcard grant on shop_db would also cover
    await db.sql('CREATE DATABASE shopXdb; CREATE TABLE shopXdb.secret (id int); CREATE TABLE shop_db.before_grant (id int); INSERT INTO shop_db.before_grant VALUES (1);');
  });

  it('readonly reads existing and later tables, but cannot write or create', async () => {
    const res = await dbctl(['user', 'create', 'reader', '--profile', 'readonly', '--database', 'shop_db', '--password-file', pwFile('reader'), '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.json().result).toMatchObject({user: 'reader', profile: 'readonly', databases: ['shop_db'], created: true, passwordFile: pwFile('reader')});
    expect(statSync(pwFile('reader')).mode & 0o777).toBe(0o600);
    const pw = readPw('reader');
    expect(await db.sql('SELECT count(*) FROM before_grant', as('reader', pw))).toBe('1');
    await db.sql('CREATE TABLE shop_db.after_grant (id int); INSERT INTO shop_db.after_grant VALUES (1), (2);');
    expect(await db.sql('SELECT count(*) FROM after_grant', as('reader', pw))).toBe('2');
    await denied(db.sql('INSERT INTO after_grant VALUES (3)', as('reader', pw)));
    await denied(db.sql('CREATE TABLE mine (id int)', as('reader', pw)));
    // "_" is escaped in the grant: shopXdb stays out of reach
    await denied(db.sql('SELECT count(*) FROM shopXdb.secret', as('reader', pw)));
  });

  it('readwrite writes rows but cannot drop the database or tables', async () => {
    const res = await dbctl(['user', 'create', 'writer', '-p', 'readwrite', '-d', 'shop_db', '--password-file', pwFile('writer')]);
    expect(res.exitCode, res.stderr).toBe(0);
    const pw = readPw('writer');
    await db.sql('INSERT INTO after_grant VALUES (3)', as('writer', pw));
    expect(await db.sql('SELECT count(*) FROM after_grant', as('writer', pw))).toBe('3');
    await denied(db.sql('DROP TABLE after_grant', as('writer', pw)));
    await denied(db.sql('DROP DATABASE shop_db', as('writer', pw)));
  });

  it('owner creates and drops its tables', async () => {
    expect((await dbctl(['user', 'create', 'app', '-p', 'owner', '-d', 'shop_db', '--password-file', pwFile('app')])).exitCode).toBe(0);
    await db.sql('CREATE TABLE orders (id int); DROP TABLE orders;', as('app', readPw('app')));
  });

  it('revoke removes access; grant restores it', async () => {
    expect((await dbctl(['revoke', 'reader', '--database', 'shop_db'])).exitCode).toBe(0);
    await denied(db.sql('SELECT count(*) FROM after_grant', as('reader', readPw('reader'))));
    expect((await dbctl(['revoke', 'reader', '--database', 'shop_db'])).exitCode).toBe(0);
    expect((await dbctl(['grant', 'reader', '--profile', 'readonly', '--database', 'shop_db'])).exitCode).toBe(0);
    expect(await db.sql('SELECT count(*) FROM after_grant', as('reader', readPw('reader')))).toBe('3');
  });

  it('rotates a password: the old one fails, the new one works', async () => {
    const old = readPw('writer');
    const res = await dbctl(['password', 'rotate', 'writer', '--password-file', pwFile('writer'), '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.json().result).toMatchObject({user: 'writer', databases: ['shop_db']});
    const fresh = readPw('writer');
    expect(fresh).not.toBe(old);
    await expect(db.sql('SELECT 1', as('writer', old))).rejects.toThrow(/Access denied/);
    expect(await db.sql('SELECT 1', as('writer', fresh))).toBe('1');
  });

  it('handles a user named x"; DROP TABLE t; -- safely', async () => {
    await db.sql('CREATE TABLE shop_db.t (id int)');
    const evil = 'x"; DROP TABLE t; --';
    const res = await dbctl(['user', 'create', evil, '-p', 'readonly', '-d', 'shop_db', '--password-file', pwFile(evil)]);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(await db.sql(`SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop_db' AND TABLE_NAME = 't'`)).toBe('1');
    expect(await db.sql('SELECT count(*) FROM t', as(evil, readPw(evil)))).toBe('0');
    expect((await dbctl(['user', 'drop', evil, '--yes'])).exitCode).toBe(0);
    expect(await db.sql(`SELECT count(*) FROM mysql.user WHERE User = 'x"; DROP TABLE t; --'`)).toBe('0');
  });

  it('lists access per account', async () => {
    const res = await dbctl(['access', 'list', '--database', 'shop_db', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    const rows = res.json<{result: {user: string; host: string; database: string; object: string; privileges: string[]}[]}>().result;
    expect(rows).toContainEqual({user: 'reader', host: '%', database: 'shop_db', schema: null, object: 'database', privileges: ['SELECT', 'SHOW VIEW']});
    expect(rows.find((r) => r.user === 'writer')?.privileges).toEqual(['CREATE TEMPORARY TABLES', 'DELETE', 'EXECUTE', 'INSERT', 'LOCK TABLES', 'SELECT', 'SHOW VIEW', 'UPDATE']);
    const human = await dbctl(['access', 'list', '--user', 'reader']);
    expect(human.stdout).toMatch(/reader@%\s+shop_db\s+database\s+SELECT,SHOW VIEW/);
  });

  it('refuses schemas, which MySQL does not have (exit 3)', async () => {
    const res = await dbctl(['schema', 'create', 'x', '--database', 'shop_db']);
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toContain('no schemas');
  });
});
