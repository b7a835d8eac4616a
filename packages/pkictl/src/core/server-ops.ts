/**
 * pkictl's commands against a PKI server, returning the same results as against a Git store.
 * Keys are still made here and never leave the machine: the server sees the CSR. A standard
 * profile's certificate comes back in the same call and is written beside the key, after the
 * same checks as `fetch` (signed by the pinned CA, carrying our public key).
 */
import {createPublicKey, type KeyObject, X509Certificate} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {conflict, denied, invalidInput, usageError} from '@bcl/core';
import {writeFileAtomicSync} from '@bcl/files';
import {type CredentialMeta, CredentialStage, credentialPaths, type KeyType, listCredentials, readMeta, writeMeta} from '@bcl/pki-local';
import type {CertificateSummary as ServerSummary, CertificateView, CrlStatus, RequestOutcome, RequestView} from '@bcl/pki-server/api';
import type {CrlReason} from '@bcl/pki-ca/crl-reasons';
import {signRenewal} from '@bcl/pki-ca/keys';
import type {PkictlSettings} from '../config.js';
import {exportPrivateKey, exportPublicKey, generateKey, loadPrivateKeyFile} from '../crypto/keys.js';
import {PkiServerClient} from '../server/client.js';
import type {ApproveResult, CrlResult, Issued, RejectResult, RevokeResult} from './admin.js';
import type {CertStatus, CertSummary, ShowResult} from './certs.js';
import {localCredentialsDir, type PkiIo, readSecret} from './io.js';
import {localCredential, markSuperseded} from './local.js';
import type {FetchResult, RenewParams, RequestParams, RequestResult, RequestSummary} from './request.js';
import {loadServerCa, type ServerCa} from './server-ca.js';

/** A request made through a server: issued at once (standard profiles) or pending an admin. */
export interface ServerRequestResult extends Omit<RequestResult, 'status'> {
  status: 'pending' | 'issued';
  serial: string | null;
  certPath: string | null;
  chainPath: string | null;
  notAfter: string | null;
}

function checkFlagsForServer(params: {adminKey?: string | undefined}): void {
  if (params.adminKey) {
    throw usageError('--ca-key is for a Git store; against a PKI server, admin rights come from your sign-in (pkictl login)', {details: {flag: '--ca-key'}}, 'usage.flag_not_for_server');
  }
}

/** Refuses an issued certificate not signed by the pinned CA or not carrying our public key (SPKI DER). */
function checkIssued(ca: ServerCa, id: string, cert: CertificateView, publicKey: Buffer, where: string): void {
  let x: X509Certificate;
  try {
    x = new X509Certificate(cert.pem);
  } catch (error) {
    throw invalidInput('pkictl.server_answer_invalid', `${where}: the certificate is not PEM: ${(error as Error).message}`, {});
  }
  if (!x.verify(ca.issuer.publicKey) || !x.checkIssued(ca.issuer)) throw denied('pkictl.server_answer_invalid', `${where}: the certificate ${cert.serial} is not signed by the CA you pinned`, {hint: 'Tell your PKI admin; nothing was written.'});
  if (!x.publicKey.export({type: 'spki', format: 'der'}).equals(publicKey)) throw denied('pkictl.server_answer_invalid', `${where}: the certificate ${cert.serial} does not carry the public key of your request ${id}`, {});
}

/** Writes an issued certificate and the CA chain beside an existing local key, once both check out. */
function writeIssued(io: PkiIo, ca: ServerCa, id: string, cert: CertificateView, where: string): {certPath: string; chainPath: string} {
  const paths = credentialPaths(localCredentialsDir(io), id);
  checkIssued(ca, id, cert, createPublicKey(readFileSync(paths.publicKeyPath)).export({type: 'spki', format: 'der'}), where);
  writeFileAtomicSync(paths.certPath, cert.pem, {mode: 0o644});
  writeFileAtomicSync(paths.chainPath, ca.chainPem, {mode: 0o644});
  writeMeta(paths, {...readMeta(paths), serial: cert.serial, fetchedAt: io.now().toISOString()});
  return {certPath: paths.certPath, chainPath: paths.chainPath};
}

interface NewKey {
  privateKey: KeyObject;
  publicKeyPem: string;
  /** The public key as SPKI DER, to match the certificate that comes back. */
  spki: Buffer;
  csr: string;
  passphrase: string | undefined;
}

/** The passphrase of a new key, asked (or read) before any work when the key is to be encrypted. */
async function newKeyPassphrase(io: PkiIo, params: {encrypt: boolean; passphraseFile?: string | undefined; passphraseEnv?: string | undefined}): Promise<string | undefined> {
  if (!params.encrypt) return undefined;
  return readSecret(io, {file: params.passphraseFile, envVar: params.passphraseEnv, fileFlag: '--passphrase-file', envFlag: '--passphrase-env', message: 'Passphrase for the new private key:', confirm: true, minLength: 8});
}

