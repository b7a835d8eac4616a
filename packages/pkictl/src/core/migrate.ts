/**
 * `pkictl migrate --from-store <store> --to <server>`: moves a Git store's PKI to a PKI server
 * that runs with the store's CA (the same certificate and key). The store is read as every
 * command reads it (CA pinned, policy and inventory signatures checked); the server imports the
 * signed policy and every certificate with its serial and status, and its next CRL lists the
 * same revocations, which this command checks before it reports success.
 */
import {conflict, denied, invalidInput} from '@bcl/core';
import {normalizeSerial} from '@bcl/pki-local';
import type {ImportBody, ImportResult} from '@bcl/pki-server/api';
import {certificateFingerprint} from '@bcl/pki-ca/keys';
import type {PkictlSettings} from '../config.js';
import {PkiServerClient} from '../server/client.js';
import {loadInventory, loadPolicy, loadRequest, requestIds} from '../store/pki.js';
import {PATHS} from '../store/records.js';
import {loadTrustedCa} from './ca-pin.js';
import {type PkiIo, withStore} from './io.js';
import {loadServerCa} from './server-ca.js';

export interface MigrateResult {
  store: string;
  server: string;
  certificates: number;
  imported: number;
  unchanged: number;
  valid: number;
  revoked: number;
  superseded: number;
  policyVersion: number;
  crlNumber: string;
  /** Whether the server's CRL lists exactly the store's unexpired revocations. */
  crlMatches: boolean;
  /** Requests still waiting in the store: they are not moved (their requesters request again). */
  pendingRequestsLeft: string[];
}

const CRL_REASONS = new Set(['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'privilegeWithdrawn', 'aACompromise']);

export async function migrate(io: PkiIo, settings: PkictlSettings, params: {fromStore: string; to: string}): Promise<MigrateResult> {
  const storeSettings = {...settings, store: params.fromStore};
  const client = new PkiServerClient(io, {...settings, server: params.to});
  client.session();
  const read = await withStore(io, storeSettings, async (store) => {
    const ca = await loadTrustedCa(io, storeSettings, store);
    await loadPolicy(store, ca);
    const policyYaml = store.read(PATHS.policy)!;
    const signature = store.read(PATHS.policySig)!.trim();
    const inventory = loadInventory(store, ca);
    const certificates: ImportBody['certificates'] = inventory.certificates.map((e) => ({
      pem: store.read(PATHS.cert(e.serial))!,
      requestId: e.requestId,
      email: e.email,
      name: e.name,
      profile: e.profile,
      keyType: e.keyType,
      issuedAt: e.issuedAt,
      approvedBy: e.approvedBy,
      status: e.status,
      revokedAt: e.revokedAt ?? null,
      reason: e.status === 'revoked' ? ((CRL_REASONS.has(e.reason ?? '') ? e.reason : 'unspecified') as never) : null,
      renews: e.renews ?? null,
      supersededBy: e.supersededBy ?? null,
    }));
    const pending = requestIds(store).filter((id) => {
      try {
        return loadRequest(store, id).status === 'pending';
      } catch {
        return false;
      }
    });
    return {url: store.url, ca, policyYaml, signature, crlNumber: inventory.crlNumber, certificates, inventory, pending};
  });
  // The server must sign with the store's CA: otherwise every relying party would break.
  const serverCa = await loadServerCa(io, {...settings, server: params.to}, client);
  const storeIssuer = certificateFingerprint(read.ca.issuer.pem);
  if (certificateFingerprint(serverCa.issuerPem) !== storeIssuer) {
    throw denied('pkictl.ca_mismatch', `${client.url} signs with another CA than the store ${read.url} (issuer SHA-256 ${certificateFingerprint(serverCa.issuerPem)}, the store's ${storeIssuer})`, {
      hint: "Configure the server's ca.certificate and ca.key with the store's CA (ca/chain.pem and the CA key file), restart it, then migrate.",
    });
  }
  if (read.ca.intermediate && certificateFingerprint(serverCa.rootPem) !== certificateFingerprint(read.ca.root.pem)) {
    throw denied('pkictl.ca_mismatch', `${client.url} serves another root than the store's`, {hint: "Give the server the store's ca/chain.pem as ca.certificate."});
  }
  const body: ImportBody = {policy: {yaml: read.policyYaml, signature: read.signature}, crlNumber: read.crlNumber, certificates: read.certificates};
  const {body: result} = await client.authed<ImportResult>('POST', '/v1/admin/import', body);

  // The store's unexpired revocations must be exactly what the server's CRL lists now.
  const {parseCrl} = await import('@bcl/pki-ca');
  const crl = await parseCrl(await client.text('/crl.pem'), `${client.url}/crl.pem`, serverCa.issuerPem);
  const now = io.now();
  const expected = new Set(read.inventory.certificates.filter((c) => c.status === 'revoked' && new Date(c.notAfter) > now).map((c) => c.serial));
  const listed = new Set(crl.revoked.map((r) => normalizeSerial(r.serial)!));
  const missing = [...expected].filter((s) => !listed.has(s));
  if (missing.length > 0) {
    throw conflict('pkictl.migrate_crl_mismatch', `the server's CRL ${crl.number} does not list ${missing.length} revocation(s) of the store: ${missing.slice(0, 5).join(', ')}`, {hint: 'Run the migration again; if it persists, do not switch pkictl.server yet and tell your PKI admin.'});
  }
  if (result.valid + result.revoked !== read.certificates.length) throw invalidInput('pkictl.migrate_incomplete', `the server imported ${result.valid + result.revoked} of ${read.certificates.length} certificates`, {});
  return {
    store: read.url,
    server: client.url,
    certificates: read.certificates.length,
    imported: result.imported,
    unchanged: result.unchanged,
    valid: result.valid,
    revoked: result.revoked,
    superseded: read.inventory.certificates.filter((c) => c.reason === 'superseded').length,
    policyVersion: result.policyVersion,
    crlNumber: result.crl.number,
    crlMatches: [...listed].every((s) => expected.has(s)) && missing.length === 0,
    pendingRequestsLeft: read.pending,
  };
}
