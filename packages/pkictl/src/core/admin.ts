/** CA admin operations: approve, reject, revoke, publish the CRL. Each is one commit. */
import type {KeyObject} from 'node:crypto';
import {writeFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {conflict, denied, invalidInput} from '@bcl/core';
import type {PkictlSettings} from '../config.js';
import {keyTypeOf} from '../crypto/keys.js';
import {createCrl, type CrlReason, issueLeaf, parseCrl, parseCsr, randomSerial, type San, x509} from '../crypto/x509.js';
import type {GitStore, StoreWrite} from '../store/git.js';
import type {Policy} from '../store/policy.js';
import {type CaChain, inventoryWrites, loadCa, loadInventory, loadPolicy, loadRequest, requestIds, resolveRequestId} from '../store/pki.js';
import {type Inventory, type InventoryEntry, PATHS, type RequestRecord, toJsonFile} from '../store/records.js';
import {loadAdminKey, type PassphraseFlags} from './ca.js';
import {type PkiIo, withStore} from './io.js';
import {checkRequestAgainstPolicy} from './request.js';

const DAY = 86_400_000;
const wholeSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);
/** Leaves are valid from a few minutes back, for clocks that run slow. */
const BACKDATE_MS = 5 * 60_000;

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
  lifetimeDays: number;
  warnings: string[];
}

/** Checks one pending request against the policy; what the CSR asks beyond it is dropped, with a warning. */
async function decide(store: GitStore, policy: Policy, inventory: Inventory, id: string): Promise<Decision> {
  const record = loadRequest(store, id);
  if (record.status !== 'pending') {
    throw conflict('pkictl.not_pending', `request ${id} is already ${record.status}${record.serial ? ` (serial ${record.serial})` : ''}`, {details: {id, status: record.status}});
  }
  const file = PATHS.csr(id);
  const text = store.read(file);
  if (text === undefined) throw invalidInput('pkictl.csr_invalid', `${file} is missing`, {details: {file}, hint: `Reject the request: pkictl reject ${id} --reason ...`});
  const csr = await parseCsr(text, file);
  const actual = keyTypeOf(csr.publicKey);
  if (typeof actual !== 'string') {
    throw denied('pkictl.policy_denied', `request ${id}: ${file} carries a ${actual.unsupported} key; this CA issues for ${policy.keyTypes.join(', ')}`, {hint: `Reject it: pkictl reject ${id} --reason "weak key"`, details: {id}});
  }
  const profile = policy.profiles[record.profile];
  const sans: San[] = [...(profile?.sans.includes('email') ? [{type: 'email' as const, value: record.email}] : []), ...record.sans];
  checkRequestAgainstPolicy(policy, {email: record.email, profile: record.profile, keyType: actual, sans: record.sans}, `request ${id}`);
  const warnings: string[] = [];
  const issuedSans = new Set(sans.map((s) => `${s.type}:${s.value.toLowerCase()}`));
  const dropped = csr.sans.filter((s) => !issuedSans.has(`${s.type}:${s.value.toLowerCase()}`));
  if (dropped.length) warnings.push(`request ${id}: the CSR asked for ${dropped.map((s) => `${s.type}:${s.value}`).join(', ')}; not issued (names come from the request and policy)`);
  if (csr.asksForCa) warnings.push(`request ${id}: the CSR asked for CA:true; issued as CA:false`);
  if (csr.otherExtensions.length) warnings.push(`request ${id}: the CSR's other extensions (${csr.otherExtensions.join(', ')}) were ignored`);
  const max = profile!.maxLifetimeDays;
  if (record.lifetimeDays && record.lifetimeDays > max) warnings.push(`request ${id}: ${record.lifetimeDays} days asked; capped to ${max} by profile ${record.profile}`);
  if (actual !== record.keyType) warnings.push(`request ${id}: request.json says ${record.keyType} but the CSR carries ${actual}`);
  if (record.renews) {
    const old = inventory.certificates.find((c) => c.serial === record.renews);
    if (!old) throw invalidInput('pkictl.renew_unknown', `request ${id} renews ${record.renews}, which is not in ${PATHS.inventory}`, {details: {id}});
    if (old.email.toLowerCase() !== record.email.toLowerCase()) {
      throw denied('pkictl.policy_denied', `request ${id} (${record.email}) claims to renew ${record.renews}, which belongs to ${old.email}`, {details: {id}});
    }
  }
  return {record, publicKey: csr.publicKey, keyType: actual, sans, lifetimeDays: Math.min(record.lifetimeDays ?? max, max), warnings};
}

