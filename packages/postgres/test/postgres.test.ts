// @bcl/postgres against a real PostgreSQL (testkit's startPostgres): migrations from several
// processes at once, retried transactions, advisory locks, fenced leases, a restricted role.
import {spawn} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import {type PostgresServer, startPostgres, waitFor} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest';
import {
  acquireLease,
  assertLease,
  crlNumberMigration,
  postgresCrlNumberStore,
  type Database,
  ensureApplicationRole,
  FencedError,
  grantTables,
  inTransaction,
  leaseMigration,
  LeaseHeldError,
  listen,
  LockBusyError,
  MigrationError,
  migrateToLatest,
  notify,
  openDatabase,
  redactUrl,
  releaseLease,
  renewLease,
  sql,
  withAdvisoryLock,
} from '../src/index.js';

let pg: PostgresServer;
const open: Database<any>[] = [];

async function freshDatabase(name: string): Promise<string> {
  await pg.psql(`create database ${name}`);
  return pg.url.replace(/\/postgres$/, `/${name}`);
}
function connect<DB = any>(url: string, max = 10): Database<DB> {
  const d = openDatabase<DB>({url, max});
  open.push(d);
  return d;
}

beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  for (const d of open) await d.close().catch(() => undefined);
  await pg?.stop();
});

describe('connections', () => {
  it('connects from a URL and never shows its password', async () => {
    const d = connect(pg.url);
    const {rows} = await sql<{n: number}>`select 1 + 1 as n`.execute(d.db);
    expect(rows).toEqual([{n: 2}]);
    expect(d.describe).toBe(`postgres://postgres@127.0.0.1:${pg.port}/postgres`);
    expect(redactUrl('postgres://u:p%40ss@h:5/db?password=x&sslmode=require')).toBe('postgres://u@h:5/db');
  });
});

describe('migrations', () => {
  it('three processes migrating one empty database at once apply each migration exactly once', async () => {
    const url = await freshDatabase('race');
    const child = fileURLToPath(new URL('./migrate-child.mjs', import.meta.url));
    const waiters: number[] = [];
    let done = false;
    const watch = (async () => {
      while (!done) {
        waiters.push(Number(await pg.psql("select count(*) from pg_locks where locktype = 'advisory' and not granted")));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const runs = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<{code: number; out: string; err: string}>((resolve) => {
            const p = spawn(process.execPath, [child, url], {stdio: ['ignore', 'pipe', 'pipe']});
            let out = '';
            let err = '';
            p.stdout.on('data', (d) => (out += d));
            p.stderr.on('data', (d) => (err += d));
            p.on('close', (code) => resolve({code: code ?? 1, out, err}));
          }),
      ),
    );
    done = true;
    await watch;
    expect(runs.map((r) => [r.code, r.err])).toEqual([
      [0, ''],
      [0, ''],
      [0, ''],
    ]);
    // While the first migrated, the two others queued on Kysely's advisory lock.
    expect(Math.max(...waiters)).toBe(2);
    const applied = runs.map((r) => JSON.parse(r.out) as {pid: number; applied: string[]});
    // One process applied both; the others found nothing left to do.
    expect(applied.map((a) => a.applied.length).sort()).toEqual([0, 0, 2]);
    const d = connect(url);
    const {rows} = await sql<{migration: string; pid: number}>`select migration, pid from migration_runs order by migration`.execute(d.db);
    const winner = applied.find((a) => a.applied.length === 2)!.pid;
    expect(rows).toEqual([
      {migration: '0001-runs', pid: winner},
      {migration: '0002-items', pid: winner},
    ]);
  });

  it('runs pending migrations in one transaction: a failing one leaves no trace, and is named', async () => {
    const url = await freshDatabase('failing');
    const d = connect(url);
    const migrations = {
      '0001-a': {up: async (db: any) => void (await sql`create table a (x int)`.execute(db))},
      '0002-b': {up: async (db: any) => void (await sql`create table b (x nonsense_type)`.execute(db))},
    };
    const error = await migrateToLatest(d.db, {migrations}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).message).toBe('database migration 0002-b failed: type "nonsense_type" does not exist');
    const {rows} = await sql<{n: number}>`select count(*)::int as n from pg_tables where tablename = 'a'`.execute(d.db);
    expect(rows[0]!.n).toBe(0);
    await expect(migrateToLatest(d.db, {migrations: {'add-things': migrations['0001-a']}})).rejects.toThrow('migration names must look like 0001-what-it-does: add-things');
  });
});

