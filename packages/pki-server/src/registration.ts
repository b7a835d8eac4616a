/**
 * The registration authority: turns a verified identity and a CSR into a certificate, per the
 * policy. The CSR contributes only its public key (its signature checked, weak keys refused);
 * subject and names come from the identity and the profile: CN and SAN the email, plus a URI
 * naming (iss, sub). Standard profiles are issued at once; privileged ones wait for an admin.
 * A serial is reserved under UNIQUE(issuer, serial) before anything is signed (a replica holds a
 * small block; a serial drawn twice is simply not its), and a certificate is returned only after
 * the row holding it is committed: new requests issued at once commit in groups.
 */
import {type KeyObject, randomBytes, X509Certificate} from 'node:crypto';
import {type BatchClient, GroupCommit, type PostgresAuditLog} from '@bcl/audit';
import {conflict, forbidden, HttpError, notFound, unavailable} from '@bcl/http-api';
import {certificateFingerprint, requireKeyType, verifyRenewal} from '@bcl/pki-ca/keys';
import {checkRequest, issuedSans, type Policy, type Profile, profileApproval, type San} from '@bcl/pki-ca/policy';
import type {CrlReason} from '@bcl/pki-ca/crl-reasons';
import {escapeLiteral, escapeNullable, type Kysely, ReservedBlock, sql, type Transaction} from '@bcl/postgres';
import {type CertificateSummary, type CertificateView, type CrlStatus, OWNER_REASONS, renewalFields, type RequestOutcome, type RequestView} from './api.js';
import type {CaMaterial} from './ca.js';
import type {CrlPublisher, PublishedCrl} from './crl.js';
import type {PkiDb} from './db/schema.js';
import {type Directory, DirectoryUnavailable} from './directory/index.js';
import {withCaErrors} from './errors.js';
import type {PolicyStore} from './policy-store.js';
import type {Caller} from './sessions.js';

type CertRow = PkiDb['certificates'];
type RequestRow = PkiDb['requests'];

export interface RevocationPointers {
  crlUrl: string;
  ocspUrl: string;
  caCertUrl: string;
}

export interface RegistrationDeps {
  db: Kysely<PkiDb>;
  /** The pool under `db`: issuances at once commit in groups on one of its connections. */
  pool: {connect(): Promise<BatchClient>};
  ca: CaMaterial;
  policies: PolicyStore;
  audit: PostgresAuditLog;
  directory: Directory;
  crl: CrlPublisher;
  revocation: RevocationPointers;
  now: () => Date;
  /** A new candidate serial (random 126 bits; tests shrink the space to force collisions). */
  serials: () => string;
  /** Blocks drawn in a row that all collided before giving up (default 20). */
  serialAttempts?: number;
}

/** Serials a replica reserves at once: one statement per block; a clean stop leaves the unused ones reserved, never used. */
const SERIAL_BLOCK = 16;

/** A new request issued at once: its row and its certificate's, committed with others in one transaction. */
interface Issued {
  request: RequestRow;
  cert: Partial<CertRow> & {serial: string};
}

export interface NewRequest {
  csr: string;
  profile: string;
  lifetimeDays?: number | undefined;
  dns: string[];
  ip: string[];
  deviceLabel?: string | undefined;
}

const DNS = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

function askedSans(body: {dns: string[]; ip: string[]}): San[] {
  const out: San[] = [];
  body.dns.forEach((d, i) => {
    if (!DNS.test(d)) throw new HttpError(400, 'invalid_request', `body.dns.${i}: "${d}" is not a DNS name`);
    out.push({type: 'dns', value: d.toLowerCase()});
  });
  body.ip.forEach((a, i) => {
    if (!IPV4.test(a) && !/^[0-9a-f:]+$/i.test(a)) throw new HttpError(400, 'invalid_request', `body.ip.${i}: "${a}" is not an IP address`);
    out.push({type: 'ip', value: a});
  });
  return out;
}

/** @peculiar/x509 and the ASN.1 modules, loaded once (a dynamic import costs a little every time). */
let pkiCaModule: Promise<typeof import('@bcl/pki-ca')> | undefined;
const pkiCa = () => (pkiCaModule ??= import('@bcl/pki-ca'));

