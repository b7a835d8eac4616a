import type {AuditEntry} from '@bcl/audit';
import {inTransaction, sql} from '@bcl/postgres';
import {NotEmptyError} from './errors.js';
import type {StateSnapshot} from './file-store.js';
import type {PostgresStore} from './postgres-store.js';

export {NotEmptyError} from './errors.js';

export interface ImportSummary {
  certificates: number;
  revocations: number;
  krlVersion: number;
  keyringVersion: number;
  totpEnrolments: number;
  crlIssuers: number;
  auditEvents: number;
}

const CHUNK = 500;

/**
 * Moves a state directory's contents into an empty database in one transaction (all or
 * nothing): every serial ever issued (expired ones too, so none is drawn again), the ledger,
 * the revocations and KRL version, the CA keyring, TOTP enrolments (still sealed with the same
 * secrets key) and recent failures, the CRL numbers seen, and the audit trail in its order,
 * followed by one `state.imported` event.
 */
export async function importState(store: PostgresStore, snapshot: StateSnapshot, from: {stateDir: string; auditLog: string; by: string; at: Date}): Promise<ImportSummary> {
  const db = store.kysely;
  const summary: ImportSummary = {
    certificates: snapshot.issued.length,
    revocations: snapshot.revocations.revocations.length,
    krlVersion: snapshot.revocations.version,
    keyringVersion: snapshot.keyring.version,
    totpEnrolments: Object.keys(snapshot.totp.enrolments).length,
    crlIssuers: Object.keys(snapshot.crlNumbers).length,
    auditEvents: snapshot.audit.length + 1,
  };
  let entries: AuditEntry[] = [];
  await inTransaction(
    db,
    async (trx) => {
      entries = [];
      // The single-writer rows first: a replica revoking or rotating meanwhile waits for this.
      await sql`select 1 from cssh_krl, cssh_ca_keyring for update`.execute(trx);
      const {rows} = await sql<{krl: string; keyring: string; serials: string; totp: string; audit: string}>`
        select (select version::text from cssh_krl where id = 1) as krl,
          (select version::text from cssh_ca_keyring where id = 1) as keyring,
          (select count(*)::text from cssh_serial) as serials,
          (select count(*)::text from cssh_totp_enrolment) as totp,
          (select count(*)::text from cssh_audit) as audit`.execute(trx);
      const held = rows[0]!;
      const nonEmpty = Object.entries(held).filter(([, n]) => n !== '0');
      if (nonEmpty.length > 0) {
        throw new NotEmptyError(
          `${store.description} already holds cssh-authz state (${nonEmpty.map(([what, n]) => `${what}: ${n}`).join(', ')}); import into a database that no replica has used yet`,
        );
      }
      const issued = dedupe(snapshot.issued, (r) => r.serial);
      for (const chunk of chunks(issued)) {
        const serials = chunk.map((r) => r.serial);
        await sql`insert into cssh_serial (serial, reserved_by) select s, 'import' from unnest(${serials}::numeric[]) as s`.execute(trx);
        await sql`insert into cssh_issued (serial, key_id, email, principals, valid_after, valid_before, issued_at, ca_key, mfa) values ${sql.join(
          chunk.map((r) => sql`(${r.serial}::numeric, ${r.keyId}, ${r.email.toLowerCase()}, ${JSON.stringify(r.principals)}::jsonb, ${r.validAfter}, ${r.validBefore}, ${r.issuedAt}, ${r.caKey ?? null}, ${r.mfa ?? null})`),
        )}`.execute(trx);
      }
      for (const chunk of chunks(dedupe(snapshot.revocations.revocations, (r) => r.serial))) {
        await sql`insert into cssh_revocation (serial, key_id, email, valid_before, revoked_at, revoked_by, reason, krl_version) values ${sql.join(
          chunk.map((r) => sql`(${r.serial}::numeric, ${r.keyId}, ${r.email}, ${r.validBefore}, ${r.revokedAt}, ${r.by}, ${r.reason}, ${snapshot.revocations.version})`),
        )}`.execute(trx);
      }
      await sql`update cssh_krl set version = ${snapshot.revocations.version} where id = 1`.execute(trx);
      await sql`update cssh_ca_keyring set version = ${snapshot.keyring.version}, keys = ${JSON.stringify(snapshot.keyring.keys)}::jsonb where id = 1`.execute(trx);
      for (const e of Object.values(snapshot.totp.enrolments)) {
        await sql`insert into cssh_totp_enrolment (email, sealed_secret, state, created_at, confirmed_at, last_step)
          values (${e.email.toLowerCase()}, ${e.sealedSecret}, ${e.state}, ${e.createdAt}, ${e.confirmedAt}, ${e.lastStep})`.execute(trx);
      }
      for (const [email, failures] of Object.entries(snapshot.totp.failures)) {
        for (const at of failures) await sql`insert into cssh_totp_failure (email, at) values (${email.toLowerCase()}, ${at})`.execute(trx);
      }
      for (const [issuer, number] of Object.entries(snapshot.crlNumbers)) {
        await sql`insert into bcl_crl_number_seen (issuer, number) values (${issuer}, ${number}::numeric)`.execute(trx);
      }
      for (const chunk of chunks(snapshot.audit)) entries.push(...(await store.auditLog.appendAll(trx, chunk)));
      entries.push(
        ...(await store.auditLog.appendAll(trx, [
          {time: from.at.toISOString(), event: 'state.imported', by: from.by, stateDir: from.stateDir, auditLog: from.auditLog, ...summary, auditEvents: snapshot.audit.length},
        ])),
      );
      await sql`select pg_notify('cssh_authz', 'krl'), pg_notify('cssh_authz', 'keyring')`.execute(trx);
    },
    {isolation: 'read committed'},
  );
  store.auditLog.emit(entries);
  return summary;
}

function dedupe<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => !seen.has(key(item)) && (seen.add(key(item)), true));
}

function* chunks<T>(items: readonly T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += CHUNK) yield items.slice(i, i + CHUNK);
}