describe('transactions and locks', () => {
  it('retries serialization failures: concurrent read-modify-write increments all count', async () => {
    const url = await freshDatabase('serial');
    const d = connect(url, 12);
    await sql`create table counter (id int primary key, value int not null)`.execute(d.db);
    await sql`insert into counter values (1, 0)`.execute(d.db);
    let retries = 0;
    await Promise.all(
      Array.from({length: 12}, () =>
        inTransaction(
          d.db,
          async (trx) => {
            const {rows} = await sql<{value: number}>`select value from counter where id = 1`.execute(trx);
            await sql`select pg_sleep(0.02)`.execute(trx);
            await sql`update counter set value = ${rows[0]!.value + 1} where id = 1`.execute(trx);
          },
          {attempts: 30, onRetry: () => void retries++},
        ),
      ),
    );
    const {rows} = await sql<{value: number}>`select value from counter where id = 1`.execute(d.db);
    expect(rows[0]!.value).toBe(12);
    expect(retries).toBeGreaterThan(0);
  });

  it('one writer at a time across two pools: numbers taken under the advisory lock are consecutive and unique', async () => {
    const url = await freshDatabase('numbers');
    const a = connect(url);
    const b = connect(url);
    await sql`create table crl_numbers (issuer text not null, number int not null, primary key (issuer, number))`.execute(a.db);
    const next = (d: Database<any>) =>
      withAdvisoryLock(d.db, 'crl:CN=Test CA', async (trx) => {
        const {rows} = await sql<{n: number}>`select coalesce(max(number), 0)::int as n from crl_numbers where issuer = 'CN=Test CA'`.execute(trx);
        await sql`select pg_sleep(0.005)`.execute(trx);
        await sql`insert into crl_numbers values ('CN=Test CA', ${rows[0]!.n + 1})`.execute(trx);
        return rows[0]!.n + 1;
      });
    const got = await Promise.all(Array.from({length: 30}, (_, i) => next(i % 2 ? a : b)));
    expect([...got].sort((x, y) => x - y)).toEqual(Array.from({length: 30}, (_, i) => i + 1));
    // wait: false refuses instead of queueing while another process holds the lock.
    let release!: () => void;
    const held = withAdvisoryLock(a.db, 'krl', () => new Promise<void>((r) => (release = r)));
    await waitFor('the lock to be held', () => release !== undefined);
    await expect(withAdvisoryLock(b.db, 'krl', async () => 'ran', {wait: false})).rejects.toBeInstanceOf(LockBusyError);
    release();
    await held;
    expect(await withAdvisoryLock(b.db, 'krl', async () => 'ran', {wait: false})).toBe('ran');
  });
});

describe('leases with fencing', () => {
  it('one holder at a time; an expired lease is taken with a higher token and the old holder can write nothing more', async () => {
    const url = await freshDatabase('leases');
    const d = connect(url);
    await migrateToLatest(d.db, {migrations: {'0001-leases': leaseMigration}});
    await sql`create table writes (holder text not null)`.execute(d.db);
    const first = await acquireLease(d.db, 'deploy:web/prod', 'replica-a', 300);
    expect(first.token).toBe(1n);
    const busy = await acquireLease(d.db, 'deploy:web/prod', 'replica-b', 300).catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(LeaseHeldError);
    expect((busy as LeaseHeldError).message).toMatch(/^deploy:web\/prod is held by replica-a until \d{4}-/);
    const renewed = await renewLease(d.db, first);
    expect(renewed.token).toBe(1n);
    await new Promise((r) => setTimeout(r, 400));
    const second = await acquireLease(d.db, 'deploy:web/prod', 'replica-b', 10_000);
    expect(second.token).toBe(2n);
    const write = (lease: typeof first) =>
      inTransaction(d.db, async (trx) => {
        await assertLease(trx, lease);
        await sql`insert into writes values (${lease.holder})`.execute(trx);
      });
    await expect(write(first)).rejects.toBeInstanceOf(FencedError);
    await expect(renewLease(d.db, first)).rejects.toThrow('deploy:web/prod: this process no longer holds the lease (token 1, now 2); its write was refused');
    await write(second);
    await releaseLease(d.db, second);
    expect((await acquireLease(d.db, 'deploy:web/prod', 'replica-a', 1000)).token).toBe(3n);
    const {rows} = await sql<{holder: string}>`select holder from writes`.execute(d.db);
    expect(rows).toEqual([{holder: 'replica-b'}]);
  });
});

describe('a holder frozen inside a transaction', () => {
  it('loses its session after idleInTransactionTimeoutMs, so its share lock on the lease no longer blocks the next holder', async () => {
    const url = await freshDatabase('frozen');
    const setup = connect(url);
    await migrateToLatest(setup.db, {migrations: {'0001-leases': leaseMigration}});
    const frozen = openDatabase<any>({url, max: 1, idleInTransactionTimeoutMs: 500});
    open.push(frozen);
    const lease = await acquireLease(frozen.db, 'op:1', 'replica-a', 300);
    // A transaction that took the lease row FOR SHARE, then its process stopped (no commit, no close).
    const client = await frozen.pool.connect();
    // pg reports the server's FATAL message, then (when the socket closes) "Connection terminated
    // unexpectedly"; the socket may close after the next holder got the lock, so both are awaited.
    const ended: string[] = [];
    client.on('error', (e) => ended.push(e.message));
    try {
      await client.query('begin');
      await client.query(`select token from bcl_lease where name = 'op:1' for share`);
      await new Promise((r) => setTimeout(r, 400));
      const started = Date.now();
      const next = await acquireLease(setup.db, 'op:1', 'replica-b', 10_000);
      expect(next.token).toBe(2n);
      expect(Date.now() - started).toBeLessThan(5000);
      await vi.waitFor(() => expect(ended[0]).toBe('terminating connection due to idle-in-transaction timeout'), {timeout: 2000});
      await expect(client.query('select 1')).rejects.toThrow(/not queryable/);
    } finally {
      client.release(true);
    }
  });
});