export const identityUri = (iss: string, sub: string) => `${iss}#${sub}`;

export class RegistrationAuthority {
  private readonly serials: ReservedBlock;
  private readonly issuedAtOnce: GroupCommit<Issued>;

  constructor(private readonly d: RegistrationDeps) {
    this.serials = new ReservedBlock(() => this.reserveBlock(), {
      low: SERIAL_BLOCK / 2,
      attempts: d.serialAttempts ?? 20,
      exhausted: () => unavailable('serial_space_exhausted', 'no free serial: every block of candidates drawn collided', {hint: 'Try again; if it persists, the serial source is broken.'}),
    });
    this.issuedAtOnce = new GroupCommit({pool: d.pool, audit: d.audit, statements: (items) => issuedRows(d.ca.issuerId, items)});
  }

  /** A fresh serial (a row with status `reserved`), before anything is signed with it. */
  reserveSerial(): Promise<string> {
    return this.serials.take();
  }

  /** Waits for the issuances committing (on a clean stop). */
  drain(): Promise<void> {
    return this.issuedAtOnce.drain();
  }

  private async reserveBlock(): Promise<string[]> {
    const drawn = [...new Set(Array.from({length: SERIAL_BLOCK}, () => this.d.serials()))];
    const {rows} = await sql<{serial: string}>`insert into certificates (issuer, serial, status, reserved_at)
      select ${this.d.ca.issuerId}, s, 'reserved', ${this.d.now()} from unnest(${drawn}::text[]) as s
      on conflict (issuer, serial) do nothing returning serial`.execute(this.d.db);
    return rows.map((r) => r.serial);
  }

  /** A new request: issued at once for standard profiles (201), or pending an admin (202). */
  async submit(caller: Caller, body: NewRequest, address: string): Promise<{status: 201 | 202; outcome: RequestOutcome}> {
    return this.refusalsAudited(caller, body.profile, address, async () => {
      const policy = (await this.d.policies.current()).policy;
      const checked = await this.check(caller, policy, body.csr, body.profile, askedSans(body));
      const request = this.newRequest(caller, {profile: body.profile, keyType: checked.keyType, csr: body.csr, sans: checked.extra, lifetimeDays: body.lifetimeDays, deviceLabel: body.deviceLabel ?? null, renews: null});
      if (profileApproval(checked.profile) === 'admin') return {status: 202 as const, outcome: await this.pending(request, address)};
      return {status: 201 as const, outcome: await this.issue(request, checked.profile, policy, {approvedBy: 'automatic', insertRequest: true, address, publicKey: checked.publicKey})};
    });
  }

  /** A new request of the caller, not decided yet. */
  private newRequest(caller: Caller, r: {profile: string; keyType: string; csr: string; sans: San[]; lifetimeDays: number | undefined; deviceLabel: string | null; renews: string | null}): RequestRow {
    return {
      id: randomBytes(8).toString('hex'),
      iss: caller.iss,
      sub: caller.sub,
      email: caller.email,
      name: caller.email,
      profile: r.profile,
      key_type: r.keyType,
      csr_pem: r.csr,
      sans: r.sans,
      lifetime_days: r.lifetimeDays ?? null,
      device_label: r.deviceLabel,
      renews: r.renews,
      status: 'pending',
      created_at: this.d.now(),
      decided_at: null,
      decided_by: null,
      reason: null,
      serial: null,
    };
  }

  /** Everything checked before a serial is touched: the CSR, the key, the policy, the groups. */
  private async check(caller: Pick<Caller, 'email'>, policy: Policy, csrPem: string, profileName: string, extra: San[]) {
    return withCaErrors(async () => {
      const {parseCsr} = await pkiCa();
      const csr = await parseCsr(csrPem, 'body.csr');
      const keyType = requireKeyType(csr.publicKey, policy.keyTypes, 'body.csr');
      const profile = checkRequest(policy, {email: caller.email, profile: profileName, keyType, sans: extra}, 'the request', 'the policy');
      if (profile.groups.length > 0) {
        let groups: string[];
        try {
          groups = await this.d.directory.groupsOf(caller.email);
        } catch (error) {
          if (error instanceof DirectoryUnavailable) throw unavailable('directory_unavailable', `cannot check the groups profile ${profileName} needs: ${error.message}`);
          throw error;
        }
        if (!profile.groups.some((g) => groups.includes(g.toLowerCase()))) {
          throw forbidden('not_in_group', `profile ${profileName} is for members of ${profile.groups.join(', ')}; ${caller.email} is in none of them`, {hint: 'Ask the group owner to add you, or choose another profile.', details: {profile: profileName}});
        }
      }
      return {publicKey: csr.publicKey, keyType, profile, extra};
    });
  }

