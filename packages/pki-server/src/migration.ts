/**
 * Importing a pkictl Git store (`pkictl migrate --from-store <store> --to <server>`): the
 * store's policy (its CA signature verified), and every certificate with its serial and status
 * (valid, revoked, superseded), each checked to be signed by this server's CA. The next CRL is
 * numbered above the store's last one and lists the same revocations. Running it again changes
 * nothing; a serial the server holds with another certificate stops it (409) before anything
 * is written.
 */
import {X509Certificate} from 'node:crypto';
import type {PostgresAuditLog} from '@bcl/audit';
import {badRequest, conflict, forbidden} from '@bcl/http-api';
import {normalizeSerial} from '@bcl/pki-local';
import {verifyData} from '@bcl/pki-ca/keys';
import {parsePolicy} from '@bcl/pki-ca/policy';
import type {Kysely} from '@bcl/postgres';
import type {ImportBody, ImportResult} from './api.js';
import type {CaMaterial} from './ca.js';
import {CrlPublisher} from './crl.js';
import type {PkiDb} from './db/schema.js';
import type {PolicyStore} from './policy-store.js';
import {crlStatus, requireAdmin, signedBy} from './registration.js';
import type {Caller} from './sessions.js';

type CertRow = PkiDb['certificates'];

export async function importStore(
  d: {db: Kysely<PkiDb>; ca: CaMaterial; policies: PolicyStore; audit: PostgresAuditLog; crl: CrlPublisher},
  admin: Caller,
  body: ImportBody,
  address: string,
): Promise<ImportResult> {
  requireAdmin(admin);
  if (!verifyData(body.policy.yaml, body.policy.signature, d.ca.issuer.publicKey)) {
    throw forbidden('policy_not_signed', "the store's policy is not signed by this server's CA: the store and the server have different CAs", {
      hint: "Configure the server with the store's CA certificate and key (ca.certificate, ca.key) before migrating.",
    });
  }
  try {
    parsePolicy(body.policy.yaml, 'body.policy.yaml');
  } catch (error) {
    throw badRequest('policy_invalid', (error as Error).message);
  }
  const rows: CertRow[] = body.certificates.map((c, i) => {
    const cert = signedBy(c.pem, d.ca);
    if (!cert) {
      let named = 'the certificate';
      try {
        const x = new X509Certificate(c.pem);
        named = `certificate ${normalizeSerial(x.serialNumber)} (issuer ${x.issuer.replace(/\n/g, ', ')})`;
      } catch {
        // not even a certificate: named generically
      }
      throw forbidden('certificate_not_ours', `body.certificates.${i}: ${named} is not signed by this server's CA (${d.ca.issuer.subject.replace(/\n/g, ', ')})`);
    }
    const serial = normalizeSerial(cert.serialNumber)!;
    if (c.status === 'revoked' && (!c.revokedAt || !c.reason)) throw badRequest('invalid_request', `body.certificates.${i}: a revoked certificate needs revokedAt and reason`);
    return {
      issuer: d.ca.issuerId,
      serial,
      status: c.status,
      request_id: c.requestId,
      iss: null,
      sub: null,
      email: c.email.toLowerCase(),
      name: c.name,
      profile: c.profile,
      key_type: c.keyType,
      pem: c.pem.trim() + '\n',
      not_before: new Date(cert.validFrom),
      not_after: new Date(cert.validTo),
      issued_at: new Date(c.issuedAt),
      approved_by: c.approvedBy,
      revoked_at: c.revokedAt ? new Date(c.revokedAt) : null,
      reason: c.reason,
      revoked_by: c.status === 'revoked' ? 'git store' : null,
      renews: c.renews,
      superseded_by: c.supersededBy,
      device_label: null,
      reserved_at: new Date(c.issuedAt),
    };
  });
  const counts = await d.audit.transaction(d.db, async (trx, audit) => {
    let imported = 0;
    let unchanged = 0;
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      const inserted = await trx.insertInto('certificates').values(chunk).onConflict((oc) => oc.columns(['issuer', 'serial']).doNothing()).returning('serial').execute();
      imported += inserted.length;
      const fresh = new Set(inserted.map((r) => r.serial));
      const others = chunk.filter((r) => !fresh.has(r.serial));
      if (others.length === 0) continue;
      const existing = await trx.selectFrom('certificates').select(['serial', 'pem', 'status']).where('issuer', '=', d.ca.issuerId).where('serial', 'in', others.map((r) => r.serial)).execute();
      const byserial = new Map(existing.map((e) => [e.serial, e]));
      for (const r of others) {
        const e = byserial.get(r.serial);
        if (!e || e.pem?.trim() !== r.pem!.trim()) throw conflict('serial_conflict', `serial ${r.serial} is already used on this server by another certificate; nothing was imported`);
        // Already imported: a revocation made in the store since then is carried over.
        if (e.status === 'valid' && r.status === 'revoked') {
          await trx.updateTable('certificates').set({status: 'revoked', revoked_at: r.revoked_at, reason: r.reason, revoked_by: 'git store', superseded_by: r.superseded_by}).where('issuer', '=', d.ca.issuerId).where('serial', '=', r.serial).execute();
          imported++;
        } else unchanged++;
      }
    }
    await CrlPublisher.raiseNumber(trx, d.ca.issuerId, body.crlNumber);
    const valid = rows.filter((r) => r.status === 'valid').length;
    await audit({event: 'migration.imported', certificates: rows.length, imported, unchanged, valid, revoked: rows.length - valid, crlNumberFloor: body.crlNumber, actor: admin.email, address});
    return {imported, unchanged, valid, revoked: rows.length - valid};
  });
  const policy = await d.policies.set(body.policy.yaml, {source: 'migrated from a Git store', setBy: admin.email, where: 'body.policy.yaml'});
  const crl = await d.crl.publish('migration');
  return {...counts, policyVersion: policy.version, crl: crlStatus(crl)};
}
