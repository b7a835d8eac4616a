import {randomBytes} from 'node:crypto';
import {hostname} from 'node:os';
import {type AuditEntry, GroupCommit, PostgresAuditLog} from '@bcl/audit';
import {type Database, escapeNullable, inTransaction, type Kysely, type Listener, listen, notify, openDatabase, redactSecrets, ReservedBlock, sql, type Transaction} from '@bcl/postgres';
import {DatabaseError} from './errors.js';
import {AUDIT_TABLE, MIGRATION_TABLE, migrations} from './migrations/index.js';
import type {AuditEvent, AuthzStore, CaKeyRecord, CaKeyring, IssuedRecord, RevokeOutcome, Revocation, TotpEnrolment} from './types.js';

export {DatabaseError} from './errors.js';

/** The channel on which a replica tells the others that the KRL or the keyring changed. */
const CHANNEL = 'cssh_authz';
/** The longest a replica serves a cached KRL version or keyring when no notification came (a lost one). */
export const CHANGE_POLL_MS = 1000;
/** How long a replica waits before listening again after losing its LISTEN connection. */
const LISTEN_RETRY_MS = 2000;
/** Serials reserved at once. */
const SERIAL_BLOCK = 64;

export interface PostgresStoreOptions {
  /** The connection string (a secret: never logged; messages name the server without the password). */
  url: string;
  /** Connections per replica (default 10). */
  pool?: number;
  /** Told about a lost notification connection or a pool error (the password removed). */
  onWarning?: (message: string) => void;
  /** Every committed audit entry as one JSON line (e.g. for a log shipper). */
  auditStream?: {write(line: string): unknown};
}

type Row = Record<string, any>;

/**
 * The AuthzStore of replicas: the state in PostgreSQL, shared by every cssh-authz on the database.
 *
 * - Serials are reserved in blocks (rows of cssh_serial, unique by its key) before any is used
 *   for signing; an issuance's ledger row and audit entry commit together, in a transaction that
 *   may carry other issuances of this replica (group commit), before the caller is answered.
 * - Revocations and keyring changes lock their single row, so the KRL and keyring versions go up
 *   by one per change across replicas, and NOTIFY the others; each replica re-reads the version
 *   at once on a notification and at least every CHANGE_POLL_MS without one.
 * - A TOTP step is accepted by an UPDATE that only matches a later step: one replica wins.
 */
export class PostgresStore implements AuthzStore {
  private readonly holder = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly audit_: PostgresAuditLog;
  private readonly serials = new ReservedBlock(() => this.reserveBlock(), {low: SERIAL_BLOCK / 2, exhausted: () => new Error('could not reserve a certificate serial')});
  private readonly writer: GroupCommit<IssuedRecord>;
  private krlCache = {version: -1, readAt: 0};
  private keyringCache: {keyring: CaKeyring; readAt: number} | undefined;
  private listener: Listener | undefined;
  private readonly watchers = new Set<() => void>();
  private closed = false;

  private constructor(
    private readonly database: Database<any>,
    private readonly options: PostgresStoreOptions,
  ) {
    this.audit_ = new PostgresAuditLog({table: AUDIT_TABLE, ...(options.auditStream ? {stream: options.auditStream} : {})});
    this.writer = new GroupCommit({pool: database.pool, audit: this.audit_, statements: ledgerRows});
  }

  get description(): string {
    return `database ${this.database.describe}`;
  }

  private get db(): Kysely<any> {
    return this.database.db;
  }