  private async pending(request: RequestRow, address: string): Promise<RequestOutcome> {
    await this.d.audit.transaction(this.d.db, async (trx, audit) => {
      await trx.insertInto('requests').values({...request, sans: JSON.stringify(request.sans) as never}).execute();
      await audit({event: 'request.pending', request: request.id, email: request.email, profile: request.profile, sans: request.sans.map((s) => `${s.type}:${s.value}`), address});
    });
    return {request: requestView(request), certificate: null};
  }

  /**
   * Reserves a serial, signs, and commits the certificate (and the request, and a superseded
   * predecessor) in one audited transaction. The CRL is re-published before answering when a
   * predecessor was revoked.
   */
  private async issue(request: RequestRow, profile: Profile, policy: Policy, o: {approvedBy: string; insertRequest: boolean; address: string; publicKey: KeyObject}): Promise<RequestOutcome> {
    const {buildLeafCertificate} = await pkiCa();
    const now = this.d.now();
    const person = profile.sans.includes('email');
    const sans: San[] = [...issuedSans(profile, request.email, request.sans as San[]), ...(person && request.iss && request.sub ? [{type: 'uri' as const, value: identityUri(request.iss, request.sub)}] : [])];
    const [serial, leaf] = await this.serials.use(async (serial) => [
      serial,
      await withCaErrors(() =>
        buildLeafCertificate({
          issuer: {certPem: this.d.ca.issuerPem, key: this.d.ca.key},
          publicKey: o.publicKey,
          profile,
          identity: {name: request.email, sans},
          lifetimeDays: request.lifetime_days ?? undefined,
          revocation: {crlUrl: policy.revocation.crlUrl ?? this.d.revocation.crlUrl, caCertUrl: policy.revocation.caCertUrl ?? this.d.revocation.caCertUrl, ocspUrl: policy.revocation.ocspUrl ?? this.d.revocation.ocspUrl},
          now,
          serial,
          where: `request ${request.id}`,
        }),
      ),
    ] as const);
    const decided: RequestRow = {...request, status: 'issued', decided_at: now, decided_by: o.approvedBy, serial};
    const cert: Partial<CertRow> = {
      status: 'valid',
      request_id: request.id,
      iss: request.iss,
      sub: request.sub,
      email: request.email,
      name: request.name,
      profile: request.profile,
      key_type: request.key_type,
      pem: leaf.pem,
      not_before: leaf.notBefore,
      not_after: leaf.notAfter,
      issued_at: now,
      approved_by: o.approvedBy,
      renews: request.renews,
      device_label: request.device_label,
    };
    const issued = {
      event: 'certificate.issued',
      serial,
      request: request.id,
      email: request.email,
      iss: request.iss,
      sub: request.sub,
      profile: request.profile,
      keyType: request.key_type,
      notAfter: leaf.notAfter.toISOString(),
      approvedBy: o.approvedBy,
      ...(request.renews ? {renews: request.renews} : {}),
      address: o.address,
    };
    if (o.insertRequest && !request.renews) {
      // The hot path (a new request issued at once): nothing in it can conflict, so it commits in a group.
      await this.issuedAtOnce.write(issued, {request: decided, cert: {...cert, serial}});
    } else {
      await this.d.audit.transaction(this.d.db, async (trx, audit) => {
        if (o.insertRequest) {
          await trx.insertInto('requests').values({...decided, sans: JSON.stringify(decided.sans) as never}).execute();
        } else {
          const updated = await trx.updateTable('requests').set({status: 'issued', decided_at: now, decided_by: o.approvedBy, serial}).where('id', '=', request.id).where('status', '=', 'pending').returning('id').executeTakeFirst();
          if (!updated) throw conflict('not_pending', `request ${request.id} was decided meanwhile`);
        }
        const stored = await trx.updateTable('certificates').set(cert).where('issuer', '=', this.d.ca.issuerId).where('serial', '=', serial).where('status', '=', 'reserved').returning('serial').executeTakeFirst();
        if (!stored) throw new Error(`the reservation of serial ${serial} disappeared`);
        if (request.renews) await this.supersede(trx, request.renews, serial, now);
        if (!o.insertRequest) await audit({event: 'request.approved', request: request.id, email: request.email, profile: request.profile, actor: o.approvedBy, address: o.address});
        await audit(issued);
        if (request.renews) await audit({event: 'certificate.revoked', serial: request.renews, reason: 'superseded', supersededBy: serial, actor: request.email, address: o.address});
      });
    }
    if (request.renews) await this.d.crl.publish('renewal');
    // The committed row holds exactly this: no need to read it back.
    const row = {...cert, issuer: this.d.ca.issuerId, serial, revoked_at: null, reason: null, revoked_by: null, superseded_by: null, reserved_at: now} as CertRow;
    return {request: requestView(decided), certificate: this.view(row)};
  }

