import {createPublicKey, type KeyObject, randomBytes, X509Certificate} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {conflict, denied, invalidInput} from '@bcl/core';
import {writeFileAtomicSync} from '@bcl/files';
import {
  type CredentialMeta,
  type CredentialPaths,
  credentialPaths,
  CredentialStage,
  type KeyType,
  listCredentials,
  type LocalCredential,
  normalizeSerial,
  readMeta,
  writeMeta,
} from '@bcl/pki-local';
import {signRenewal} from '@bcl/pki-ca/keys';
import {checkRequest, issuedSans, type San} from '@bcl/pki-ca/policy';
import type {PkictlSettings} from '../config.js';
import {exportPrivateKey, exportPublicKey, generateKey, loadPrivateKeyFile} from '../crypto/keys.js';
import type {GitStore} from '../store/git.js';
import {loadInventory, loadPolicy, loadRequest, requestIds} from '../store/pki.js';
import {PATHS, type RequestRecord, renewalClaimOf, toJsonFile} from '../store/records.js';
import {loadTrustedCa} from './ca-pin.js';
import {emailOf, localCredentialsDir, type PkiIo, readSecret, withStore} from './io.js';
import {localCredential, markSuperseded} from './local.js';
import type {PassphraseFlags} from './ca.js';
import {compareAsLocale} from '@bcl/core/text';

export interface RequestParams extends PassphraseFlags {
  profile: string;
  keyType: KeyType;
  name?: string | undefined;
  lifetimeDays?: number | undefined;
  dns: string[];
  ip: string[];
  encrypt: boolean;
  /** A renewal: the serial renewed, and that certificate's private key, which signs the request. */
  renewal?: {serial: string; key: KeyObject} | undefined;
}

export interface RequestResult {
  id: string;
  status: 'pending';
  email: string;
  name: string;
  profile: string;
  keyType: KeyType;
  store: string;
  keyPath: string;
  renews: string | null;
}

function requestedSans(params: {dns: string[]; ip: string[]}): San[] {
  const sans: San[] = [];
  for (const d of params.dns) {
    if (!/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(d)) throw invalidInput('pkictl.san_invalid', `--dns: "${d}" is not a DNS name`, {details: {flag: '--dns'}});
    sans.push({type: 'dns', value: d.toLowerCase()});
  }
  for (const ip of params.ip) {
    if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(ip) && !/^[0-9a-f:]+$/i.test(ip)) throw invalidInput('pkictl.san_invalid', `--ip: "${ip}" is not an IP address`, {details: {flag: '--ip'}});
    sans.push({type: 'ip', value: ip});
  }
  return sans;
}

/** A new key made here, a CSR sent to the store as one commit; the key never leaves this machine. */
export async function requestCertificate(io: PkiIo, settings: PkictlSettings, params: RequestParams): Promise<RequestResult> {
  const email = emailOf(settings, 'the certificate request');
  const renews = params.renewal?.serial;
  const name = params.name ?? settings.name ?? email;
  const extra = requestedSans(params);
  const passphrase = params.encrypt
    ? await readSecret(io, {file: params.passphraseFile, envVar: params.passphraseEnv, fileFlag: '--passphrase-file', envFlag: '--passphrase-env', message: 'Passphrase for the new private key:', confirm: true, minLength: 8})
    : undefined;
  return withStore(io, settings, async (store) => {
    const ca = await loadTrustedCa(io, settings, store);
    const policy = await loadPolicy(store, ca);
    // The requester learns at once what the CA would refuse.
    const profile = checkRequest(policy, {email, profile: params.profile, keyType: params.keyType, sans: extra}, 'request', PATHS.policy);
    const sans = issuedSans(profile, email, extra);
    const keys = await generateKey(params.keyType);
    const {createCsr} = await import('@bcl/pki-ca/make-csr');
    const csr = await createCsr({privateKey: keys.privateKey, publicKey: keys.publicKey, commonName: name, sans});
    const id = newRequestId(store);
    const requestedAt = io.now().toISOString();
    const record: RequestRecord = {
      version: 1,
      id,
      email,
      name,
      profile: params.profile,
      keyType: params.keyType,
      requestedAt,
      ...(params.lifetimeDays ? {lifetimeDays: params.lifetimeDays} : {}),
      sans: extra,
      ...(renews ? {renews} : {}),
      status: 'pending',
    };
    if (params.renewal) record.renewalSignature = signRenewal(params.renewal.key, renewalClaimOf(record, csr));
    // The credential is staged whole first; it takes its place once the request is pushed.
    const stage = CredentialStage.create(localCredentialsDir(io));
    let paths: CredentialPaths;
    try {
      stage.write('key', exportPrivateKey(keys.privateKey, passphrase));
      stage.write('publicKey', exportPublicKey(keys.publicKey));
      stage.write('csr', csr);
      stage.writeMeta({
        version: 1,
        id,
        store: store.url,
        email,
        name,
        profile: params.profile,
        keyType: params.keyType,
        encrypted: passphrase !== undefined,
        requestedAt,
        ...(renews ? {renews} : {}),
      });
      await store.commit(`request ${id}: ${params.profile} certificate for ${email}${renews ? ` (renews ${renews})` : ''}`, () => ({
        writes: [
          {path: PATHS.request(id), content: toJsonFile(record)},
          {path: PATHS.csr(id), content: csr},
        ],
        result: undefined,
      }));
      paths = stage.publish();
    } finally {
      stage.discard();
    }
    return {id, status: 'pending', email, name, profile: params.profile, keyType: params.keyType, store: store.url, keyPath: paths.keyPath, renews: renews ?? null};
  });
}

