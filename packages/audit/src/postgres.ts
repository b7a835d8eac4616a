import {escapeIdentifier, escapeLiteral, grantTables, inTransaction, type TransactionOptions} from '@bcl/postgres';
import {type Kysely, sql, type Transaction} from 'kysely';
import type {Migration} from 'kysely/migration';
import {type AuditEntry, type AuditRecord, chainEntry, entryLine, entryTemplates, GENESIS, TEMPLATE_MARKS, type Verification, verifyEntries} from './chain.js';

export interface AuditTableOptions {
  /** Default "audit_log"; the chain head lives in "<table>_head". */
  table?: string;
}

/**
 * The audit table, for the application's migrations (under its own number). The application
 * role gets SELECT and INSERT only (grantAuditAccess); a trigger refuses UPDATE, DELETE and
 * TRUNCATE for everyone, owner included, as a second guard.
 */
export function auditMigration(options: AuditTableOptions = {}): Migration {
  const table = options.table ?? 'audit_log';
  return {
    async up(db) {
      const t = sql.id(table);
      const head = sql.id(`${table}_head`);
      const fn = sql.id(`${table}_append_only`);
      await sql`create table ${t} (
        seq bigint primary key,
        at timestamptz not null,
        event text not null,
        line text not null,
        hash text not null
      )`.execute(db);
      await sql`create index ${sql.id(`${table}_event_at`)} on ${t} (event, at)`.execute(db);
      // The head row exists from the start, so the first appends also queue on its row lock.
      await sql`create table ${head} (id int primary key check (id = 1), seq bigint not null, hash text not null)`.execute(db);
      await sql`insert into ${head} (id, seq, hash) values (1, 0, ${GENESIS})`.execute(db);
      await sql`create function ${fn}() returns trigger language plpgsql as $$
        begin
          raise exception '% is append-only: % refused', tg_table_name, tg_op using errcode = 'insufficient_privilege';
        end $$`.execute(db);
      await sql`create trigger ${sql.id(`${table}_no_update_delete`)} before update or delete on ${t} for each row execute function ${fn}()`.execute(db);
      await sql`create trigger ${sql.id(`${table}_no_truncate`)} before truncate on ${t} for each statement execute function ${fn}()`.execute(db);
    },
  };
}

/** The application role's privileges: read and append the log, move the head. */
export async function grantAuditAccess(db: Kysely<any>, role: string, options: AuditTableOptions = {}): Promise<void> {
  const table = options.table ?? 'audit_log';
  await grantTables(db, role, {[table]: ['SELECT', 'INSERT'], [`${table}_head`]: ['SELECT', 'UPDATE']});
}

export interface PostgresAuditOptions extends AuditTableOptions {
  /** Every committed entry is written here as one JSON line (e.g. stdout for the log shipper). */
  stream?: {write(line: string): unknown};
  now?: () => Date;
}

type Record_ = AuditRecord;

/**
 * An append-only, hash-chained audit log in PostgreSQL. Entries are written inside the caller's
 * transaction (they commit with the change, or not at all) and emitted to the stream after the
 * commit, before the caller answers. Appends queue on the head row (SELECT ... FOR UPDATE), so
 * the chain stays linear across replicas: append as the last statement of a transaction.
 */