  /** The renewed certificate is revoked as superseded, in the renewal's transaction; it must still be valid. */
  private async supersede(trx: Transaction<PkiDb>, oldSerial: string, newSerial: string, now: Date): Promise<void> {
    const old = await trx
      .updateTable('certificates')
      .set({status: 'revoked', revoked_at: now, reason: 'superseded', revoked_by: 'renewal', superseded_by: newSerial})
      .where('issuer', '=', this.d.ca.issuerId)
      .where('serial', '=', oldSerial)
      .where('status', '=', 'valid')
      .returning('serial')
      .executeTakeFirst();
    if (!old) throw conflict('not_renewable', `${oldSerial} was revoked or renewed meanwhile; request a new certificate instead`);
  }

  async approve(admin: Caller, id: string, address: string): Promise<RequestOutcome> {
    requireAdmin(admin);
    const request = await this.d.db.selectFrom('requests').selectAll().where('id', '=', id).executeTakeFirst();
    if (!request) throw notFound('request_not_found', `no request ${id}`);
    if (request.status !== 'pending') throw conflict('not_pending', `request ${id} is already ${request.status}${request.serial ? ` (serial ${request.serial})` : ''}`, {details: {status: request.status}});
    const policy = (await this.d.policies.current()).policy;
    // Decided under the policy in force now, not the one of the day it was filed.
    const checked = await this.check(request, policy, request.csr_pem, request.profile, request.sans as San[]);
    if (request.renews) await this.renewable(request.renews, request);
    return this.issue(request, checked.profile, policy, {approvedBy: admin.email, insertRequest: false, address, publicKey: checked.publicKey});
  }

  async reject(admin: Caller, id: string, reason: string, address: string): Promise<RequestView> {
    requireAdmin(admin);
    const now = this.d.now();
    return this.d.audit.transaction(this.d.db, async (trx, audit) => {
      const row = await trx.updateTable('requests').set({status: 'rejected', decided_at: now, decided_by: admin.email, reason}).where('id', '=', id).where('status', '=', 'pending').returningAll().executeTakeFirst();
      if (!row) {
        const existing = await trx.selectFrom('requests').select('status').where('id', '=', id).executeTakeFirst();
        throw existing ? conflict('not_pending', `request ${id} is already ${existing.status}`) : notFound('request_not_found', `no request ${id}`);
      }
      await audit({event: 'request.rejected', request: id, email: row.email, profile: row.profile, actor: admin.email, reason, address});
      return requestView(row);
    });
  }