function newRequestId(store: GitStore): string {
  const existing = new Set(requestIds(store));
  for (;;) {
    const id = randomBytes(5).toString('hex');
    if (!existing.has(id) && /[a-f]/.test(id)) return id;
  }
}

export interface RequestSummary {
  id: string;
  status: RequestRecord['status'];
  email: string;
  name: string;
  profile: string;
  keyType: KeyType;
  requestedAt: string;
  lifetimeDays: number | null;
  sans: string[];
  renews: string | null;
  serial: string | null;
  decidedBy: string | null;
  reason: string | null;
}

export function summarize(r: RequestRecord): RequestSummary {
  return {
    id: r.id,
    status: r.status,
    email: r.email,
    name: r.name,
    profile: r.profile,
    keyType: r.keyType,
    requestedAt: r.requestedAt,
    lifetimeDays: r.lifetimeDays ?? null,
    sans: r.sans.map((s) => `${s.type}:${s.value}`),
    renews: r.renews ?? null,
    serial: r.serial ?? null,
    decidedBy: r.decidedBy ?? null,
    reason: r.reason ?? null,
  };
}

/** The requests in the store, oldest first, filtered by status ('all' for every one). */
export async function listRequests(io: PkiIo, settings: PkictlSettings, params: {status: 'pending' | 'issued' | 'rejected' | 'all'}): Promise<RequestSummary[]> {
  return withStore(io, settings, async (store) => {
    await loadTrustedCa(io, settings, store);
    return requestIds(store)
      .map((id) => loadRequest(store, id))
      .filter((r) => params.status === 'all' || r.status === params.status)
      .sort((a, b) => compareAsLocale(a.requestedAt, b.requestedAt) || compareAsLocale(a.id, b.id))
      .map(summarize);
  });
}

export interface FetchResult {
  id: string;
  serial: string;
  certPath: string;
  chainPath: string;
  keyPath: string;
  email: string;
  profile: string;
  notAfter: string;
}