  /** Connects, checks that the schema is this version's, and listens for the other replicas' changes. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const database = openDatabase<any>({url: options.url, max: options.pool ?? 10, applicationName: 'cssh-authz', ...(options.onWarning ? {onError: options.onWarning} : {})});
    const store = new PostgresStore(database, options);
    try {
      await checkSchema(database);
      await store.startListening();
    } catch (error) {
      await database.close().catch(() => undefined);
      throw asDatabaseError(error, database.describe, options.url);
    }
    return store;
  }

  /**
   * LISTEN for the other replicas' changes; when the connection is lost, the poll bounds how stale
   * this replica can be, and listening starts again (every LISTEN_RETRY_MS until it works).
   */
  private async startListening(): Promise<void> {
    let lost = false;
    let listener: Listener | undefined;
    listener = await listen(
      this.options.url,
      CHANNEL,
      (what) => this.invalidate(what),
      (message) => {
        if (lost) return;
        lost = true;
        this.options.onWarning?.(`${message}; until it is back, this replica learns of revocations by polling (every ${CHANGE_POLL_MS} ms)`);
        void listener?.close().catch(() => undefined);
        this.listener = undefined;
        this.retryListening();
      },
    );
    if (this.closed) {
      await listener.close().catch(() => undefined);
      return;
    }
    this.listener = listener;
    // What changed while nobody listened is read again.
    this.invalidate('krl');
    this.invalidate('keyring');
  }