  /**
   * A renewal: the caller owns the certificate, it is valid (not revoked, not expired), and the
   * request is signed with its key. The new certificate has the same profile; the old one is
   * revoked as superseded once the new one is committed.
   */
  async renew(caller: Caller, serial: string, body: {csr: string; signature: string; lifetimeDays?: number | undefined; deviceLabel?: string | undefined}, address: string): Promise<{status: 201 | 202; outcome: RequestOutcome}> {
    const old = await this.owned(caller, serial);
    return this.refusalsAudited(caller, old.profile ?? '', address, async () => {
      await this.renewable(serial, caller);
      await withCaErrors(async () =>
        verifyRenewal({
          certificatePem: old.pem!,
          claim: {renews: serial, csrPem: body.csr, request: renewalFields({profile: old.profile!, lifetimeDays: body.lifetimeDays, deviceLabel: body.deviceLabel})},
          signature: body.signature,
          where: `the renewal of ${serial}`,
        }),
      );
      const policy = (await this.d.policies.current()).policy;
      const checked = await this.check(caller, policy, body.csr, old.profile!, []);
      const request = this.newRequest(caller, {profile: old.profile!, keyType: checked.keyType, csr: body.csr, sans: [], lifetimeDays: body.lifetimeDays, deviceLabel: body.deviceLabel ?? old.device_label, renews: serial});
      if (profileApproval(checked.profile) === 'admin') return {status: 202 as const, outcome: await this.pending(request, address)};
      return {status: 201 as const, outcome: await this.issue(request, checked.profile, policy, {approvedBy: 'automatic', insertRequest: true, address, publicKey: checked.publicKey})};
    });
  }

  private async renewable(serial: string, who: {email: string}): Promise<void> {
    const row = await this.row(serial);
    if (!row) throw notFound('certificate_not_found', `no certificate ${serial}`);
    if (row.status === 'revoked') throw conflict('not_renewable', `${serial} is revoked (${row.reason}); a revoked certificate is never renewed: request a new one`, {details: {serial, email: who.email}});
    if (row.not_after! <= this.d.now()) throw conflict('not_renewable', `${serial} expired on ${row.not_after!.toISOString()}; an expired certificate is never renewed: request a new one`, {details: {serial}});
  }

  /** Revocation by the owner (a lost laptop) or an admin; the CRL is re-published before answering. */
  async revoke(caller: Caller, serial: string, reason: CrlReason, address: string): Promise<{certificate: CertificateSummary; crl: CrlStatus}> {
    const row = await this.visible(caller, serial);
    const owner = isOwner(caller, row);
    if (!caller.admin && owner && !(OWNER_REASONS as readonly string[]).includes(reason)) {
      throw forbidden('reason_admin_only', `only an admin revokes with reason ${reason}; owners give one of ${OWNER_REASONS.join(', ')}`);
    }
    if (row.status === 'revoked') throw conflict('already_revoked', `${serial} was already revoked on ${row.revoked_at!.toISOString()} (${row.reason})`, {details: {serial}});
    const now = this.d.now();
    await this.d.audit.transaction(this.d.db, async (trx, audit) => {
      const done = await trx
        .updateTable('certificates')
        .set({status: 'revoked', revoked_at: now, reason, revoked_by: caller.email})
        .where('issuer', '=', this.d.ca.issuerId)
        .where('serial', '=', serial)
        .where('status', '=', 'valid')
        .returning('serial')
        .executeTakeFirst();
      if (!done) throw conflict('already_revoked', `${serial} was revoked meanwhile`);
      await audit({event: 'certificate.revoked', serial, reason, email: row.email, actor: caller.email, byOwner: owner, address});
    });
    const crl = await this.d.crl.publish('revocation');
    return {certificate: summary((await this.row(serial))!, this.d.now()), crl: crlStatus(crl)};
  }

  async getRequest(caller: Caller, id: string): Promise<RequestOutcome> {
    const request = await this.d.db.selectFrom('requests').selectAll().where('id', '=', id).executeTakeFirst();
    if (!request || !(caller.admin || (request.iss === caller.iss && request.sub === caller.sub))) throw notFound('request_not_found', `no request ${id} of yours`);
    const cert = request.serial ? await this.row(request.serial) : undefined;
    return {request: requestView(request), certificate: cert ? this.view(cert) : null};
  }

  async listRequests(caller: Caller, status: 'pending' | 'issued' | 'rejected' | 'all'): Promise<RequestView[]> {
    let q = this.d.db.selectFrom('requests').selectAll().orderBy('created_at').orderBy('id');
    if (status !== 'all') q = q.where('status', '=', status);
    if (!caller.admin) q = q.where('iss', '=', caller.iss).where('sub', '=', caller.sub);
    return (await q.limit(10_000).execute()).map(requestView);
  }