/** A new key and CSR (CN and SAN: the signed-in email); the server takes only the public key. */
async function newKey(email: string, keyType: KeyType, passphrase: string | undefined): Promise<NewKey> {
  const keys = await generateKey(keyType);
  const {createCsr} = await import('@bcl/pki-ca/make-csr');
  const csr = await createCsr({privateKey: keys.privateKey, publicKey: keys.publicKey, commonName: email, sans: [{type: 'email', value: email}]});
  return {privateKey: keys.privateKey, publicKeyPem: exportPublicKey(keys.publicKey), spki: keys.publicKey.export({type: 'spki', format: 'der'}), csr, passphrase};
}

/**
 * Sends a request for a new key, whose files wait in a staging directory while the server
 * answers (CredentialStage). They become the credential, named by the server's request id, once
 * the request was accepted; an issued certificate goes in with them, after the checks of
 * `fetch`, so the credential appears whole: key, certificate, chain and metadata.
 */
async function sendWithNewKey(io: PkiIo, client: PkiServerClient, ca: ServerCa, key: NewKey, meta: Omit<CredentialMeta, 'id' | 'version' | 'encrypted'>, send: () => Promise<RequestOutcome>): Promise<ServerRequestResult> {
  const stage = CredentialStage.create(localCredentialsDir(io));
  try {
    stage.write('key', exportPrivateKey(key.privateKey, key.passphrase));
    stage.write('publicKey', key.publicKeyPem);
    stage.write('csr', key.csr);
    const outcome = await send();
    const r = outcome.request;
    let refused: unknown;
    if (outcome.certificate) {
      try {
        checkIssued(ca, r.id, outcome.certificate, key.spki, client.url);
      } catch (error) {
        // The request stands (the server has it): the key is kept for a later `pkictl fetch`.
        refused = error;
      }
    }
    const issued = refused === undefined ? outcome.certificate : undefined;
    if (issued) {
      stage.write('cert', issued.pem);
      stage.write('chain', ca.chainPem);
    }
    stage.writeMeta({version: 1, id: r.id, encrypted: key.passphrase !== undefined, ...meta, ...(issued ? {serial: issued.serial, fetchedAt: io.now().toISOString()} : {})});
    const paths = stage.publish();
    if (refused !== undefined) throw refused;
    if (issued && r.renews) markSuperseded(io, r.renews, issued.serial);
    return {
      id: r.id,
      status: issued ? 'issued' : 'pending',
      email: r.email,
      name: r.name,
      profile: r.profile,
      keyType: meta.keyType,
      store: client.url,
      keyPath: paths.keyPath,
      renews: r.renews,
      serial: issued?.serial ?? null,
      certPath: issued ? paths.certPath : null,
      chainPath: issued ? paths.chainPath : null,
      notAfter: issued?.notAfter ?? null,
    };
  } finally {
    stage.discard();
  }
}

export async function requestViaServer(io: PkiIo, settings: PkictlSettings, params: RequestParams): Promise<ServerRequestResult> {
  const client = new PkiServerClient(io, settings);
  const session = client.session();
  if (settings.email && settings.email.toLowerCase() !== session.email) {
    io.ui.warn(`pkictl.email is ${settings.email}, but you are signed in as ${session.email}: the certificate is for ${session.email}`);
  }
  const passphrase = await newKeyPassphrase(io, params);
  // The CA chain comes while the key is made; nothing is sent before its pin is checked.
  const [ca, key] = await Promise.all([loadServerCa(io, settings, client), newKey(session.email, params.keyType, passphrase)]);
  const body = {csr: key.csr, profile: params.profile, ...(params.lifetimeDays ? {lifetimeDays: params.lifetimeDays} : {}), dns: params.dns, ip: params.ip};
  const meta = {store: client.url, email: session.email, name: session.email, profile: params.profile, keyType: params.keyType, requestedAt: io.now().toISOString()};
  return sendWithNewKey(io, client, ca, key, meta, async () => (await client.authed<RequestOutcome>('POST', '/v1/requests', body, [201, 202])).body);
}

