import {readFileSync} from 'node:fs';
import {createPrivateKey, X509Certificate} from 'node:crypto';
import {type CommandContext, denied, invalidInput} from '@bcl/core';
import type {ServerSettings} from './settings.js';

/** The PKI client certificate svctl shows svapp (mutual TLS). */
export interface ClientCertificate {
  /** For messages: "pkictl certificate 4A01... (ann@example.com)". */
  description: string;
  cert: string;
  key: string;
}

/**
 * The certificate to authenticate to svapp with: svctl.server.certificate (files, or a serial or
 * email among the certificates pkictl fetched), else pkictl's valid client certificate of
 * pkictl.email (or any) that expires last. None usable is exit 4, saying how to get one.
 */
export async function clientCertificate(ctx: CommandContext, settings: ServerSettings): Promise<ClientCertificate> {
  const chosen = settings.certificate;
  if (typeof chosen === 'object') {
    const cert = read(chosen.cert, 'svctl.server.certificate.cert');
    const key = await usableKey(ctx, read(chosen.key, 'svctl.server.certificate.key'), chosen.key);
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(cert);
    } catch (error) {
      throw invalidInput('svctl.bad_certificate', `svctl.server.certificate.cert: ${chosen.cert} is not a PEM certificate: ${(error as Error).message}`);
    }
    if (new Date(x509.validTo).getTime() < ctx.now().getTime()) throw denied('svctl.certificate_expired', `your PKI certificate ${chosen.cert} expired on ${new Date(x509.validTo).toISOString()}`, {hint: 'Renew it with pkictl renew, then pkictl fetch.'});
    return {description: chosen.cert, cert, key};
  }
  const {findCredential, normalizeSerial} = await import('@bcl/pki-local');
  const email = chosen?.includes('@') ? chosen : chosen === undefined ? (ctx.config.get('pkictl.email') as string | undefined) : undefined;
  const serial = chosen !== undefined && !chosen.includes('@') ? normalizeSerial(chosen) : undefined;
  if (chosen !== undefined && !chosen.includes('@') && !serial) throw invalidInput('config.invalid', `svctl.server.certificate: "${chosen}" is neither a serial (hex) nor an email`);
  const lookup = {env: ctx.env, now: ctx.now(), ...(serial ? {serial} : {}), ...(email ? {email} : {})};
  const found = findCredential({...lookup, ...(serial ? {} : {profile: 'client'})}) ?? (serial ? undefined : findCredential(lookup));
  if (!found?.certPath) {
    const what = serial ? ` with serial ${serial}` : email ? ` for ${email}` : '';
    throw denied('svctl.no_certificate', `no usable PKI client certificate${what} to authenticate to svapp`, {hint: 'Get one with pkictl request and pkictl fetch, or set svctl.server.certificate (a serial, or {cert, key} files).'});
  }
  const cert = [found.certPath, ...(found.chainPath ? [found.chainPath] : [])].map((p) => `${read(p, 'the pkictl certificate').trim()}\n`).join('');
  return {description: `pkictl certificate ${found.serial} (${found.email})`, cert, key: await usableKey(ctx, read(found.keyPath, 'the pkictl key'), found.keyPath)};
}

function read(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw invalidInput('svctl.unreadable', `cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

/** The key as TLS takes it; an encrypted one is decrypted in memory with a passphrase asked for. */
async function usableKey(ctx: CommandContext, pem: string, path: string): Promise<string> {
  if (!pem.includes('ENCRYPTED')) return pem;
  const passphrase = await ctx.prompt.password({message: `Passphrase of ${path}:`, flag: 'an unencrypted key in svctl.server.certificate'});
  ctx.redactor.add(passphrase);
  try {
    const plain = createPrivateKey({key: pem, format: 'pem', passphrase}).export({type: 'pkcs8', format: 'pem'}) as string;
    ctx.redactor.add(plain);
    return plain;
  } catch {
    throw denied('svctl.bad_key', `cannot use the private key ${path}: wrong passphrase`);
  }
}