/** The CRL of every revoked certificate that has not expired yet. */
async function crlWrites(ca: CaChain, key: KeyObject, policy: Policy, inventory: Inventory, now: Date): Promise<{writes: StoreWrite[]; number: number; nextUpdate: Date; pem: string}> {
  const number = inventory.crlNumber + 1;
  const nextUpdate = new Date(now.getTime() + policy.crlValidityDays * DAY);
  const entries = inventory.certificates
    .filter((c) => c.status === 'revoked' && new Date(c.notAfter) > now)
    .map((c) => ({serial: c.serial, revokedAt: new Date(c.revokedAt!), reason: (c.reason ?? 'unspecified') as CrlReason}));
  const pem = await createCrl({caCert: new x509.X509Certificate(ca.issuer.pem), caKey: key, number, thisUpdate: now, nextUpdate, entries});
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
    const ca = await loadCa(store);
    const policy = await loadPolicy(store, ca);
    const admin = await loadAdminKey(io, settings, ca, policy, params);
    const givenIds = params.all ? [] : [...new Set(params.ids.map((id) => resolveRequestId(store, id)))];
    let outcome: ApproveResult = {issued: [], warnings: []};
    const message = () => (outcome.issued.length === 1 ? `approve ${outcome.issued[0]!.id}: ${outcome.issued[0]!.serial} for ${outcome.issued[0]!.email}` : `approve ${outcome.issued.length} requests`);
    const plan = async () => {
      const inventory = loadInventory(store, ca);
      const ids = params.all ? requestIds(store).filter((id) => loadRequest(store, id).status === 'pending') : givenIds;
      const decisions: Decision[] = [];
      for (const id of ids) decisions.push(await decide(store, policy, inventory, id));
      const now = io.now();
      const issuerCert = new x509.X509Certificate(ca.issuer.pem);
      const issuerNotAfter = issuerCert.notAfter.getTime();
      const writes: StoreWrite[] = [];
      const issued: Issued[] = [];
      const used = new Set(inventory.certificates.map((c) => c.serial));
      let superseded = false;
      for (const d of decisions) {
        let serial = randomSerial();
        while (used.has(serial)) serial = randomSerial();
        used.add(serial);
        // Certificates carry whole seconds: the dates reported are the ones in the certificate.
        const notBefore = wholeSeconds(now.getTime() - BACKDATE_MS);
        const notAfter = wholeSeconds(Math.min(now.getTime() + d.lifetimeDays * DAY, issuerNotAfter));
        const profile = policy.profiles[d.record.profile]!;
        const pem = await issueLeaf({
          caCert: issuerCert,
          caKey: admin.key,
          publicKey: d.publicKey,
          serial,
          commonName: d.record.name,
          sans: d.sans,
          keyUsage: profile.keyUsage,
          extendedKeyUsage: profile.extendedKeyUsage,
          notBefore,
          notAfter,
        });
        const decided = {...d.record, status: 'issued' as const, serial, decidedAt: now.toISOString(), decidedBy: admin.actor};
        writes.push({path: PATHS.cert(serial), content: pem}, {path: PATHS.request(d.record.id), content: toJsonFile(decided)});
        const entry: InventoryEntry = {
          serial,
          requestId: d.record.id,
          email: d.record.email,
          name: d.record.name,
          profile: d.record.profile,
          keyType: d.keyType,
          notBefore: notBefore.toISOString(),
          notAfter: notAfter.toISOString(),
          issuedAt: now.toISOString(),
          approvedBy: admin.actor,
          status: 'valid',
          ...(d.record.renews ? {renews: d.record.renews} : {}),
        };
        inventory.certificates.push(entry);
        if (d.record.renews) {
          const old = inventory.certificates.find((c) => c.serial === d.record.renews)!;
          old.supersededBy = serial;
          if (old.status === 'valid') {
            Object.assign(old, {status: 'revoked', revokedAt: now.toISOString(), reason: 'superseded'});
            superseded = true;
          }
        }
        issued.push({id: d.record.id, serial, notAfter: notAfter.toISOString(), email: d.record.email, profile: d.record.profile, renews: d.record.renews ?? null});
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
    const ca = await loadCa(store);
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
    const ca = await loadCa(store);
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

/** With the CA key: signs and publishes a fresh CRL. Without: the published one, verified. */
export async function crl(io: PkiIo, settings: PkictlSettings, params: AdminFlags & {out?: string | undefined}): Promise<CrlResult> {
  const out = params.out ? resolve(io.cwd, params.out) : null;
  const admin = Boolean(params.caKeyFile ?? settings.caKey);
  const result = await withStore(io, settings, async (store) => {
    const ca = await loadCa(store);
    if (admin) {
      const policy = await loadPolicy(store, ca);
      const key = await loadAdminKey(io, settings, ca, policy, params);
      return store.commit('crl: publish', async () => {
        const inventory = loadInventory(store, ca);
        const now = io.now();
        const made = await crlWrites(ca, key.key, policy, inventory, now);
        const count = inventory.certificates.filter((c) => c.status === 'revoked' && new Date(c.notAfter) > now).length;
        return {
          writes: [...made.writes, ...inventoryWrites(inventory, key.key)],
          result: {crlNumber: made.number, thisUpdate: now.toISOString(), nextUpdate: made.nextUpdate.toISOString(), revoked: count, published: true, path: PATHS.crl, out, pem: made.pem},
        };
      });
    }
    const inventory = loadInventory(store, ca);
    const pem = store.read(PATHS.crl);
    if (!pem) throw invalidInput('pkictl.store_corrupt', `${PATHS.crl} is missing from the store`, {details: {file: PATHS.crl}});
    const parsed = await parseCrl(pem, PATHS.crl, new x509.X509Certificate(ca.issuer.pem));
    if (parsed.nextUpdate && parsed.nextUpdate < io.now()) io.ui.warn(`the published CRL expired on ${parsed.nextUpdate.toISOString()}; a CA admin must run \`pkictl crl --ca-key <key>\``);
    return {
      crlNumber: inventory.crlNumber,
      thisUpdate: parsed.thisUpdate.toISOString(),
      nextUpdate: parsed.nextUpdate?.toISOString() ?? null,
      revoked: parsed.revoked.length,
      published: false,
      path: PATHS.crl,
      out,
      pem,
    };
  });
  if (out) writeFileSync(out, result.pem);
  return result;
}

export {denied};