export async function fetchViaServer(io: PkiIo, settings: PkictlSettings, params: {id?: string | undefined}): Promise<FetchResult> {
  const local = localCredential(io, params.id);
  const client = new PkiServerClient(io, settings);
  const ca = await loadServerCa(io, settings, client);
  const {body} = await client.authed<RequestOutcome>('GET', `/v1/requests/${local.id}`);
  if (body.request.status === 'pending') {
    throw conflict('pkictl.not_approved', `request ${local.id} is still waiting for approval`, {hint: `Ask a PKI admin to run \`pkictl approve ${local.id}\`, then fetch again.`, details: {id: local.id, status: 'pending'}});
  }
  if (body.request.status === 'rejected' || !body.certificate) {
    throw denied('pkictl.rejected', `request ${local.id} was rejected${body.request.decidedBy ? ` by ${body.request.decidedBy}` : ''}: ${body.request.reason ?? 'no reason given'}`, {details: {id: local.id, status: 'rejected'}});
  }
  const written = writeIssued(io, ca, local.id, body.certificate, client.url);
  if (body.request.renews) markSuperseded(io, body.request.renews, body.certificate.serial);
  return {id: local.id, serial: body.certificate.serial, ...written, keyPath: local.keyPath, email: body.request.email, profile: body.request.profile, notAfter: body.certificate.notAfter};
}

const summaryOf = (c: ServerSummary): CertSummary => ({serial: c.serial, email: c.email, profile: c.profile, status: c.status, notBefore: c.notBefore, notAfter: c.notAfter, name: c.name, requestId: c.requestId ?? ''});

export async function listViaServer(io: PkiIo, settings: PkictlSettings, params: {status?: CertStatus | undefined; email?: string | undefined}): Promise<CertSummary[]> {
  const client = new PkiServerClient(io, settings);
  const q = new URLSearchParams({...(params.status ? {status: params.status} : {}), ...(params.email ? {email: params.email} : {})});
  const {body} = await client.authed<{certificates: ServerSummary[]}>('GET', `/v1/certificates${q.size ? `?${q}` : ''}`);
  return body.certificates.map(summaryOf);
}

export async function showViaServer(io: PkiIo, settings: PkictlSettings, params: {serial: string}): Promise<ShowResult> {
  const client = new PkiServerClient(io, settings);
  const {body: c} = await client.authed<CertificateView>('GET', `/v1/certificates/${params.serial}`);
  const {describeCertificate} = await import('@bcl/pki-ca');
  const local = listCredentials({env: io.env, now: io.now()}).find((l) => l.serial === c.serial && l.certPath);
  return {
    ...summaryOf(c),
    issuedAt: c.issuedAt,
    approvedBy: c.approvedBy,
    revokedAt: c.revokedAt,
    reason: c.reason,
    renews: c.renews,
    supersededBy: c.supersededBy,
    certificate: describeCertificate(c.pem),
    local: local ? {certPath: local.certPath!, keyPath: local.keyPath, chainPath: local.chainPath ?? null} : null,
    pem: c.pem,
  };
}

/** A renewal signed with the old key (on this machine); issued at once for standard profiles. */
export async function renewViaServer(io: PkiIo, settings: PkictlSettings, params: RenewParams): Promise<ServerRequestResult> {
  const local = listCredentials({env: io.env, now: io.now()}).find((c) => c.serial === params.serial && c.certPath);
  if (!local) {
    throw invalidInput('pkictl.no_local_key', `certificate ${params.serial} and its key are not on this machine: a renewal is signed with the key of the certificate it renews`, {
      hint: 'Renew on the machine that holds the key; without it, request a new certificate (`pkictl request`).',
      details: {serial: params.serial},
    });
  }
  const client = new PkiServerClient(io, settings);
  const session = client.session();
  const ca = await loadServerCa(io, settings, client);
  const oldPassphrase = local.encrypted
    ? await readSecret(io, {file: params.passphraseFile, envVar: params.passphraseEnv, fileFlag: '--passphrase-file', envFlag: '--passphrase-env', message: `Passphrase for ${local.keyPath}:`})
    : undefined;
  const oldKey = loadPrivateKeyFile(readFileSync(local.keyPath, 'utf8'), local.keyPath, oldPassphrase);
  const keyType = params.keyType ?? local.meta.keyType;
  const encrypt = params.encrypt ?? local.encrypted;
  const key = await newKey(session.email, keyType, await newKeyPassphrase(io, {encrypt, passphraseFile: params.passphraseFile, passphraseEnv: params.passphraseEnv}));
  const {renewalFields} = await import('@bcl/pki-server/api');
  const signature = signRenewal(oldKey, {renews: params.serial, csrPem: key.csr, request: renewalFields({profile: local.profile})});
  const meta = {store: client.url, email: session.email, name: session.email, profile: local.profile, keyType, requestedAt: io.now().toISOString(), renews: params.serial};
  return sendWithNewKey(io, client, ca, key, meta, async () => (await client.authed<RequestOutcome>('POST', `/v1/certificates/${params.serial}/renew`, {csr: key.csr, signature}, [201, 202])).body);
}

