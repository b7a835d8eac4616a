import {generateKeyPairSync} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {operationFailed, invalidInput, type Ui} from '@bcl/core';
import {encodeOpenSshPrivateKey, formatPublicKey, parseCertificate, parsePublicKey, sshPublicKey} from '@bcl/openssh-formats';
import type {AuthzClient} from './authz-client.js';
import type {CertificateStore, Slot} from './store.js';

/** A certificate as commands show it. */
export interface CertificateView {
  slot: string;
  keyId: string;
  serial: string;
  principals: string[];
  validAfter: string;
  validBefore: string;
  remainingSeconds: number;
  state: 'valid' | 'expired' | 'not-yet-valid';
  host: string | null;
  server: string;
  extensions: string[];
  criticalOptions: Record<string, string>;
  keyPath: string;
  certificatePath: string;
}

export function viewOf(slot: Slot, now: Date): CertificateView {
  const m = slot.meta;
  const t = now.getTime();
  const remaining = Math.max(0, Math.floor((Date.parse(m.validBefore) - t) / 1000));
  return {
    slot: slot.name,
    keyId: m.keyId,
    serial: m.serial,
    principals: m.principals,
    validAfter: m.validAfter,
    validBefore: m.validBefore,
    remainingSeconds: remaining,
    state: t < Date.parse(m.validAfter) ? 'not-yet-valid' : remaining > 0 ? 'valid' : 'expired',
    host: m.host,
    server: m.server,
    extensions: m.extensions,
    criticalOptions: m.criticalOptions,
    keyPath: slot.keyPath,
    certificatePath: slot.certPath,
  };
}

/** Where a TOTP code comes from: given up front (flag, environment), or asked for when the service needs one. */
export interface TotpCodeSource {
  given: string | undefined;
  /** Asks the person (a prompt), or rethrows `needed` when nobody can be asked (exit 4). */
  ask(needed: Error): Promise<string>;
}

export interface ObtainRequest {
  slot: string;
  principals?: string[];
  ttlSeconds: number;
  host?: string;
  /** A key to certify instead of a new ephemeral Ed25519 key (its .pub must sit beside it). */
  sshKey?: string;
}

/**
 * Gets a new certificate: makes the key in memory (or reads the configured public key), asks
 * cssh-authz, checks that the answer certifies exactly our key, then writes key and certificate.
 * Nothing is written when anything fails.
 */
export async function obtainCertificate(deps: {client: AuthzClient; store: CertificateStore; ui: Ui; now: () => Date; totp?: TotpCodeSource}, req: ObtainRequest): Promise<{slot: Slot; warnings: string[]}> {
  let privateKey: string | undefined;
  let publicLine: string;
  if (req.sshKey) {
    const pubPath = `${req.sshKey}.pub`;
    let text: string;
    try {
      text = readFileSync(pubPath, 'utf8');
    } catch (error) {
      throw invalidInput('csshctl.unreadable', `csshctl.sshKey: cannot read the public key ${pubPath}: ${(error as Error).message}`);
    }
    try {
      const key = parsePublicKey(text);
      publicLine = formatPublicKey(key.type, key.blob, key.comment);
    } catch (error) {
      throw invalidInput('csshctl.bad_key', `csshctl.sshKey: ${pubPath}: ${(error as Error).message}`);
    }
  } else {
    const pair = generateKeyPairSync('ed25519');
    const comment = `csshctl ${req.slot}`;
    privateKey = encodeOpenSshPrivateKey(pair.privateKey, comment);
    const {type, blob} = sshPublicKey(pair.publicKey);
    publicLine = formatPublicKey(type, blob, comment);
  }
  const ask = (totpCode: string | undefined) =>
    deps.client.requestCertificate({
      publicKey: publicLine,
      ...(req.principals && req.principals.length > 0 ? {principals: req.principals} : {}),
      ttl: req.ttlSeconds,
      ...(req.host ? {host: req.host} : {}),
      ...(totpCode !== undefined ? {totpCode} : {}),
    });
  let issued;
  try {
    issued = await ask(deps.totp?.given);
  } catch (error) {
    // The service says when a grant needs a second factor: then (and only then) ask for a code.
    if (!deps.totp || deps.totp.given !== undefined || (error as {code?: string}).code !== 'csshctl.totp_required') throw error;
    issued = await ask(await deps.totp.ask(error as Error));
  }
  const cert = parseCertificate(issued.certificate);
  if (!cert.publicKey.equals(parsePublicKey(publicLine).blob) || cert.serial.toString() !== issued.serial) {
    throw operationFailed('csshctl.bad_certificate', 'cssh-authz answered with a certificate that is not for the key csshctl sent', {
      hint: 'This is a server fault; report it to the administrators of cssh-authz.',
    });
  }
  for (const w of issued.warnings) deps.ui.warn(w);
  const slot = deps.store.save(
    req.slot,
    {...(privateKey !== undefined ? {privateKey} : {linkTo: req.sshKey!}), publicKey: `${publicLine}\n`, certificate: `${issued.certificate}\n`},
    {
      version: 1,
      slot: req.slot,
      server: deps.client.server,
      host: req.host ?? null,
      serial: issued.serial,
      keyId: issued.keyId,
      principals: issued.principals,
      validAfter: issued.validAfter,
      validBefore: issued.validBefore,
      extensions: issued.extensions,
      criticalOptions: issued.criticalOptions,
      sshKey: req.sshKey ?? null,
      issuedAt: deps.now().toISOString(),
    },
  );
  return {slot, warnings: issued.warnings};
}
