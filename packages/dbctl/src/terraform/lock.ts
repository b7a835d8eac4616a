import {randomUUID} from 'node:crypto';
import {closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync} from 'node:fs';
import {hostname, userInfo} from 'node:os';
import {dirname} from 'node:path';
import {conflict, interrupted, unavailable} from '@bcl/core';

/**
 * dbctl's lock on one instance, held for a whole plan, provision, destroy or state migration (from
 * before the work directory is touched until the apply ends), with what Terraform's lock info says
 * of its holder. Terraform's own locks cannot do this job: the pg and local backends release theirs
 * when terraform dies, and the pg backend reports the asker instead of the holder. dbctl's lock
 * outlives a killed run on purpose: the next run is told, with the command that releases it, so a
 * person looks at a half-applied change before anyone applies on top of it.
 */
export interface LockInfo {
  id: string;
  /** Where the lock lives: "pg schema dbctl_shop", or the lock file. */
  path: string;
  operation: string;
  /** user@host, as Terraform writes it. */
  who: string;
  /** dbctl's version. */
  version: string;
  /** When it was taken (RFC 3339, UTC). */
  created: string;
  /** The instance and the spec file. */
  info: string;
  /** The process holding it (file locks: how a dead holder is recognised on the same host). */
  pid?: number;
  host?: string;
}

export interface HeldLock {
  info: LockInfo;
  release(): Promise<void>;
}

export interface LockStore {
  /** Takes the lock now, or returns who holds it (alive: false when its holder is gone). */
  tryAcquire(info: LockInfo): Promise<{held: HeldLock} | {holder: LockInfo | undefined; alive: boolean}>;
  /** The current holder, if any. */
  holder(): Promise<{lock: LockInfo; alive: boolean} | undefined>;
  /** Removes a lock whose holder is gone, if its id matches. */
  forceRelease(id: string): Promise<void>;
  close(): Promise<void>;
}

export interface AcquireOptions {
  instance: string;
  operation: string;
  info: string;
  version: string;
  timeoutMs: number;
  /** The flag or key that sets the wait, for messages. */
  timeoutLabel: string;
  signal?: AbortSignal | undefined;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

export function lockHolderText(lock: LockInfo): string {
  return `${lock.who} (${lock.operation}, since ${lock.created}, lock id ${lock.id})`;
}

export function unlockCommand(instance: string, lock: LockInfo): string {
  return `dbctl unlock ${instance} --lock-id ${lock.id}`;
}

/**
 * Takes the instance's lock, waiting up to the timeout while a live run holds it (exit 6 naming the
 * holder when the wait ends). A lock whose holder is gone is exit 6 at once, with the unlock command.
 */
export async function acquireLock(store: LockStore, o: AcquireOptions): Promise<HeldLock> {
  const now = o.now ?? (() => new Date());
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const info: LockInfo = {id: randomUUID(), path: '', operation: o.operation, who: whoAmI(), version: o.version, created: now().toISOString(), info: o.info, pid: process.pid, host: hostname()};
  const clock = () => now().getTime();
  const started = clock();
  for (;;) {
    if (o.signal?.aborted) throw interrupted(`interrupted while waiting for the lock on ${o.instance}`);
    const attempt = await store.tryAcquire({...info, created: now().toISOString()});
    if ('held' in attempt) return attempt.held;
    const holder = attempt.holder;
    if (holder && !attempt.alive) {
      throw conflict('dbctl.lock_stale', `${o.instance} is still locked by a run that ended without releasing its lock: ${lockHolderText(holder)}; what it was applying may be half done`, {
        hint: `Make sure that run is gone (and no terraform of it still runs), then release the lock with: ${unlockCommand(o.instance, holder)}`,
        details: {lock: holder, unlock: unlockCommand(o.instance, holder)},
      });
    }
    const waited = clock() - started;
    if (waited >= o.timeoutMs) {
      const who = holder ? lockHolderText(holder) : 'another dbctl run (it is writing its lock details)';
      throw conflict('dbctl.state_locked', `${o.instance} is locked by ${who}; waited ${Math.round(o.timeoutMs / 1000)}s`, {
        hint: `Wait for that run to finish, or wait longer with ${o.timeoutLabel}. Nothing was changed.`,
        details: {lock: holder},
      });
    }
    await sleep(Math.min(500, o.timeoutMs - waited));
  }
}

function whoAmI(): string {
  let user = process.env.USER ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers)
  }
  return `${user}@${hostname()}`;
}

/** Whether a process of this host still runs. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A lock file (local backend: next to the state; gcs and s3: in the work directory, beside
 * Terraform's own remote lock). Created with O_EXCL; its holder is alive while its process runs
 * on this host (a holder on another host is taken as alive: only a person can tell).
 */
export class FileLockStore implements LockStore {
  constructor(readonly file: string) {}

  async tryAcquire(info: LockInfo): Promise<{held: HeldLock} | {holder: LockInfo | undefined; alive: boolean}> {
    mkdirSync(dirname(this.file), {recursive: true, mode: 0o700});
    const mine = {...info, path: this.file};
    let fd: number;
    try {
      fd = openSync(this.file, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const current = await this.holder();
      return current ? {holder: current.lock, alive: current.alive} : {holder: undefined, alive: true};
    }
    try {
      writeSync(fd, `${JSON.stringify(mine, null, 2)}\n`);
    } finally {
      closeSync(fd);
    }
    return {
      held: {
        info: mine,
        release: async () => {
          const current = this.read();
          if (current?.id === mine.id) rmSync(this.file, {force: true});
        },
      },
    };
  }

  private read(): LockInfo | undefined {
    if (!existsSync(this.file)) return undefined;
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as LockInfo;
    } catch {
      return undefined;
    }
  }

