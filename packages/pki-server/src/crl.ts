/**
 * The CRL: signed by the CA, stored in the database, served by every replica at one stable URL.
 * A new one is made on every revocation and on a schedule, one writer at a time (an advisory
 * lock), numbered from a counter that only grows, so CRL numbers strictly increase across
 * replicas and a relying party never sees an older list under a newer number.
 */
import type {PostgresAuditLog} from '@bcl/audit';
import type {CrlReason} from '@bcl/pki-ca/crl-reasons';
import {type Kysely, LockBusyError, sql, withAdvisoryLock} from '@bcl/postgres';
import type {CaMaterial} from './ca.js';
import type {PkiDb} from './db/schema.js';
import type {PolicyStore} from './policy-store.js';

const DAY = 86_400_000;

export interface PublishedCrl {
  number: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  der: Buffer;
  revoked: number;
}

export function crlPem(der: Buffer): string {
  return `-----BEGIN X509 CRL-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END X509 CRL-----\n`;
}

export class CrlPublisher {
  #cached: PublishedCrl | undefined;

  constructor(
    private readonly db: Kysely<PkiDb>,
    private readonly ca: CaMaterial,
    private readonly policies: PolicyStore,
    private readonly audit: PostgresAuditLog,
    private readonly now: () => Date,
    /** A scheduled refresh makes a new CRL when the current one is older than this. */
    private readonly refreshMs: number,
  ) {}

  /** Signs and stores the next CRL (every revoked certificate that has not expired). */
  async publish(trigger: string): Promise<PublishedCrl> {
    return (await this.make(trigger, {}))!;
  }

  private async make(trigger: string, options: {wait?: boolean; unlessNewerThan?: Date}): Promise<PublishedCrl | undefined> {
    const {buildCrl} = await import('@bcl/pki-ca');
    const policy = (await this.policies.current()).policy;
    const issuer = this.ca.issuerId;
    const made = await withAdvisoryLock(
      this.db,
      `pki-crl:${issuer}`,
      async (trx) => {
        const now = this.now();
        // Checked again under the lock: another replica may have just made one.
        if (options.unlessNewerThan) {
          const latest = await trx.selectFrom('crls').select('this_update').where('issuer', '=', issuer).orderBy('number', 'desc').limit(1).executeTakeFirst();
          if (latest && latest.this_update > options.unlessNewerThan) return undefined;
        }
        const {rows} = await sql<{n: string}>`insert into crl_numbers (issuer, last_number) values (${issuer}, 1)
          on conflict (issuer) do update set last_number = crl_numbers.last_number + 1 returning last_number::text as n`.execute(trx);
        const number = BigInt(rows[0]!.n);
        const revoked = await trx
          .selectFrom('certificates')
          .select(['serial', 'revoked_at', 'reason'])
          .where('issuer', '=', issuer)
          .where('status', '=', 'revoked')
          .where('not_after', '>', now)
          .orderBy('revoked_at')
          .execute();
        const nextUpdate = new Date(now.getTime() + policy.crlValidityDays * DAY);
        const pem = await buildCrl({
          issuer: {certPem: this.ca.issuerPem, key: this.ca.key},
          number,
          thisUpdate: now,
          nextUpdate,
          entries: revoked.map((r) => ({serial: r.serial, revokedAt: r.revoked_at!, reason: (r.reason ?? 'unspecified') as CrlReason})),
        });
        const der = Buffer.from(pem.replace(/-----[A-Z0-9 ]+-----/g, '').replace(/\s+/g, ''), 'base64');
        await trx.insertInto('crls').values({issuer, number: number.toString(), this_update: now, next_update: nextUpdate, der, revoked_count: revoked.length}).execute();
        // Older CRLs are history: keep the last few for looking back, nothing serves them.
        await sql`delete from crls where issuer = ${issuer} and number < ${(number - 20n).toString()}::numeric`.execute(trx);
        const entry = await this.audit.append(trx, {event: 'crl.published', number: number.toString(), revoked: revoked.length, trigger, nextUpdate: nextUpdate.toISOString()});
        return {crl: {number, thisUpdate: now, nextUpdate, der, revoked: revoked.length}, entry};
      },
      {wait: options.wait ?? true},
    );
    if (!made) return undefined;
    this.audit.emit([made.entry]);
    this.#cached = made.crl;
    return made.crl;
  }

  /** The newest CRL in the database (every replica serves the same one). */
  async latest(): Promise<PublishedCrl | undefined> {
    const head = await this.db.selectFrom('crls').select(['number']).where('issuer', '=', this.ca.issuerId).orderBy('number', 'desc').limit(1).executeTakeFirst();
    if (!head) return undefined;
    if (this.#cached && this.#cached.number === BigInt(head.number)) return this.#cached;
    const row = await this.db.selectFrom('crls').selectAll().where('issuer', '=', this.ca.issuerId).where('number', '=', head.number).executeTakeFirstOrThrow();
    this.#cached = {number: BigInt(row.number), thisUpdate: row.this_update, nextUpdate: row.next_update, der: row.der, revoked: row.revoked_count};
    return this.#cached;
  }

  /** Makes a CRL when there is none or the newest is due; another replica doing it already is fine. */
  async refreshIfDue(trigger = 'schedule'): Promise<void> {
    const latest = await this.latest();
    if (latest && this.now().getTime() - latest.thisUpdate.getTime() < this.refreshMs) return;
    try {
      await this.make(trigger, {wait: false, unlessNewerThan: new Date(this.now().getTime() - this.refreshMs)});
    } catch (error) {
      if (!(error instanceof LockBusyError)) throw error;
    }
  }

  /** After a migration: the next number is above the store's last one. */
  static async raiseNumber(trx: Kysely<PkiDb>, issuer: string, atLeast: number): Promise<void> {
    await sql`insert into crl_numbers (issuer, last_number) values (${issuer}, ${atLeast})
      on conflict (issuer) do update set last_number = greatest(crl_numbers.last_number, excluded.last_number)`.execute(trx);
  }
}
