import {type Kysely, sql} from 'kysely';
import type {Migration} from 'kysely/migration';

/** The lease table: include `leaseMigration` in the application's migrations under its own number. */
export const LEASE_TABLE = 'bcl_lease';

export const leaseMigration: Migration = {
  async up(db) {
    await sql`create table ${sql.id(LEASE_TABLE)} (
      name text primary key,
      holder text not null,
      token bigint not null,
      expires_at timestamptz not null
    )`.execute(db);
  },
};

export interface Lease {
  name: string;
  holder: string;
  /** The fencing token: increases every time the lease changes hands. */
  token: bigint;
  expiresAt: Date;
  ttlMs: number;
}

/** Someone else holds the lease. */
export class LeaseHeldError extends Error {
  override readonly name = 'LeaseHeldError';
  constructor(
    readonly lease: string,
    readonly holder: string,
    readonly expiresAt: Date,
  ) {
    super(`${lease} is held by ${holder} until ${expiresAt.toISOString()}`);
  }
}

/** This holder lost the lease (it expired and was taken): its writes are refused. */
export class FencedError extends Error {
  override readonly name = 'FencedError';
  constructor(
    readonly lease: string,
    readonly token: bigint,
    readonly current: bigint | undefined,
  ) {
    super(`${lease}: this process no longer holds the lease (token ${token}, now ${current ?? 'none'}); its write was refused`);
  }
}

type Row = {holder: string; token: string; expires_at: Date};
type Db = Kysely<any>;

/**
 * Takes a named lease for `ttlMs` (time is the database's, so replicas' clocks do not matter).
 * A free or expired lease is taken with a higher fencing token; one this holder already holds
 * is extended; one held by another is LeaseHeldError naming the holder.
 */
export async function acquireLease(db: Db, name: string, holder: string, ttlMs: number): Promise<Lease> {
  const ttl = `${Math.ceil(ttlMs)} milliseconds`;
  const taken = await sql<Row>`
    insert into ${sql.id(LEASE_TABLE)} as l (name, holder, token, expires_at)
    values (${name}, ${holder}, 1, clock_timestamp() + ${ttl}::interval)
    on conflict (name) do update set holder = excluded.holder, token = l.token + 1, expires_at = excluded.expires_at
      where l.expires_at < clock_timestamp() or l.holder = excluded.holder
    returning holder, token::text as token, expires_at`.execute(db);
  const row = taken.rows[0];
  if (row) return {name, holder, token: BigInt(row.token), expiresAt: row.expires_at, ttlMs};
  const current = await sql<Row>`select holder, token::text as token, expires_at from ${sql.id(LEASE_TABLE)} where name = ${name}`.execute(db);
  const held = current.rows[0]!;
  throw new LeaseHeldError(name, held.holder, held.expires_at);
}

/** Extends a lease this process holds; FencedError when it was lost meanwhile. */
export async function renewLease(db: Db, lease: Lease): Promise<Lease> {
  const ttl = `${Math.ceil(lease.ttlMs)} milliseconds`;
  const {rows} = await sql<Row>`
    update ${sql.id(LEASE_TABLE)} set expires_at = clock_timestamp() + ${ttl}::interval
    where name = ${lease.name} and token = ${lease.token} and expires_at >= clock_timestamp()
    returning holder, token::text as token, expires_at`.execute(db);
  if (!rows[0]) throw new FencedError(lease.name, lease.token, await currentToken(db, lease.name));
  return {...lease, expiresAt: rows[0].expires_at};
}

/** Gives the lease up at once (the next acquire gets a new token). */
export async function releaseLease(db: Db, lease: Lease): Promise<void> {
  await sql`update ${sql.id(LEASE_TABLE)} set expires_at = clock_timestamp() - interval '1 millisecond' where name = ${lease.name} and token = ${lease.token}`.execute(db);
}

/**
 * Inside the transaction that writes on the lease's behalf: refuses (FencedError) unless this
 * lease is still current. The row is locked FOR SHARE, so it cannot change hands before commit.
 */
export async function assertLease(trx: Db, lease: Lease): Promise<void> {
  const {rows} = await sql<{token: string; live: boolean}>`
    select token::text as token, expires_at >= clock_timestamp() as live from ${sql.id(LEASE_TABLE)} where name = ${lease.name} for share`.execute(trx);
  const row = rows[0];
  if (!row || BigInt(row.token) !== lease.token || !row.live) throw new FencedError(lease.name, lease.token, row ? BigInt(row.token) : undefined);
}

async function currentToken(db: Db, name: string): Promise<bigint | undefined> {
  const {rows} = await sql<{token: string}>`select token::text as token from ${sql.id(LEASE_TABLE)} where name = ${name}`.execute(db);
  return rows[0] ? BigInt(rows[0].token) : undefined;
}