  async holder(): Promise<{lock: LockInfo; alive: boolean} | undefined> {
    const lock = this.read();
    if (!lock) return undefined;
    const alive = lock.host !== hostname() || lock.pid === undefined || processAlive(lock.pid);
    return {lock, alive};
  }

  async forceRelease(id: string): Promise<void> {
    const lock = this.read();
    if (lock?.id === id) rmSync(this.file, {force: true});
  }

  async close(): Promise<void> {}
}

type PgClient = import('pg').Client;

/**
 * The lock in the state database (pg backend): a row in <schema>.dbctl_lock says who holds it, and
 * a session-level advisory lock of the holder's connection says that it is alive (PostgreSQL
 * releases it the moment that connection ends, also when the process is killed). The advisory key
 * is in the two-key space, apart from the single keys Terraform's pg backend takes.
 */
export class PgLockStore implements LockStore {
  private client: PgClient | undefined;
  private readonly table: string;

  constructor(
    private readonly connStr: string,
    private readonly schema: string,
  ) {
    this.table = `${quote(schema)}.dbctl_lock`;
  }

  private async db(): Promise<PgClient> {
    if (this.client) return this.client;
    const pg = ((await import('pg')) as unknown as {default: typeof import('pg')}).default;
    const client = new pg.Client(pgClientConfig(this.connStr));
    client.on('error', () => undefined);
    const create = async () => {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quote(this.schema)}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.table} (name text PRIMARY KEY, info jsonb NOT NULL)`);
    };
    try {
      await client.connect();
      // Two first runs at once can both try to create them: IF NOT EXISTS still races in the catalogs.
      await create().catch(async (error: {code?: string}) => {
        if (error.code === '23505' || error.code === '42P06' || error.code === '42P07') return create();
        throw error;
      });
    } catch (error) {
      await client.end().catch(() => undefined);
      throw unavailable('dbctl.state_unreachable', `cannot reach the state database (dbctl.backend pg): ${(error as Error).message}`, {
        hint: 'Check dbctl.backend and that the state database accepts connections (bcl doctor checks it).',
      });
    }
    this.client = client;
    return client;
  }

  private key(): string {
    return `hashtext('dbctl'), hashtext(${literal(this.schema)})`;
  }

  async tryAcquire(info: LockInfo): Promise<{held: HeldLock} | {holder: LockInfo | undefined; alive: boolean}> {
    const db = await this.db();
    const got = (await db.query(`SELECT pg_try_advisory_lock(${this.key()}) AS got`)).rows[0]?.got === true;
    const current = await this.row(db);
    if (!got) return {holder: current, alive: true};
    if (current) {
      // The holder's connection is gone but its row is not: it ended without releasing.
      await db.query(`SELECT pg_advisory_unlock(${this.key()})`);
      return {holder: current, alive: false};
    }
    const mine = {...info, path: `pg schema ${this.schema}`};
    await db.query(`INSERT INTO ${this.table} (name, info) VALUES ('default', $1)`, [JSON.stringify(mine)]);
    return {
      held: {
        info: mine,
        release: async () => {
          await db.query(`DELETE FROM ${this.table} WHERE name = 'default' AND info->>'id' = $1`, [mine.id]);
          await db.query(`SELECT pg_advisory_unlock(${this.key()})`);
        },
      },
    };
  }

  private async row(db: PgClient): Promise<LockInfo | undefined> {
    return (await db.query(`SELECT info FROM ${this.table} WHERE name = 'default'`)).rows[0]?.info as LockInfo | undefined;
  }

  async holder(): Promise<{lock: LockInfo; alive: boolean} | undefined> {
    const db = await this.db();
    const lock = await this.row(db);
    if (!lock) return undefined;
    const free = (await db.query(`SELECT pg_try_advisory_lock(${this.key()}) AS got`)).rows[0]?.got === true;
    if (free) await db.query(`SELECT pg_advisory_unlock(${this.key()})`);
    return {lock, alive: !free};
  }

  async forceRelease(id: string): Promise<void> {
    const db = await this.db();
    await db.query(`DELETE FROM ${this.table} WHERE name = 'default' AND info->>'id' = $1`, [id]);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}

/** node-postgres settings for a postgres:// URL, with libpq's (and Terraform's) sslmode meanings; the default is require. */
export function pgClientConfig(connStr: string): import('pg').ClientConfig {
  const url = new URL(connStr);
  const sslmode = url.searchParams.get('sslmode') ?? 'require';
  const ssl = sslmode === 'disable' ? false : sslmode === 'verify-full' || sslmode === 'verify-ca' ? {rejectUnauthorized: true, ...(url.searchParams.get('sslrootcert') ? {ca: readFileSync(url.searchParams.get('sslrootcert')!, 'utf8')} : {})} : {rejectUnauthorized: false};
  return {
    host: decodeURIComponent(url.hostname.replace(/^\[|\]$/g, '')),
    port: url.port ? Number(url.port) : 5432,
    user: decodeURIComponent(url.username),
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || undefined,
    ssl,
    connectionTimeoutMillis: 15_000,
    application_name: 'dbctl lock',
  };
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