  private retryListening(): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.startListening().then(
        () => this.options.onWarning?.('listening for other replicas\' changes again'),
        () => this.retryListening(),
      );
    }, LISTEN_RETRY_MS);
    timer.unref();
  }

  async issue<T>(sign: (serial: bigint) => Promise<{record: IssuedRecord; audit: AuditEvent; result: T}> | {record: IssuedRecord; audit: AuditEvent; result: T}): Promise<T> {
    const [serial, signed] = await this.serials.use(async (serial) => [serial, await sign(BigInt(serial))] as const);
    if (signed.record.serial !== serial) throw new Error(`the certificate's ledger row names serial ${signed.record.serial}, not the reserved ${serial}`);
    await this.writer.write(signed.audit, signed.record);
    return signed.result;
  }

  async findIssued(serial: string, at: Date): Promise<IssuedRecord | undefined> {
    if (!/^\d{1,20}$/.test(serial)) return undefined;
    const {rows} = await sql<Row>`select * from cssh_issued where serial = ${serial}::numeric and valid_before > ${at}`.execute(this.db);
    return rows[0] ? issuedRecord(rows[0]) : undefined;
  }

  async validIssuedFor(email: string, at: Date): Promise<IssuedRecord[]> {
    const {rows} = await sql<Row>`select * from cssh_issued where email = ${email.toLowerCase()} and valid_before > ${at} order by issued_at, serial`.execute(this.db);
    return rows.map(issuedRecord);
  }

  async countValid(at: Date): Promise<number> {
    const {rows} = await sql<{n: string}>`select count(*) as n from cssh_issued where valid_before > ${at}`.execute(this.db);
    return Number(rows[0]!.n);
  }

  async isRevoked(serial: string): Promise<boolean> {
    if (!/^\d{1,20}$/.test(serial)) return false;
    const {rows} = await sql`select 1 from cssh_revocation where serial = ${serial}::numeric`.execute(this.db);
    return rows.length > 0;
  }

  async revoke(targets: readonly IssuedRecord[], by: {email: string; reason: string; at: Date}, audit: (outcome: RevokeOutcome) => AuditEvent): Promise<RevokeOutcome> {
    const outcome = await this.change(async (trx, record) => {
      // The KRL row is the single writer's lock: revocations of every replica queue here.
      const {rows} = await sql<{version: string}>`select version::text as version from cssh_krl where id = 1 for update`.execute(trx);
      let version = Number(rows[0]!.version);
      const serials = [...new Set(targets.map((t) => t.serial))];
      const known = serials.length === 0 ? [] : (await sql<{serial: string}>`select serial::text as serial from cssh_revocation where serial = any(${serials}::numeric[])`.execute(trx)).rows.map((r) => r.serial);
      const alreadyRevoked = serials.filter((s) => known.includes(s));
      const fresh = serials.filter((s) => !known.includes(s)).map((s) => targets.find((t) => t.serial === s)!);
      if (fresh.length > 0) {
        version += 1;
        await sql`insert into cssh_revocation (serial, key_id, email, valid_before, revoked_at, revoked_by, reason, krl_version) values ${sql.join(
          fresh.map((t) => sql`(${t.serial}::numeric, ${t.keyId}, ${t.email}, ${t.validBefore}, ${by.at}, ${by.email}, ${by.reason}, ${version})`),
        )}`.execute(trx);
        await sql`update cssh_krl set version = ${version} where id = 1`.execute(trx);
        await notify(trx, CHANNEL, 'krl');
      }
      const result = {revoked: fresh.map((t) => t.serial), alreadyRevoked, krlVersion: version};
      await record(audit(result));
      return result;
    });
    this.noteKrlVersion(outcome.krlVersion);
    return outcome;
  }

  async krlVersion(): Promise<number> {
    if (Date.now() - this.krlCache.readAt < CHANGE_POLL_MS) return this.krlCache.version;
    const readAt = Date.now();
    const {rows} = await sql<{version: string}>`select version::text as version from cssh_krl where id = 1`.execute(this.db);
    this.noteKrlVersion(Number(rows[0]!.version), readAt);
    return this.krlCache.version;
  }

  async revocations(after: Date): Promise<{version: number; revocations: Revocation[]}> {
    // One statement, one snapshot: the version and the rows it covers.
    const {rows} = await sql<{version: string; revocations: Row[]}>`
      select k.version::text as version,
        coalesce((select json_agg(json_build_object('serial', r.serial::text, 'keyId', r.key_id, 'email', r.email, 'validBefore', r.valid_before, 'revokedAt', r.revoked_at, 'by', r.revoked_by, 'reason', r.reason) order by r.krl_version, r.serial)
                  from cssh_revocation r where r.valid_before > ${after}), '[]'::json) as revocations
      from cssh_krl k where k.id = 1`.execute(this.db);
    const version = Number(rows[0]!.version);
    this.noteKrlVersion(version);
    return {
      version,
      revocations: rows[0]!.revocations.map((r) => ({...r, validBefore: iso(r.validBefore), revokedAt: iso(r.revokedAt)}) as Revocation),
    };
  }

  async caKeyring(): Promise<CaKeyring> {
    const cached = this.keyringCache;
    if (cached && Date.now() - cached.readAt < CHANGE_POLL_MS) return cached.keyring;
    const readAt = Date.now();
    const {rows} = await sql<{version: string; keys: CaKeyRecord[]}>`select version::text as version, keys from cssh_ca_keyring where id = 1`.execute(this.db);
    const keyring = {version: Number(rows[0]!.version), keys: rows[0]!.keys};
    if (!this.keyringCache || keyring.version >= this.keyringCache.keyring.version) this.keyringCache = {keyring, readAt};
    return this.keyringCache.keyring;
  }

  async replaceCaKeyring(expectedVersion: number, keys: readonly CaKeyRecord[], audit: AuditEvent): Promise<boolean> {
    const replaced = await this.change(async (trx, record) => {
      const {rows} = await sql<{version: string}>`select version::text as version from cssh_ca_keyring where id = 1 for update`.execute(trx);
      if (Number(rows[0]!.version) !== expectedVersion) return false;
      await sql`update cssh_ca_keyring set version = ${expectedVersion + 1}, keys = ${JSON.stringify(keys)}::jsonb where id = 1`.execute(trx);
      await notify(trx, CHANNEL, 'keyring');
      await record(audit);
      return true;
    });
    if (replaced) this.keyringCache = {keyring: {version: expectedVersion + 1, keys: [...keys]}, readAt: Date.now()};
    return replaced;
  }

  async totpEnrolment(email: string): Promise<TotpEnrolment | undefined> {
    const {rows} = await sql<Row>`select * from cssh_totp_enrolment where email = ${email.toLowerCase()}`.execute(this.db);
    return rows[0] ? totpEnrolment(rows[0]) : undefined;
  }

  async saveTotpEnrolment(enrolment: TotpEnrolment, audit: AuditEvent): Promise<void> {
    const e = enrolment.email.toLowerCase();
    await this.change(async (trx, record) => {
      await sql`insert into cssh_totp_enrolment (email, sealed_secret, state, created_at, confirmed_at, last_step)
        values (${e}, ${enrolment.sealedSecret}, ${enrolment.state}, ${enrolment.createdAt}, ${enrolment.confirmedAt}, ${enrolment.lastStep})
        on conflict (email) do update set sealed_secret = excluded.sealed_secret, state = excluded.state, created_at = excluded.created_at,
          confirmed_at = excluded.confirmed_at, last_step = excluded.last_step`.execute(trx);
      await sql`delete from cssh_totp_failure where email = ${e}`.execute(trx);
      await record(audit);
    });
  }

  async useTotpStep(email: string, step: number, options: {activate: boolean; at: Date}, audit: AuditEvent): Promise<boolean> {
    const e = email.toLowerCase();
    return this.change(async (trx, record) => {
      // Only a later step matches: of two replicas accepting the same code, one updates the row.
      const {rows} = await sql`update cssh_totp_enrolment set last_step = ${step},
          state = case when ${options.activate} and state = 'pending' then 'active' else state end,
          confirmed_at = case when ${options.activate} and state = 'pending' then ${options.at}::timestamptz else confirmed_at end
        where email = ${e} and last_step < ${step} returning email`.execute(trx);
      if (rows.length === 0) return false;
      await sql`delete from cssh_totp_failure where email = ${e}`.execute(trx);
      await record(audit);
      return true;
    });
  }

  async addTotpFailure(email: string, at: Date, audit: AuditEvent): Promise<void> {
    const e = email.toLowerCase();
    await this.change(async (trx, record) => {
      // Failures older than a day are of no use to any rate limit: dropped as new ones come.
      await sql`delete from cssh_totp_failure where email = ${e} and at < ${new Date(at.getTime() - 86_400_000)}`.execute(trx);
      await sql`insert into cssh_totp_failure (email, at) values (${e}, ${at})`.execute(trx);
      await record(audit);
    });
  }

  async totpFailuresSince(email: string, since: Date): Promise<number> {
    const {rows} = await sql<{n: string}>`select count(*) as n from cssh_totp_failure where email = ${email.toLowerCase()} and at >= ${since}`.execute(this.db);
    return Number(rows[0]!.n);
  }

  async audit(event: AuditEvent): Promise<void> {
    await this.writer.write(event);
  }

  watch(listener: () => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.drain();
    // Reservations never used go back; a serial that is in the ledger stays (the foreign key).
    const unused = await this.serials.drain();
    if (unused.length > 0) {
      await sql`delete from cssh_serial s where s.serial = any(${unused}::numeric[]) and not exists (select 1 from cssh_issued i where i.serial = s.serial)`.execute(this.db).catch(() => undefined);
    }
    await this.listener?.close().catch(() => undefined);
    await this.database.close();
  }

  /** The underlying database, for the commands that move state into it. */
  get kysely(): Kysely<any> {
    return this.db;
  }

  get auditLog(): PostgresAuditLog {
    return this.audit_;
  }

  /** A transaction whose audit entries commit with it and are emitted after the commit. */
  private async change<T>(fn: (trx: Transaction<any>, record: (event: AuditEvent) => Promise<void>) => Promise<T>): Promise<T> {
    let entries: AuditEntry[] = [];
    const result = await inTransaction(
      this.db,
      async (trx) => {
        entries = [];
        const pending: AuditEvent[] = [];
        const value = await fn(trx, async (event) => void pending.push(event));
        // Appended last: the audit head is locked only until the commit.
        entries = await this.audit_.appendAll(trx, pending);
        return value;
      },
      {isolation: 'read committed'},
    );
    this.audit_.emit(entries);
    return result;
  }

  /** A block of serials for this replica: a serial someone holds already (2^-64 per pair) is simply not ours. */
  private async reserveBlock(): Promise<string[]> {
    const drawn = Array.from({length: SERIAL_BLOCK}, () => randomBytes(8).readBigUInt64BE(0)).filter((s) => s !== 0n).map(String);
    const {rows} = await sql<{serial: string}>`insert into cssh_serial (serial, reserved_by) select s, ${this.holder} from unnest(${drawn}::numeric[]) as s
      on conflict (serial) do nothing returning serial::text as serial`.execute(this.db);
    return rows.map((r) => r.serial);
  }

  private noteKrlVersion(version: number, readAt = Date.now()): void {
    // Versions only go up: a read that raced a newer notification never moves the cache back.
    if (version >= this.krlCache.version) this.krlCache = {version, readAt};
  }

  private invalidate(what: string): void {
    if (what === 'krl') this.krlCache = {...this.krlCache, readAt: 0};
    else if (what === 'keyring') this.keyringCache = undefined;
    for (const w of this.watchers) w();
  }
}