  async listCertificates(caller: Caller, filter: {status?: 'valid' | 'revoked' | 'expired' | undefined; email?: string | undefined}): Promise<CertificateSummary[]> {
    if (filter.email && !caller.admin && filter.email.toLowerCase() !== caller.email) throw forbidden('not_admin', `only admins list other people's certificates (${filter.email})`);
    const now = this.d.now();
    let q = this.d.db.selectFrom('certificates').selectAll().where('issuer', '=', this.d.ca.issuerId).where('status', '<>', 'reserved').where('email', 'is not', null).orderBy('issued_at').orderBy('serial');
    if (!caller.admin) q = q.where((eb) => eb.or([eb.and([eb('iss', '=', caller.iss), eb('sub', '=', caller.sub)]), eb.and([eb('iss', 'is', null), eb(sql<string>`lower(email)`, '=', caller.email)])]));
    if (filter.email) q = q.where(sql<string>`lower(email)`, '=', filter.email.toLowerCase());
    if (filter.status === 'revoked') q = q.where('status', '=', 'revoked');
    if (filter.status === 'valid') q = q.where('status', '=', 'valid').where('not_after', '>', now);
    if (filter.status === 'expired') q = q.where('status', '=', 'valid').where('not_after', '<=', now);
    return (await q.limit(50_000).execute()).map((r) => summary(r, now));
  }

  async getCertificate(caller: Caller, serial: string): Promise<CertificateView> {
    return this.view(await this.visible(caller, serial));
  }

  /** A certificate the caller may see (theirs, or any for an admin); otherwise 404, so serials cannot be probed. */
  private async visible(caller: Caller, serial: string): Promise<CertRow> {
    const row = await this.row(serial);
    if (!row || row.email === null || !(caller.admin || isOwner(caller, row))) throw notFound('certificate_not_found', `no certificate ${serial}${caller.admin ? '' : ' of yours'}`, {hint: 'List yours with `pkictl list`.'});
    return row;
  }

  private async owned(caller: Caller, serial: string): Promise<CertRow> {
    const row = await this.row(serial);
    if (!row || row.email === null || !isOwner(caller, row)) throw notFound('certificate_not_found', `no certificate ${serial} of yours: only its owner renews a certificate`);
    return row;
  }

  private async row(serial: string): Promise<CertRow | undefined> {
    const row = await this.d.db.selectFrom('certificates').selectAll().where('issuer', '=', this.d.ca.issuerId).where('serial', '=', serial).executeTakeFirst();
    return row && row.status !== 'reserved' ? row : undefined;
  }

  view(row: CertRow): CertificateView {
    return {...summary(row, this.d.now()), pem: row.pem!, chainPem: this.d.ca.chainPem, sha256Fingerprint: certificateFingerprint(row.pem!)};
  }

  /** Runs an issuing operation; a refusal (4xx) is audited as `certificate.refused` before it is answered. */
  private async refusalsAudited<T>(caller: Caller, profile: string, address: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof HttpError && error.status >= 400 && error.status < 500) {
        await this.d.audit.record(this.d.db, {event: 'certificate.refused', code: error.code, message: error.message, email: caller.email, iss: caller.iss, sub: caller.sub, profile, address});
      }
      throw error;
    }
  }
}

export function requireAdmin(caller: Caller): void {
  if (!caller.admin) throw forbidden('not_admin', `${caller.email} is not a PKI admin`, {hint: 'Admins are listed in the server configuration (admins) or the policy (approvers).'});
}

function isOwner(caller: Caller, row: Pick<CertRow, 'iss' | 'sub' | 'email'>): boolean {
  // Certificates migrated from a Git store have no (iss, sub): their owner is the email.
  return row.iss !== null ? row.iss === caller.iss && row.sub === caller.sub : (row.email ?? '').toLowerCase() === caller.email;
}