export class PostgresAuditLog {
  readonly table: string;
  readonly #now: () => Date;
  constructor(private readonly options: PostgresAuditOptions = {}) {
    this.table = options.table ?? 'audit_log';
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Appends within `trx` (the caller's transaction); emit the returned entries after commit. One
   * statement takes the head, links, hashes (SHA-256 in the database, of the same canonical
   * bytes chainEntry() hashes), inserts and moves the head: the head's lock is held from there to
   * the commit only, not across round trips while the caller's process is busy elsewhere.
   */
  async append(trx: Kysely<any> | Transaction<any>, record: Record_): Promise<AuditEntry> {
    const head = sql.id(`${this.table}_head`);
    const at = this.#now();
    const t = entryTemplates(record, at);
    const mark = (name: keyof typeof TEMPLATE_MARKS) => sql`chr(1) || ${name.toUpperCase()} || chr(1)`;
    const {rows} = await sql<{line: string}>`
      with old as (select seq, hash from ${head} where id = 1 for update),
      body as (select old.seq + 1 as seq, old.hash as prev, replace(replace(${t.body}::text, ${mark('seq')}, (old.seq + 1)::text), ${mark('prev')}, old.hash) as text from old),
      hashed as (select seq, prev, encode(sha256(convert_to(text, 'UTF8')), 'hex') as hash from body),
      entry as (select seq, hash, replace(replace(replace(${t.line}::text, ${mark('seq')}, seq::text), ${mark('prev')}, prev), ${mark('hash')}, hash) as line from hashed),
      inserted as (insert into ${sql.id(this.table)} (seq, at, event, line, hash) select seq, ${at}, ${record.event}, line, hash from entry returning seq)
      update ${head} set seq = entry.seq, hash = entry.hash from entry where ${head}.id = 1 returning entry.line`.execute(trx);
    if (!rows[0]) throw new Error(`${this.table}_head has no row: the audit table was not created by auditMigration()`);
    return JSON.parse(rows[0].line) as AuditEntry;
  }

  /**
   * Appends several entries in order within `trx`, in two statements whatever their number
   * (the head row is locked once): how a server that commits many changes in one transaction
   * keeps the time it holds the head short.
   */
  async appendAll(trx: Kysely<any> | Transaction<any>, records: readonly Record_[]): Promise<AuditEntry[]> {
    if (records.length === 0) return [];
    const head = sql.id(`${this.table}_head`);
    const {rows} = await sql<{seq: string; hash: string}>`select seq::text as seq, hash from ${head} where id = 1 for update`.execute(trx);
    if (!rows[0]) throw new Error(`${this.table}_head has no row: the audit table was not created by auditMigration()`);
    let current = rows[0].seq === '0' ? undefined : {seq: Number(rows[0].seq), hash: rows[0].hash};
    const at = this.#now();
    const entries = records.map((record) => {
      const entry = chainEntry(record, current, at);
      current = {seq: entry.seq, hash: entry.hash};
      return entry;
    });
    const values = entries.map((e) => sql`(${e.seq}, ${e.at}, ${e.event}, ${entryLine(e)}, ${e.hash})`);
    const last = entries.at(-1)!;
    // One statement for the entries and the head: the head stays locked for one round trip less.
    await sql`with appended as (insert into ${sql.id(this.table)} (seq, at, event, line, hash) values ${sql.join(values)})
      update ${head} set seq = ${last.seq}, hash = ${last.hash} where id = 1`.execute(trx);
    return entries;
  }

  /**
   * Commits `before` (SQL statements as text, their values inlined with escapeLiteral) and
   * `records` in one transaction of its own, in one round trip: BEGIN, `before`, one statement
   * that takes the head, chains, hashes (in the database, as append() does) and inserts every
   * entry and moves the head, and COMMIT go as one text. The head is held only while the database
   * runs that statement and commits, never while the caller's busy event loop comes back to its
   * socket: how a server commits many changes of several requests at once (group commit). A
   * statement of `before` that must not fail silently raises (the transaction is then rolled
   * back). Emits the entries after the commit. `client` is one connection of a pg pool, not
   * shared meanwhile.
   */
  async commitBatch(client: {query(text: string): Promise<unknown>}, before: string, records: readonly Record_[]): Promise<AuditEntry[]> {
    const table = escapeIdentifier(this.table);
    const head = escapeIdentifier(`${this.table}_head`);
    const parts = ['begin isolation level read committed', ...(before.trim() ? [before] : [])];
    if (records.length > 0) {
      const at = this.#now();
      const mark = (name: keyof typeof TEMPLATE_MARKS) => `chr(1) || '${name.toUpperCase()}' || chr(1)`;
      const input = records.map((record, i) => {
        const t = entryTemplates(record, at);
        return `(${i + 1}, ${escapeLiteral(t.body)}, ${escapeLiteral(t.line)}, ${escapeLiteral(at.toISOString())}::timestamptz, ${escapeLiteral(record.event)})`;
      });
      parts.push(`with recursive
        head as (select seq, hash from ${head} where id = 1 for update),
        input (n, body, line, at, event) as (values ${input.join(', ')}),
        chain (n, seq, hash, line, at, event) as (
          select 0, seq, hash, null::text, null::timestamptz, null::text from head
          union all
          select i.n, e.seq, e.hash, replace(replace(replace(i.line, ${mark('seq')}, e.seq::text), ${mark('prev')}, c.hash), ${mark('hash')}, e.hash), i.at, i.event
          from chain c join input i on i.n = c.n + 1
          cross join lateral (select c.seq + 1 as seq, encode(sha256(convert_to(replace(replace(i.body, ${mark('seq')}, (c.seq + 1)::text), ${mark('prev')}, c.hash), 'UTF8')), 'hex') as hash) e),
        inserted as (insert into ${table} (seq, at, event, line, hash) select seq, at, event, line, hash from chain where n > 0),
        moved as (update ${head} set seq = last.seq, hash = last.hash from (select seq, hash from chain order by n desc limit 1) last where ${head}.id = 1)
        select line from chain where n > 0 order by n`);
    }
    parts.push('commit');
    let results: unknown;
    try {
      results = await client.query(parts.join(';\n'));
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    }
    let entries: AuditEntry[] = [];
    if (records.length > 0) {
      const chained = (results as {rows: {line: string}[]}[]).at(-2)!;
      if (chained.rows.length !== records.length) throw new Error(`${this.table}_head has no row: the audit table was not created by auditMigration()`);
      entries = chained.rows.map((r) => JSON.parse(r.line) as AuditEntry);
    }
    this.emit(entries);
    return entries;
  }

  /**
   * Runs `fn` in a transaction (retried on serialization failures) with an `audit` function;
   * the entries commit with the change, then go to the stream, then `fn`'s result is returned.
   */
  async transaction<DB, T>(db: Kysely<DB>, fn: (trx: Transaction<DB>, audit: (record: Record_) => Promise<AuditEntry>) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    let entries: AuditEntry[] = [];
    const result = await inTransaction(
      db,
      async (trx) => {
        entries = [];
        return fn(trx, async (record) => {
          const entry = await this.append(trx, record);
          entries.push(entry);
          return entry;
        });
      },
      {isolation: 'read committed', ...options},
    );
    this.emit(entries);
    return result;
  }

  /** One entry in a transaction of its own (a refusal, a login). */
  async record(db: Kysely<any>, record: Record_): Promise<AuditEntry> {
    return this.transaction(db, (_trx, audit) => audit(record));
  }

  emit(entries: readonly AuditEntry[]): void {
    for (const entry of entries) this.options.stream?.write(`${entryLine(entry)}\n`);
  }

  /** Reads the whole log in order and checks the chain. */
  async verify(db: Kysely<any>, options: {expectedHead?: string} = {}): Promise<Verification> {
    const {rows} = await sql<{seq: string; line: string; hash: string}>`select seq::text as seq, line, hash from ${sql.id(this.table)} as entries order by entries.seq`.execute(db);
    return verifyEntries(
      rows.map((r) => ({seq: Number(r.seq), line: r.line, hash: r.hash})),
      options,
    );
  }
}