/** Refuses a database whose schema is not (yet) this version's, naming the command that fixes it. */
export async function checkSchema(database: Database<any>): Promise<void> {
  let applied: string[];
  try {
    const {rows} = await sql<{name: string}>`select name from ${sql.table(MIGRATION_TABLE)}`.execute(database.db);
    applied = rows.map((r) => r.name);
  } catch (error) {
    if ((error as {code?: string}).code === '42P01') applied = [];
    else throw error;
  }
  const missing = Object.keys(migrations).filter((m) => !applied.includes(m));
  if (missing.length > 0) {
    throw new DatabaseError(
      `database ${database.describe}: ${applied.length === 0 ? 'has no cssh-authz schema yet' : `the schema lacks ${missing.join(', ')}`}; run cssh-authz db migrate --config <file> first`,
      'schema',
    );
  }
}

/** A connection failure as a DatabaseError naming the server without its password. */
export function asDatabaseError(error: unknown, describe: string, url: string): unknown {
  if (error instanceof DatabaseError) return error;
  const e = error as {code?: string; message?: string};
  const message = redactSecrets(e.message ?? String(error), url);
  if (e.code === '28P01' || e.code === '28000') return new DatabaseError(`database ${describe}: the server refused the credentials: ${message}`, 'unavailable');
  if (e.code === '3D000') return new DatabaseError(`database ${describe}: ${message}`, 'unavailable');
  if (e.code === '42501') return new DatabaseError(`database ${describe}: permission denied: ${message}; run cssh-authz db migrate (it grants the application role what it needs)`, 'schema');
  if ((e.code && /^(ECONN|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|EAI_)/.test(e.code)) || (!e.code && (error as Error).name === 'Error' && /timeout|terminated|connect/i.test(message))) {
    return new DatabaseError(`database ${describe}: cannot connect: ${message}`, 'unavailable');
  }
  return error;
}

