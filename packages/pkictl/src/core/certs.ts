/** Reading certificates (list, show) and using local ones (export, vpn-config). */
import {createPrivateKey} from 'node:crypto';
import {existsSync, readFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {conflict, invalidInput} from '@bcl/core';
import {writeSecretFileSync} from '@bcl/files';
import {findCredential, listCredentials, type LocalCredential} from '@bcl/pki-local';
import type {PkictlSettings} from '../config.js';
import {loadPrivateKeyFile} from '../crypto/keys.js';
import type {CertificateDetails} from '@bcl/pki-ca';
import {loadInventory} from '../store/pki.js';
import {type InventoryEntry, PATHS} from '../store/records.js';
import type {PassphraseFlags} from './ca.js';
import {loadTrustedCa, requireTrustedRoot} from './ca-pin.js';
import {type PkiIo, readSecret, withStore} from './io.js';

export type CertStatus = 'valid' | 'revoked' | 'expired';

export interface CertSummary {
  serial: string;
  email: string;
  profile: string;
  status: CertStatus;
  notBefore: string;
  notAfter: string;
  name: string;
  requestId: string;
}

function statusOf(entry: InventoryEntry, now: Date): CertStatus {
  if (entry.status === 'revoked') return 'revoked';
  return new Date(entry.notAfter) < now ? 'expired' : 'valid';
}

function summary(entry: InventoryEntry, now: Date): CertSummary {
  return {
    serial: entry.serial,
    email: entry.email,
    profile: entry.profile,
    status: statusOf(entry, now),
    notBefore: entry.notBefore,
    notAfter: entry.notAfter,
    name: entry.name,
    requestId: entry.requestId,
  };
}

export async function listCertificates(io: PkiIo, settings: PkictlSettings, params: {status?: CertStatus | undefined; email?: string | undefined}): Promise<CertSummary[]> {
  return withStore(io, settings, async (store) => {
    const ca = await loadTrustedCa(io, settings, store);
    const now = io.now();
    return loadInventory(store, ca)
      .certificates.map((e) => summary(e, now))
      .filter((c) => (!params.status || c.status === params.status) && (!params.email || c.email.toLowerCase() === params.email.toLowerCase()));
  });
}

export interface ShowResult extends CertSummary {
  issuedAt: string;
  approvedBy: string;
  revokedAt: string | null;
  reason: string | null;
  renews: string | null;
  supersededBy: string | null;
  certificate: CertificateDetails;
  /** Where the certificate lives on this machine, when it was fetched here. */
  local: {certPath: string; keyPath: string; chainPath: string | null} | null;
  pem: string;
}

export async function showCertificate(io: PkiIo, settings: PkictlSettings, params: {serial: string}): Promise<ShowResult> {
  return withStore(io, settings, async (store) => {
    const ca = await loadTrustedCa(io, settings, store);
    const entry = loadInventory(store, ca).certificates.find((c) => c.serial === params.serial);
    if (!entry) throw invalidInput('pkictl.serial_unknown', `no certificate with serial ${params.serial} in the store`, {hint: 'List certificates with `pkictl list`.', details: {serial: params.serial}});
    const pem = store.read(PATHS.cert(entry.serial))!;
    const {describeCertificate} = await import('@bcl/pki-ca');
    let certificate: CertificateDetails;
    try {
      certificate = describeCertificate(pem);
    } catch (error) {
      throw invalidInput('pkictl.store_corrupt', `${PATHS.cert(entry.serial)} is not a readable certificate: ${(error as Error).message}`, {details: {file: PATHS.cert(entry.serial)}});
    }
    const local = listCredentials({env: io.env, now: io.now()}).find((c) => c.serial === entry.serial && c.certPath);
    return {
      ...summary(entry, io.now()),
      issuedAt: entry.issuedAt,
      approvedBy: entry.approvedBy,
      revokedAt: entry.revokedAt ?? null,
      reason: entry.reason ?? null,
      renews: entry.renews ?? null,
      supersededBy: entry.supersededBy ?? null,
      certificate,
      local: local ? {certPath: local.certPath!, keyPath: local.keyPath, chainPath: local.chainPath ?? null} : null,
      pem,
    };
  });
}

/** The local credential (key and certificate on this machine) for a serial. */
function localBySerial(io: PkiIo, serial: string): LocalCredential {
  const found = listCredentials({env: io.env, now: io.now()}).find((c) => c.serial === serial && c.certPath);
  if (!found) {
    throw invalidInput('pkictl.no_local_key', `certificate ${serial} and its key are not on this machine`, {
      hint: 'Export on the machine that requested it (after `pkictl fetch`); the private key never leaves it.',
      details: {serial},
    });
  }
  return found;
}

async function keyPem(io: PkiIo, credential: LocalCredential, flags: PassphraseFlags): Promise<{pem: string; der: Buffer}> {
  const text = readFileSync(credential.keyPath, 'utf8');
  const passphrase = credential.encrypted
    ? await readSecret(io, {file: flags.passphraseFile, envVar: flags.passphraseEnv, fileFlag: '--passphrase-file', envFlag: '--passphrase-env', message: `Passphrase for ${credential.keyPath}:`})
    : undefined;
  const key = loadPrivateKeyFile(text, credential.keyPath, passphrase);
  return {pem: String(key.export({type: 'pkcs8', format: 'pem'})), der: key.export({type: 'pkcs8', format: 'der'})};
}

export interface ExportParams extends PassphraseFlags {
  serial: string;
  format: 'pem' | 'p12';
  out?: string | undefined;
  passwordFile?: string | undefined;
  passwordEnv?: string | undefined;
}

export interface ExportResult {
  serial: string;
  format: 'pem' | 'p12';
  out: string;
  /** Whether the file holds the private key (it is then 0600). */
  includesKey: boolean;
}

/** PEM (key, certificate, chain) or PKCS#12 (for browsers and Windows), written 0600. */
export async function exportCertificate(io: PkiIo, settings: PkictlSettings, params: ExportParams): Promise<ExportResult> {
  const credential = localBySerial(io, params.serial);
  const out = resolve(io.cwd, params.out ?? `${params.serial}.${params.format}`);
  const cert = readFileSync(credential.certPath!, 'utf8');
  const chain = credential.chainPath && existsSync(credential.chainPath) ? readFileSync(credential.chainPath, 'utf8') : '';
  // A PKCS#12 file's CA certificates may be installed as trusted: only the pinned CA goes in.
  await requireLocalChain(io, settings, chain, credential);
  const key = await keyPem(io, credential, params);
  io.redactor.add(key.pem);
  if (params.format === 'pem') {
    writeSecretFileSync(out, [key.pem.trim(), cert.trim(), chain.trim()].filter(Boolean).join('\n') + '\n');
    return {serial: params.serial, format: 'pem', out, includesKey: true};
  }
  const password = await readSecret(io, {
    file: params.passwordFile,
    envVar: params.passwordEnv,
    fileFlag: '--password-file',
    envFlag: '--password-env',
    message: 'Password for the PKCS#12 file:',
    confirm: true,
    minLength: 4,
  });
  const {buildPkcs12} = await import('../crypto/pkcs12.js');
  const friendlyName = `${credential.email} (${credential.profile})`;
  const der = buildPkcs12({keyDer: key.der, certPems: [cert, ...splitPems(chain)], password, friendlyName});
  writeSecretFileSync(out, der);
  return {serial: params.serial, format: 'p12', out, includesKey: true};
}

/** The root of a credential's local chain (its last certificate), checked against the pin. */
async function requireLocalChain(io: PkiIo, settings: PkictlSettings, chain: string, credential: LocalCredential): Promise<void> {
  const root = splitPems(chain).at(-1);
  if (!root) {
    throw invalidInput('pkictl.chain_missing', `the CA chain of ${credential.serial} is missing (${credential.chainPath ?? 'no chain.pem'})`, {hint: `Run \`pkictl fetch ${credential.id}\` again.`});
  }
  await requireTrustedRoot(io, settings, root, `the chain of ${credential.serial} (${credential.chainPath})`);
}

export function splitPems(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

export interface VpnConfigParams extends PassphraseFlags {
  remote: string;
  proto: 'udp' | 'tcp';
  out: string;
  serial?: string | undefined;
}

export interface VpnConfigResult {
  out: string;
  serial: string;
  email: string;
  remote: string;
  port: number;
  proto: 'udp' | 'tcp';
  notAfter: string;
}

function parseRemote(remote: string): {host: string; port: number} {
  const m = /^\[([0-9a-f:.]+)\](?::(\d+))?$/i.exec(remote) ?? /^([^:\s]+)(?::(\d+))?$/.exec(remote);
  const port = m?.[2] ? Number(m[2]) : 1194;
  if (!m || !m[1] || port < 1 || port > 65535) throw invalidInput('pkictl.remote_invalid', `--remote: "${remote}" is not host[:port]`, {details: {flag: '--remote'}});
  return {host: m[1], port};
}

/** An OpenVPN client profile with the CA, the certificate and the key inline (0600). */
export async function vpnConfig(io: PkiIo, settings: PkictlSettings, params: VpnConfigParams): Promise<VpnConfigResult> {
  const {host, port} = parseRemote(params.remote);
  const now = io.now();
  const credential = params.serial
    ? localBySerial(io, params.serial)
    : (findCredential({env: io.env, now, profile: 'vpn', ...(settings.email ? {email: settings.email} : {})}) ??
      findCredential({env: io.env, now, profile: 'client', ...(settings.email ? {email: settings.email} : {})}));
  if (!credential) {
    throw invalidInput('pkictl.no_certificate', `no valid vpn or client certificate on this machine${settings.email ? ` for ${settings.email}` : ''}`, {
      hint: 'Request one (`pkictl request --profile vpn`), get it approved, then `pkictl fetch`; or pass --serial.',
    });
  }
  if (credential.state !== 'valid') {
    throw conflict('pkictl.certificate_unusable', `certificate ${credential.serial} is ${credential.state}`, {hint: 'Renew it with `pkictl renew ' + credential.serial + '`.'});
  }
  const cert = readFileSync(credential.certPath!, 'utf8').trim();
  const chain = credential.chainPath ? readFileSync(credential.chainPath, 'utf8').trim() : '';
  // The profile makes OpenVPN trust this chain's root: it must be the CA the user pinned.
  await requireLocalChain(io, settings, chain, credential);
  // An encrypted key stays encrypted in the profile: OpenVPN asks for its passphrase.
  const key = readFileSync(credential.keyPath, 'utf8').trim();
  if (!credential.encrypted) createPrivateKey(key);
  io.redactor.add(key);
  const text = `# OpenVPN client profile for ${credential.email}: certificate ${credential.serial}, valid until ${credential.notAfter!.toISOString()}.
# Written by pkictl; it holds your private key: keep it private (mode 0600).
client
dev tun
proto ${params.proto === 'tcp' ? 'tcp-client' : 'udp'}
remote ${host} ${port}
resolv-retry infinite
nobind
persist-key
persist-tun
remote-cert-tls server
tls-version-min 1.2
data-ciphers AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305
verb 3
<ca>
${chain}
</ca>
<cert>
${cert}
</cert>
<key>
${key}
</key>
`;
  const out = resolve(io.cwd, params.out);
  writeSecretFileSync(out, text);
  return {out, serial: credential.serial!, email: credential.email, remote: host, port, proto: params.proto, notAfter: credential.notAfter!.toISOString()};
}
