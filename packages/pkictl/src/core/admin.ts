/** CA admin operations: approve, reject, revoke, publish the CRL. Each is one commit. */
import {type KeyObject, X509Certificate} from 'node:crypto';
import {writeFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {conflict, denied, invalidInput} from '@bcl/core';
import type {CrlReason} from '@bcl/pki-ca/crl-reasons';
import {requireKeyType, verifyRenewal} from '@bcl/pki-ca/keys';
import {checkRequest, issuedSans, type Policy, type San} from '@bcl/pki-ca/policy';
import type {PkictlSettings} from '../config.js';
import type {GitStore, StoreWrite} from '../store/git.js';
import {type CaChain, inventoryWrites, loadInventory, loadPolicy, loadRequest, requestIds, resolveRequestId} from '../store/pki.js';
import {type Inventory, type InventoryEntry, PATHS, type RequestRecord, renewalClaimOf, toJsonFile} from '../store/records.js';
import {loadAdminKey, type PassphraseFlags} from './ca.js';
import {loadTrustedCa} from './ca-pin.js';
import {type PkiIo, withStore} from './io.js';

const DAY = 86_400_000;
/** The X.509 machinery (@peculiar/x509), loaded only by the operations that sign. */
const ca509 = () => import('@bcl/pki-ca');

export interface AdminFlags extends PassphraseFlags {
  caKeyFile?: string | undefined;
}

export interface Issued {
  id: string;
  serial: string;
  notAfter: string;
  email: string;
  profile: string;
  renews: string | null;
}

interface Decision {
  record: RequestRecord;
  publicKey: KeyObject;
  keyType: RequestRecord['keyType'];
  sans: San[];
  warnings: string[];
}

/**
 * Checks one pending request against the policy; what the CSR asks beyond it is dropped, with a
 * warning. A renewal must be signed with the key of the certificate it renews, which must still be valid.
 */
async function decide(store: GitStore, ca: CaChain, policy: Policy, inventory: Inventory, id: string): Promise<Decision> {
  const record = loadRequest(store, id);
  if (record.status !== 'pending') {
    throw conflict('pkictl.not_pending', `request ${id} is already ${record.status}${record.serial ? ` (serial ${record.serial})` : ''}`, {details: {id, status: record.status}});
  }
  const file = PATHS.csr(id);
  const text = store.read(file);
  if (text === undefined) throw invalidInput('pkictl.csr_invalid', `${file} is missing`, {details: {file}, hint: `Reject the request: pkictl reject ${id} --reason ...`});
  const {parseCsr} = await ca509();
  const csr = await parseCsr(text, file);
  const keyType = requireKeyType(csr.publicKey, policy.keyTypes, `request ${id}: ${file}`);
  const profile = checkRequest(policy, {email: record.email, profile: record.profile, keyType, sans: record.sans}, `request ${id}`, PATHS.policy);
  const sans = issuedSans(profile, record.email, record.sans);
  const warnings: string[] = [];
  const issued = new Set(sans.map((s) => `${s.type}:${s.value.toLowerCase()}`));
  const dropped = csr.sans.filter((s) => !issued.has(`${s.type}:${s.value.toLowerCase()}`));
  if (dropped.length) warnings.push(`request ${id}: the CSR asked for ${dropped.map((s) => `${s.type}:${s.value}`).join(', ')}; not issued (names come from the request and policy)`);
  if (csr.asksForCa) warnings.push(`request ${id}: the CSR asked for CA:true; issued as CA:false`);
  if (csr.otherExtensions.length) warnings.push(`request ${id}: the CSR's other extensions (${csr.otherExtensions.join(', ')}) were ignored`);
  const max = profile.maxLifetimeDays;
  if (record.lifetimeDays && record.lifetimeDays > max) warnings.push(`request ${id}: ${record.lifetimeDays} days asked; capped to ${max} by profile ${record.profile}`);
  if (keyType !== record.keyType) warnings.push(`request ${id}: request.json says ${record.keyType} but the CSR carries ${keyType}`);
  if (record.renews) checkRenewal(store, ca, inventory, record, text);
  return {record, publicKey: csr.publicKey, keyType, sans, warnings};
}

/** A renewal: same owner, a certificate still valid, and signed with that certificate's key. */
function checkRenewal(store: GitStore, ca: CaChain, inventory: Inventory, record: RequestRecord, csrPem: string): void {
  const id = record.id;
  const old = inventory.certificates.find((c) => c.serial === record.renews);
  if (!old) throw invalidInput('pkictl.renew_unknown', `request ${id} renews ${record.renews}, which is not in ${PATHS.inventory}`, {details: {id}});
  if (old.email.toLowerCase() !== record.email.toLowerCase()) {
    throw denied('pkictl.policy_denied', `request ${id} (${record.email}) claims to renew ${record.renews}, which belongs to ${old.email}`, {details: {id}});
  }
  if (old.status === 'revoked') {
    throw conflict('pkictl.revoked', `request ${id} renews ${old.serial}, which is revoked (${old.reason ?? 'unspecified'}${old.supersededBy ? `, renewed as ${old.supersededBy}` : ''}); a revoked certificate is never renewed`, {
      hint: `Reject it (pkictl reject ${id} --reason ...); the owner requests a new certificate instead.`,
      details: {id, renews: old.serial},
    });
  }
  const certFile = PATHS.cert(old.serial);
  const pem = store.read(certFile)!;
  const cert = new X509Certificate(pem);
  if (!cert.verify(ca.issuerPublicKey)) throw invalidInput('pkictl.store_tampered', `${certFile} is not signed by this CA`, {details: {file: certFile}});
  verifyRenewal({certificatePem: pem, claim: renewalClaimOf(record, csrPem), signature: record.renewalSignature, where: `request ${id}`});
}

/** The CRL of every revoked certificate that has not expired yet. */
async function crlWrites(ca: CaChain, key: KeyObject, policy: Policy, inventory: Inventory, now: Date): Promise<{writes: StoreWrite[]; number: number; nextUpdate: Date; pem: string}> {
  const {buildCrl} = await ca509();
  const number = inventory.crlNumber + 1;
  const nextUpdate = new Date(now.getTime() + policy.crlValidityDays * DAY);
  const entries = inventory.certificates
    .filter((c) => c.status === 'revoked' && new Date(c.notAfter) > now)
    .map((c) => ({serial: c.serial, revokedAt: new Date(c.revokedAt!), reason: (c.reason ?? 'unspecified') as CrlReason}));
  const pem = await buildCrl({issuer: {certPem: ca.issuer.pem, key}, number, thisUpdate: now, nextUpdate, entries});
  inventory.crlNumber = number;
  return {writes: [{path: PATHS.crl, content: pem}], number, nextUpdate, pem};
}

export interface ApproveParams extends AdminFlags {
  ids: string[];
  all: boolean;
}

export interface ApproveResult {
  issued: Issued[];
  warnings: string[];
}

/** Issues a certificate for each request, per profile: one commit for the whole batch. */
export async function approveRequests(io: PkiIo, settings: PkictlSettings, params: ApproveParams): Promise<ApproveResult> {
  if (!params.all && params.ids.length === 0) throw invalidInput('pkictl.approve_nothing', 'give request ids to approve, or --all', {hint: 'See what waits with `pkictl requests`.'});
  return withStore(io, settings, async (store) => {
    const ca = await loadTrustedCa(io, settings, store);
    const policy = await loadPolicy(store, ca);
    const admin = await loadAdminKey(io, settings, ca, policy, params);
    const givenIds = params.all ? [] : [...new Set(params.ids.map((id) => resolveRequestId(store, id)))];
    let outcome: ApproveResult = {issued: [], warnings: []};
    const message = () => (outcome.issued.length === 1 ? `approve ${outcome.issued[0]!.id}: ${outcome.issued[0]!.serial} for ${outcome.issued[0]!.email}` : `approve ${outcome.issued.length} requests`);
    const plan = async () => {
      const inventory = loadInventory(store, ca);
      const ids = params.all ? requestIds(store).filter((id) => loadRequest(store, id).status === 'pending') : givenIds;
      const decisions: Decision[] = [];
      for (const id of ids) decisions.push(await decide(store, ca, policy, inventory, id));
      const {buildLeafCertificate, randomSerial} = await ca509();
      const now = io.now();
      const writes: StoreWrite[] = [];
      const issued: Issued[] = [];
      const used = new Set(inventory.certificates.map((c) => c.serial));
      let superseded = false;
      for (const d of decisions) {
        let serial = randomSerial();
        while (used.has(serial)) serial = randomSerial();
        used.add(serial);
        const old = d.record.renews ? inventory.certificates.find((c) => c.serial === d.record.renews)! : undefined;
        if (old?.status === 'revoked') {
          throw conflict('pkictl.revoked', `request ${d.record.id} renews ${old.serial}, which another request of this batch renews already`, {details: {id: d.record.id}});
        }
        const leaf = await buildLeafCertificate({
          issuer: {certPem: ca.issuer.pem, key: admin.key},
          publicKey: d.publicKey,
          profile: policy.profiles[d.record.profile]!,
          identity: {name: d.record.name, sans: d.sans},
          lifetimeDays: d.record.lifetimeDays,
          revocation: policy.revocation,
          now,
          serial,
          where: `request ${d.record.id}`,
        });
        const decided = {...d.record, status: 'issued' as const, serial, decidedAt: now.toISOString(), decidedBy: admin.actor};
        writes.push({path: PATHS.cert(serial), content: leaf.pem}, {path: PATHS.request(d.record.id), content: toJsonFile(decided)});
        const entry: InventoryEntry = {
          serial,
          requestId: d.record.id,
          email: d.record.email,
          name: d.record.name,
          profile: d.record.profile,
          keyType: d.keyType,
          notBefore: leaf.notBefore.toISOString(),
          notAfter: leaf.notAfter.toISOString(),
          issuedAt: now.toISOString(),
          approvedBy: admin.actor,
          status: 'valid',
          ...(d.record.renews ? {renews: d.record.renews} : {}),
        };
        inventory.certificates.push(entry);
        if (old) {
          Object.assign(old, {status: 'revoked', revokedAt: now.toISOString(), reason: 'superseded', supersededBy: serial});
          superseded = true;
        }
        issued.push({id: d.record.id, serial, notAfter: leaf.notAfter.toISOString(), email: d.record.email, profile: d.record.profile, renews: d.record.renews ?? null});
      }
      if (superseded) writes.push(...(await crlWrites(ca, admin.key, policy, inventory, now)).writes);
      if (issued.length) writes.push(...inventoryWrites(inventory, admin.key));
      outcome = {issued, warnings: decisions.flatMap((d) => d.warnings)};
      return {writes, result: outcome};
    };
    const first = await plan();
    if (first.result.issued.length === 0) {
      io.ui.info('Nothing to approve: no pending requests.');
      return first.result;
    }
    let firstRun = true;
    const result = await store.commit(message(), async () => {
      if (firstRun) {
        firstRun = false;
        return first;
      }
      return plan();
    });
    for (const w of result.warnings) io.ui.warn(w);
    return result;
  });
}

export interface RejectResult {
  id: string;
  status: 'rejected';
  email: string;
  reason: string;
}

export async function rejectRequest(io: PkiIo, settings: PkictlSettings, params: AdminFlags & {id: string; reason: string}): Promise<RejectResult> {
  if (!params.reason.trim()) throw invalidInput('pkictl.reason_required', '--reason: say why the request is rejected', {details: {flag: '--reason'}});
  return withStore(io, settings, async (store) => {
    const ca = await loadTrustedCa(io, settings, store);
    const policy = await loadPolicy(store, ca);
    const admin = await loadAdminKey(io, settings, ca, policy, params);
    const id = resolveRequestId(store, params.id);
    return store.commit(`reject ${id}: ${params.reason.trim().split('\n')[0]}`, () => {
      // A request whose files are corrupt can still be rejected: that is how it leaves the queue.
      let record: RequestRecord | undefined;
      try {
        record = loadRequest(store, id);
      } catch {
        record = undefined;
      }
      if (record && record.status !== 'pending') throw conflict('pkictl.not_pending', `request ${id} is already ${record.status}`, {details: {id, status: record.status}});
      const now = io.now().toISOString();
      if (!record) {
        // Unreadable metadata cannot be kept as a decision: the request leaves the store (its history stays in git).
        return {writes: [{path: `${PATHS.requests}/${id}`, content: null}], result: {id, status: 'rejected' as const, email: '', reason: params.reason.trim()}};
      }
      const content = toJsonFile({...record, status: 'rejected', decidedAt: now, decidedBy: admin.actor, reason: params.reason.trim()});
      return {writes: [{path: PATHS.request(id), content}], result: {id, status: 'rejected' as const, email: record?.email ?? '', reason: params.reason.trim()}};
    });
  });
}

export interface RevokeResult {
  serial: string;
  status: 'revoked';
  reason: CrlReason;
  revokedAt: string;
  email: string;
  crlNumber: number;
  nextUpdate: string;
}

export async function revokeCertificate(io: PkiIo, settings: PkictlSettings, params: AdminFlags & {serial: string; reason: CrlReason}): Promise<RevokeResult> {
  return withStore(io, settings, async (store) => {
    const ca = await loadTrustedCa(io, settings, store);
    const policy = await loadPolicy(store, ca);
    const admin = await loadAdminKey(io, settings, ca, policy, params);
    return store.commit(`revoke ${params.serial}: ${params.reason}`, async () => {
      const inventory = loadInventory(store, ca);
      const entry = inventory.certificates.find((c) => c.serial === params.serial);
      if (!entry) throw invalidInput('pkictl.serial_unknown', `no certificate with serial ${params.serial} in ${PATHS.inventory}`, {hint: 'List certificates with `pkictl list`.', details: {serial: params.serial}});
      if (entry.status === 'revoked') throw conflict('pkictl.already_revoked', `${params.serial} was already revoked on ${entry.revokedAt} (${entry.reason})`, {details: {serial: params.serial}});
      const now = io.now();
      Object.assign(entry, {status: 'revoked', revokedAt: now.toISOString(), reason: params.reason});
      const crl = await crlWrites(ca, admin.key, policy, inventory, now);
      return {
        writes: [...crl.writes, ...inventoryWrites(inventory, admin.key)],
        result: {serial: params.serial, status: 'revoked' as const, reason: params.reason, revokedAt: now.toISOString(), email: entry.email, crlNumber: crl.number, nextUpdate: crl.nextUpdate.toISOString()},
      };
    });
  });
}

export interface CrlResult {
  /** Which CA's CRL: the issuing CA's (crl/crl.pem) or, with --root, the root's (crl/root.pem). */
  ca: 'issuer' | 'root';
  crlNumber: number;
  thisUpdate: string;
  nextUpdate: string | null;
  revoked: number;
  /** Whether a new CRL was signed and published in the store by this run. */
  published: boolean;
  path: string;
  out: string | null;
  pem: string;
}

export interface CrlParams extends AdminFlags {
  out?: string | undefined;
  /** The root's CRL (two-tier CAs); signed anew with rootKeyFile. */
  root?: boolean | undefined;
  rootKeyFile?: string | undefined;
}

/** With the CA key: signs and publishes a fresh CRL. Without: the published one, verified. */
export async function crl(io: PkiIo, settings: PkictlSettings, params: CrlParams): Promise<CrlResult> {
  const out = params.out ? resolve(io.cwd, params.out) : null;
  const result = await withStore(io, settings, async (store) => {
    const ca = await loadTrustedCa(io, settings, store);
    if (params.root) return rootCrl(io, settings, store, ca, params, out);
    if (params.rootKeyFile) throw invalidInput('pkictl.flag_needs_root', '--root-key signs the root\'s CRL: add --root', {details: {flag: '--root-key'}});
    if (params.caKeyFile ?? settings.caKey) {
      const policy = await loadPolicy(store, ca);
      const key = await loadAdminKey(io, settings, ca, policy, params);
      return store.commit('crl: publish', async () => {
        const inventory = loadInventory(store, ca);
        const now = io.now();
        const made = await crlWrites(ca, key.key, policy, inventory, now);
        const count = inventory.certificates.filter((c) => c.status === 'revoked' && new Date(c.notAfter) > now).length;
        return {
          writes: [...made.writes, ...inventoryWrites(inventory, key.key)],
          result: {ca: 'issuer' as const, crlNumber: made.number, thisUpdate: now.toISOString(), nextUpdate: made.nextUpdate.toISOString(), revoked: count, published: true, path: PATHS.crl, out, pem: made.pem},
        };
      });
    }
    const inventory = loadInventory(store, ca);
    const published = await readCrl(io, store, PATHS.crl, ca.issuer.pem);
    return {...published, ca: 'issuer' as const, crlNumber: inventory.crlNumber, out};
  });
  if (out) writeFileSync(out, result.pem);
  return result;
}

/** A published CRL, its signature checked; a warning when it has expired. */
async function readCrl(io: PkiIo, store: GitStore, path: string, issuerPem: string): Promise<Omit<CrlResult, 'ca' | 'out'>> {
  const pem = store.read(path);
  if (!pem) throw invalidInput('pkictl.store_corrupt', `${path} is missing from the store`, {details: {file: path}});
  const {parseCrl} = await ca509();
  const parsed = await parseCrl(pem, path, issuerPem);
  const how = path === PATHS.rootCrl ? 'pkictl crl --root --root-key <key>' : 'pkictl crl --ca-key <key>';
  if (parsed.nextUpdate && parsed.nextUpdate < io.now()) io.ui.warn(`${path} expired on ${parsed.nextUpdate.toISOString()}; a CA admin must run \`${how}\``);
  return {
    crlNumber: parsed.number ?? 0,
    thisUpdate: parsed.thisUpdate.toISOString(),
    nextUpdate: parsed.nextUpdate?.toISOString() ?? null,
    revoked: parsed.revoked.length,
    published: false,
    path,
    pem,
  };
}

/**
 * The root's CRL of a two-tier CA: read and verified, or, with the (offline) root key, signed
 * anew with the next number and the same entries, before the current one expires.
 */
async function rootCrl(io: PkiIo, settings: PkictlSettings, store: GitStore, ca: CaChain, params: CrlParams, out: string | null): Promise<CrlResult> {
  if (!ca.intermediate) {
    throw invalidInput('pkictl.no_intermediate', `this CA has no intermediate: its root signs certificates, and its CRL is ${PATHS.crl} (pkictl crl without --root)`, {details: {flag: '--root'}});
  }
  if (!params.rootKeyFile) return {...(await readCrl(io, store, PATHS.rootCrl, ca.root.pem)), ca: 'root', out};
  const policy = await loadPolicy(store, ca);
  const key = await loadAdminKey(io, settings, ca, policy, params, 'root');
  // The CRL names the URL the intermediate points at, so relying parties match the two.
  return store.commit('crl: publish the root CRL', async () => {
    const {buildCrl, describeCertificate, parseCrl} = await ca509();
    const current = store.read(PATHS.rootCrl);
    const previous = current ? await parseCrl(current, PATHS.rootCrl, ca.root.pem) : undefined;
    const now = io.now();
    const number = (previous?.number ?? 0) + 1;
    const nextUpdate = new Date(now.getTime() + policy.rootCrlValidityDays * DAY);
    const entries = (previous?.revoked ?? []).map((e) => ({serial: e.serial, revokedAt: e.revokedAt, reason: (e.reason ?? 'unspecified') as CrlReason}));
    const pem = await buildCrl({issuer: {certPem: ca.root.pem, key: key.key}, number, thisUpdate: now, nextUpdate, entries, scope: 'ca-certificates', url: describeCertificate(ca.intermediate!.pem).crlUrls[0]});
    return {
      writes: [{path: PATHS.rootCrl, content: pem}],
      result: {ca: 'root' as const, crlNumber: number, thisUpdate: now.toISOString(), nextUpdate: nextUpdate.toISOString(), revoked: entries.length, published: true, path: PATHS.rootCrl, out, pem},
    };
  });
}

export {denied};