describe('a session PostgreSQL ends under a client in use', () => {
  it('fails that transaction, is reported through onError, and the process and the pool go on', async () => {
    const url = await freshDatabase('ended');
    const errors: string[] = [];
    const database = openDatabase<any>({url, max: 1, idleInTransactionTimeoutMs: 300, onError: (m) => errors.push(m)});
    open.push(database);
    // A transaction whose process stalls past the timeout (a replica frozen, a long await): the
    // server ends the session while the client is checked out. Unhandled, its 'error' event
    // ended the whole process.
    const stalled = database.db.transaction().execute(async (trx) => {
      await sql`select 1`.execute(trx);
      await new Promise((r) => setTimeout(r, 1000));
      await sql`select 1`.execute(trx);
    });
    await expect(stalled).rejects.toThrow();
    expect(errors.some((m) => m.includes('terminating connection due to idle-in-transaction timeout'))).toBe(true);
    expect(errors.join('\n')).not.toContain(pg.password);
    const {rows} = await sql<{one: number}>`select 1 as one`.execute(database.db);
    expect(rows).toEqual([{one: 1}]);
  });
});

describe('the application role', () => {
  it('logs in with only the table privileges granted, and its password is stored as a SCRAM verifier', async () => {
    const url = await freshDatabase('roles');
    const owner = connect(url);
    await sql`create table events (id int generated always as identity primary key, what text not null)`.execute(owner.db);
    await ensureApplicationRole(owner.db, {role: 'app_user', password: 'app secret 1'});
    await grantTables(owner.db, 'app_user', {events: ['SELECT', 'INSERT']});
    // Again, with a new password: idempotent.
    await ensureApplicationRole(owner.db, {role: 'app_user', password: 'app secret 2'});
    const stored = await pg.psql("select rolpassword from pg_authid where rolname = 'app_user'");
    expect(stored).toMatch(/^SCRAM-SHA-256\$4096:/);
    const app = connect(url.replace(`postgres:${encodeURIComponent(pg.password)}@`, `app_user:${encodeURIComponent('app secret 2')}@`));
    await sql`insert into events (what) values ('x')`.execute(app.db);
    expect((await sql<{n: number}>`select count(*)::int as n from events`.execute(app.db)).rows[0]!.n).toBe(1);
    await expect(sql`update events set what = 'y'`.execute(app.db)).rejects.toThrow('permission denied for table events');
    await expect(sql`delete from events`.execute(app.db)).rejects.toThrow('permission denied for table events');
    await expect(sql`create table mine (x int)`.execute(app.db)).rejects.toThrow('permission denied for schema public');
  });
});

describe('notifications', () => {
  it('delivers a notification sent in a transaction at commit, not before', async () => {
    const url = await freshDatabase('notes');
    const d = connect(url);
    const got: string[] = [];
    const listener = await listen(url, 'operation_events', (p) => got.push(p));
    try {
      await inTransaction(d.db, async (trx) => {
        await notify(trx, 'operation_events', 'op-1:7');
        await new Promise((r) => setTimeout(r, 200));
        expect(got).toEqual([]);
      });
      await waitFor('the notification', () => got.length > 0);
      expect(got).toEqual(['op-1:7']);
    } finally {
      await listener.close();
    }
  });
});

describe('CRL numbers seen', () => {
  it('remembers the highest number per issuer for every replica, and never lowers it', async () => {
    const url = await freshDatabase('crls');
    const d = connect(url);
    await migrateToLatest(d.db, {migrations: {'0001-crl-numbers': crlNumberMigration}});
    const replicaA = postgresCrlNumberStore(d.db);
    const replicaB = postgresCrlNumberStore(connect(url).db);
    expect(await replicaB.highest('CN=Company PKI')).toBeUndefined();
    await replicaA.record('CN=Company PKI', 42n);
    await replicaA.record('CN=Company PKI', 7n);
    expect(await replicaB.highest('CN=Company PKI')).toBe(42n);
    await replicaB.record('CN=Company PKI', 2n ** 100n);
    expect(await replicaA.highest('CN=Company PKI')).toBe(2n ** 100n);
    expect(await replicaA.highest('CN=Other')).toBeUndefined();
  });
});