function iso(value: unknown): string {
  return new Date(value as string | Date).toISOString();
}

function issuedRecord(row: Row): IssuedRecord {
  return {
    serial: String(row.serial),
    keyId: row.key_id,
    email: row.email,
    principals: row.principals,
    validAfter: iso(row.valid_after),
    validBefore: iso(row.valid_before),
    issuedAt: iso(row.issued_at),
    ...(row.ca_key ? {caKey: row.ca_key} : {}),
    mfa: row.mfa ?? null,
  };
}

function totpEnrolment(row: Row): TotpEnrolment {
  return {
    email: row.email,
    sealedSecret: row.sealed_secret,
    state: row.state,
    createdAt: iso(row.created_at),
    confirmedAt: row.confirmed_at ? iso(row.confirmed_at) : null,
    lastStep: Number(row.last_step),
  };
}

/** The ledger rows of a batch of issuances, as one statement (values inlined: see GroupCommit). */
function ledgerRows(issued: readonly IssuedRecord[]): string {
  const rows = issued.map((r) => {
    if (!/^\d{1,20}$/.test(r.serial)) throw new Error(`not a certificate serial: ${r.serial.slice(0, 30)}`);
    return `(${r.serial}::numeric, ${escapeNullable(r.keyId)}, ${escapeNullable(r.email.toLowerCase())}, ${escapeNullable(JSON.stringify(r.principals))}::jsonb, ${escapeNullable(r.validAfter)}::timestamptz, ${escapeNullable(r.validBefore)}::timestamptz, ${escapeNullable(r.issuedAt)}::timestamptz, ${escapeNullable(r.caKey)}, ${escapeNullable(r.mfa)})`;
  });
  return `insert into cssh_issued (serial, key_id, email, principals, valid_after, valid_before, issued_at, ca_key, mfa) values ${rows.join(', ')}`;
}