export function summary(row: CertRow, now: Date): CertificateSummary {
  const status = row.status === 'revoked' ? 'revoked' : row.not_after! <= now ? 'expired' : 'valid';
  return {
    serial: row.serial,
    email: row.email ?? '',
    name: row.name ?? row.email ?? '',
    profile: row.profile ?? '',
    status,
    notBefore: row.not_before!.toISOString(),
    notAfter: row.not_after!.toISOString(),
    issuedAt: (row.issued_at ?? row.reserved_at).toISOString(),
    requestId: row.request_id,
    deviceLabel: row.device_label,
    approvedBy: row.approved_by ?? '',
    revokedAt: row.revoked_at?.toISOString() ?? null,
    reason: row.reason,
    renews: row.renews,
    supersededBy: row.superseded_by,
  };
}

export function requestView(r: RequestRow): RequestView {
  return {
    id: r.id,
    status: r.status,
    email: r.email,
    name: r.name,
    profile: r.profile,
    keyType: r.key_type,
    requestedAt: r.created_at.toISOString(),
    lifetimeDays: r.lifetime_days,
    sans: r.sans.map((s) => `${s.type}:${s.value}`),
    deviceLabel: r.device_label,
    renews: r.renews,
    serial: r.serial,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at?.toISOString() ?? null,
    reason: r.reason,
  };
}

export function crlStatus(crl: PublishedCrl): CrlStatus {
  return {number: crl.number.toString(), thisUpdate: crl.thisUpdate.toISOString(), nextUpdate: crl.nextUpdate.toISOString(), revoked: crl.revoked};
}

/** Whether a PEM certificate was signed by this CA (migrations check every certificate). */
export function signedBy(pem: string, ca: CaMaterial): X509Certificate | undefined {
  try {
    const cert = new X509Certificate(pem);
    return cert.verify(ca.issuer.publicKey) && cert.checkIssued(ca.issuer) ? cert : undefined;
  } catch {
    return undefined;
  }
}

/** The rows of a group of requests issued at once: the requests inserted, their reserved serials filled (values inlined: see GroupCommit). */
function issuedRows(issuerId: string, items: readonly Issued[]): string {
  const lit = (v: string | number | null | undefined) => (typeof v === 'number' ? String(Math.trunc(v)) : escapeNullable(v));
  const at = (d: Date | null | undefined) => (d ? `${escapeLiteral(d.toISOString())}::timestamptz` : 'null::timestamptz');
  const requests = items.map(({request: r}) =>
    `(${[lit(r.id), lit(r.iss), lit(r.sub), lit(r.email), lit(r.name), lit(r.profile), lit(r.key_type), lit(r.csr_pem), `${lit(JSON.stringify(r.sans))}::jsonb`, `${lit(r.lifetime_days)}::int`, lit(r.device_label), lit(r.renews), lit(r.status), at(r.created_at), at(r.decided_at), lit(r.decided_by), lit(r.reason), lit(r.serial)].join(', ')})`,
  );
  const certs = items.map(({cert: c}) =>
    `(${[lit(c.serial), lit(c.request_id), lit(c.iss), lit(c.sub), lit(c.email), lit(c.name), lit(c.profile), lit(c.key_type), lit(c.pem), at(c.not_before), at(c.not_after), at(c.issued_at), lit(c.approved_by), lit(c.device_label)].map((v, i) => (i === 0 || v.endsWith('timestamptz') ? v : `${v}::text`)).join(', ')})`,
  );
  return [
    `insert into requests (id, iss, sub, email, name, profile, key_type, csr_pem, sans, lifetime_days, device_label, renews, status, created_at, decided_at, decided_by, reason, serial) values ${requests.join(', ')}`,
    `with filled as (update certificates as c set status = 'valid', request_id = v.request_id, iss = v.iss, sub = v.sub, email = v.email, name = v.name, profile = v.profile, key_type = v.key_type, pem = v.pem, not_before = v.not_before, not_after = v.not_after, issued_at = v.issued_at, approved_by = v.approved_by, device_label = v.device_label
      from (values ${certs.join(', ')}) as v (serial, request_id, iss, sub, email, name, profile, key_type, pem, not_before, not_after, issued_at, approved_by, device_label)
      where c.issuer = ${escapeLiteral(issuerId)} and c.serial = v.serial and c.status = 'reserved' returning c.serial)
      select pki_assert(count(*) = ${items.length}, 'the reservation of ' || (${items.length} - count(*)) || ' of ${items.length} serials disappeared') from filled`,
  ].join('; ');
}