/** Writes the issued certificate and the CA chain beside the local key, after checking both. */
export async function fetchCertificate(io: PkiIo, settings: PkictlSettings, params: {id?: string | undefined}): Promise<FetchResult> {
  const local = localCredential(io, params.id);
  const storeSettings = {...settings, store: settings.store ?? local.meta.store};
  return withStore(io, storeSettings, async (store) => {
    const ca = await loadTrustedCa(io, settings, store);
    if (!requestIds(store).includes(local.id)) {
      throw invalidInput('pkictl.request_not_found', `request ${local.id} is not in the store ${store.url}`, {hint: `It was sent to ${local.meta.store}; pass --store ${local.meta.store}.`});
    }
    const record = loadRequest(store, local.id);
    if (record.status === 'pending') {
      throw conflict('pkictl.not_approved', `request ${local.id} is still waiting for approval`, {hint: 'Ask a CA admin to run `pkictl approve ' + local.id + '`, then fetch again.', details: {id: local.id, status: 'pending'}});
    }
    if (record.status === 'rejected') {
      throw denied('pkictl.rejected', `request ${local.id} was rejected${record.decidedBy ? ` by ${record.decidedBy}` : ''}: ${record.reason ?? 'no reason given'}`, {details: {id: local.id, status: 'rejected'}});
    }
    const serial = record.serial!;
    const certFile = PATHS.cert(serial);
    const pem = store.read(certFile);
    if (!pem) throw invalidInput('pkictl.store_corrupt', `${PATHS.request(local.id)} says ${serial} was issued, but ${certFile} is missing`, {details: {file: certFile}});
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(pem);
    } catch (error) {
      throw invalidInput('pkictl.store_corrupt', `${certFile} is not a PEM certificate: ${(error as Error).message}`, {details: {file: certFile}});
    }
    if (!cert.verify(ca.issuerPublicKey) || normalizeSerial(cert.serialNumber) !== serial) {
      throw invalidInput('pkictl.store_tampered', `${certFile} is not a certificate of serial ${serial} signed by this CA`, {details: {file: certFile}});
    }
    const paths = credentialPaths(localCredentialsDir(io), local.id);
    const mine = readFileSync(paths.publicKeyPath);
    if (!cert.publicKey.export({type: 'spki', format: 'der'}).equals(createSpki(mine))) {
      throw invalidInput('pkictl.store_tampered', `${certFile} does not carry the public key of your request ${local.id}`, {
        hint: 'The store was altered; tell the CA admin.',
        details: {file: certFile},
      });
    }
    writeFileAtomicSync(paths.certPath, pem, {mode: 0o644});
    writeFileAtomicSync(paths.chainPath, ca.chainPem, {mode: 0o644});
    const meta = readMeta(paths);
    writeMeta(paths, {...meta, serial, fetchedAt: io.now().toISOString()});
    if (meta.renews) markSuperseded(io, meta.renews, serial);
    return {
      id: local.id,
      serial,
      certPath: paths.certPath,
      chainPath: paths.chainPath,
      keyPath: paths.keyPath,
      email: record.email,
      profile: record.profile,
      notAfter: new Date(cert.validTo).toISOString(),
    };
  });
}

function createSpki(pem: Buffer): Buffer {
  return createPublicKey(pem).export({type: 'spki', format: 'der'});
}

export interface RenewParams extends PassphraseFlags {
  serial: string;
  keyType?: KeyType | undefined;
  encrypt?: boolean | undefined;
}

/**
 * A new key and request for the same identity and profile, signed with the key of the certificate
 * it renews (so only that key's holder can renew it); once the new one is issued, the old one is
 * revoked as superseded.
 */
export async function renewCertificate(io: PkiIo, settings: PkictlSettings, params: RenewParams): Promise<RequestResult> {
  const local = listCredentials({env: io.env, now: io.now()}).find((c) => c.serial === params.serial && c.certPath);
  if (!local) {
    throw invalidInput('pkictl.no_local_key', `certificate ${params.serial} and its key are not on this machine: a renewal is signed with the key of the certificate it renews`, {
      hint: 'Renew on the machine that holds the key (after `pkictl fetch`); without it, request a new certificate (`pkictl request`).',
      details: {serial: params.serial},
    });
  }
  const storeSettings = {...settings, store: settings.store ?? local.meta.store};
  const {entry, request} = await withStore(io, storeSettings, async (store) => {
    const ca = await loadTrustedCa(io, settings, store);
    const found = loadInventory(store, ca).certificates.find((c) => c.serial === params.serial);
    if (!found) throw invalidInput('pkictl.serial_unknown', `no certificate with serial ${params.serial} in the store`, {hint: 'List certificates with `pkictl list`.', details: {serial: params.serial}});
    if (found.status === 'revoked') throw conflict('pkictl.revoked', `${params.serial} is revoked; request a new certificate instead of renewing it`, {details: {serial: params.serial}});
    const ids = requestIds(store);
    return {entry: found, request: ids.includes(found.requestId) ? loadRequest(store, found.requestId) : undefined};
  });
  const keyText = readFileSync(local.keyPath, 'utf8');
  const passphrase = local.encrypted
    ? await readSecret(io, {file: params.passphraseFile, envVar: params.passphraseEnv, fileFlag: '--passphrase-file', envFlag: '--passphrase-env', message: `Passphrase for ${local.keyPath}:`})
    : undefined;
  const oldKey = loadPrivateKeyFile(keyText, local.keyPath, passphrase);
  return requestCertificate(io, {...storeSettings, email: entry.email}, {
    profile: entry.profile,
    keyType: params.keyType ?? entry.keyType,
    name: entry.name,
    dns: request?.sans.filter((s) => s.type === 'dns').map((s) => s.value) ?? [],
    ip: request?.sans.filter((s) => s.type === 'ip').map((s) => s.value) ?? [],
    lifetimeDays: request?.lifetimeDays,
    encrypt: params.encrypt ?? local.encrypted ?? settings.encryptKeys,
    renewal: {serial: params.serial, key: oldKey},
    passphraseFile: params.passphraseFile,
    passphraseEnv: params.passphraseEnv,
  });
}