export async function revokeViaServer(io: PkiIo, settings: PkictlSettings, params: {serial: string; reason: CrlReason; caKeyFile?: string | undefined}): Promise<RevokeResult> {
  checkFlagsForServer({adminKey: params.caKeyFile});
  const client = new PkiServerClient(io, settings);
  const {body} = await client.authed<{certificate: ServerSummary; crl: CrlStatus}>('POST', `/v1/certificates/${params.serial}/revoke`, {reason: params.reason});
  return {serial: body.certificate.serial, status: 'revoked', reason: params.reason, revokedAt: body.certificate.revokedAt!, email: body.certificate.email, crlNumber: Number(body.crl.number), nextUpdate: body.crl.nextUpdate};
}

/** The server's CRL, its signature checked against the pinned CA. */
export async function crlViaServer(io: PkiIo, settings: PkictlSettings, params: {out?: string | undefined; root?: boolean | undefined; caKeyFile?: string | undefined}): Promise<CrlResult> {
  checkFlagsForServer({adminKey: params.caKeyFile});
  if (params.root) throw usageError('--root is for a Git store with an intermediate; a PKI server publishes the issuing CA\'s CRL', {details: {flag: '--root'}}, 'usage.flag_not_for_server');
  const client = new PkiServerClient(io, settings);
  const ca = await loadServerCa(io, settings, client);
  const pem = await client.text('/crl.pem');
  const {parseCrl} = await import('@bcl/pki-ca');
  const parsed = await parseCrl(pem, `${client.url}/crl.pem`, ca.issuerPem);
  const {resolve} = await import('node:path');
  const out = params.out ? resolve(io.cwd, params.out) : null;
  if (out) writeFileAtomicSync(out, pem, {mode: 0o644});
  return {
    ca: 'issuer',
    crlNumber: parsed.number ?? 0,
    thisUpdate: parsed.thisUpdate.toISOString(),
    nextUpdate: parsed.nextUpdate?.toISOString() ?? null,
    revoked: parsed.revoked.length,
    published: false,
    path: `${client.url}/crl.pem`,
    out,
    pem,
  };
}

const requestSummary = (r: RequestView): RequestSummary => ({
  id: r.id,
  status: r.status,
  email: r.email,
  name: r.name,
  profile: r.profile,
  keyType: r.keyType as KeyType,
  requestedAt: r.requestedAt,
  lifetimeDays: r.lifetimeDays,
  sans: r.sans,
  renews: r.renews,
  serial: r.serial,
  decidedBy: r.decidedBy,
  reason: r.reason,
});

export async function requestsViaServer(io: PkiIo, settings: PkictlSettings, params: {status: 'pending' | 'issued' | 'rejected' | 'all'}): Promise<RequestSummary[]> {
  const client = new PkiServerClient(io, settings);
  const {body} = await client.authed<{requests: RequestView[]}>('GET', `/v1/requests?status=${params.status}`);
  return body.requests.map(requestSummary);
}

export async function approveViaServer(io: PkiIo, settings: PkictlSettings, params: {ids: string[]; all: boolean; caKeyFile?: string | undefined}): Promise<ApproveResult> {
  checkFlagsForServer({adminKey: params.caKeyFile});
  if (!params.all && params.ids.length === 0) throw invalidInput('pkictl.approve_nothing', 'give request ids to approve, or --all', {hint: 'See what waits with `pkictl requests`.'});
  const client = new PkiServerClient(io, settings);
  const ids = params.all ? (await requestsViaServer(io, settings, {status: 'pending'})).map((r) => r.id) : params.ids;
  if (ids.length === 0) io.ui.info('Nothing to approve: no pending requests.');
  const issued: Issued[] = [];
  for (const id of ids) {
    const {body} = await client.authed<RequestOutcome>('POST', `/v1/requests/${id}/approve`);
    issued.push({id, serial: body.certificate!.serial, notAfter: body.certificate!.notAfter, email: body.request.email, profile: body.request.profile, renews: body.request.renews});
  }
  return {issued, warnings: []};
}

export async function rejectViaServer(io: PkiIo, settings: PkictlSettings, params: {id: string; reason: string; caKeyFile?: string | undefined}): Promise<RejectResult> {
  checkFlagsForServer({adminKey: params.caKeyFile});
  if (!params.reason.trim()) throw invalidInput('pkictl.reason_required', '--reason: say why the request is rejected', {details: {flag: '--reason'}});
  const client = new PkiServerClient(io, settings);
  const {body} = await client.authed<{request: RequestView}>('POST', `/v1/requests/${params.id}/reject`, {reason: params.reason.trim()});
  return {id: body.request.id, status: 'rejected', email: body.request.email, reason: body.request.reason ?? params.reason};
}
