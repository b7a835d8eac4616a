import {readFileSync} from 'node:fs';
import {createPrivateKey, X509Certificate} from 'node:crypto';
import {denied, invalidInput, type Env} from '@bcl/core';
import type {CsshctlRuntime} from './settings.js';

/** The PKI client certificate csshctl authenticates to cssh-authz with (mutual TLS). */
export interface ClientIdentity {
  /** Where it comes from, for messages: "pkictl certificate 4A01... (ann@example.com)". */
  description: string;
  /** The certificate and its chain (PEM). */
  certPem: string;
  /** The private key, decrypted in memory (PEM); never written anywhere. */
  keyPem: string;
  serial: string | undefined;
  email: string | undefined;
  notAfter: Date | undefined;
  /** The files, for status. */
  certPath?: string;
  chainPath?: string;
}

export interface IdentityOptions {
  settings: CsshctlRuntime;
  env: Env;
  now: Date;
  /** Asked only when the key is encrypted. */
  passphrase: (what: string) => Promise<string>;
  /** Registers secrets with the redactor. */
  secret: (value: string) => void;
}

/**
 * Finds the certificate to use: csshctl.certificate (explicit files, or a serial or email
 * among pkictl's credentials), else pkictl's valid client certificate for pkictl.email (or any)
 * that expires last. None usable is "not authenticated" (exit 4), saying how to get one.
 */
export async function loadClientIdentity(options: IdentityOptions): Promise<ClientIdentity> {
  const chosen = options.settings.certificate;
  if (typeof chosen === 'object') {
    const certPem = readFile(chosen.cert, 'csshctl.certificate.cert');
    const keyPem = await decryptKey(readFile(chosen.key, 'csshctl.certificate.key'), chosen.key, options);
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(certPem);
    } catch (error) {
      throw invalidInput('csshctl.bad_certificate', `csshctl.certificate.cert: ${chosen.cert} is not a PEM certificate: ${(error as Error).message}`);
    }
    const notAfter = new Date(cert.validTo);
    if (notAfter.getTime() < options.now.getTime()) {
      throw denied('csshctl.certificate_expired', `your PKI certificate ${chosen.cert} expired on ${notAfter.toISOString()}`, {hint: 'Renew it with pkictl renew, then pkictl fetch.'});
    }
    return {description: `${chosen.cert}`, certPem, keyPem, serial: cert.serialNumber.toUpperCase(), email: emailOf(cert), notAfter, certPath: chosen.cert};
  }
  const {findCredential, listCredentials, normalizeSerial} = await import('@bcl/pki-local');
  const lookup: {serial?: string; email?: string} = {};
  if (chosen !== undefined) {
    if (chosen.includes('@')) lookup.email = chosen;
    else {
      const serial = normalizeSerial(chosen);
      if (!serial) throw invalidInput('config.invalid', `csshctl.certificate: "${chosen}" is neither a serial (hex) nor an email`);
      lookup.serial = serial;
    }
  } else if (options.settings.pkictlEmail) lookup.email = options.settings.pkictlEmail;
  const found =
    findCredential({env: options.env, now: options.now, ...lookup, ...(lookup.serial ? {} : {profile: 'client'})}) ??
    (lookup.serial ? undefined : findCredential({env: options.env, now: options.now, ...lookup}));
  if (!found || !found.certPath) {
    const all = listCredentials({env: options.env, now: options.now});
    const near = all.filter((c) => (lookup.serial ? c.serial === lookup.serial : lookup.email ? c.email.toLowerCase() === lookup.email.toLowerCase() : true));
    const states = near.map((c) => `${c.serial ?? c.id}: ${c.state}`).join(', ');
    const what = lookup.serial ? `with serial ${lookup.serial}` : lookup.email ? `for ${lookup.email}` : '';
    throw denied('csshctl.no_certificate', `no usable PKI client certificate ${what}`.trim() + (states ? ` (found ${states})` : ''), {
      hint: near.some((c) => c.state === 'pending')
        ? 'Your request is pending: once it is approved, run pkictl fetch.'
        : 'Get one with pkictl request and pkictl fetch, or set csshctl.certificate (a serial, or {cert, key} files).',
    });
  }
  // PEM blocks joined on their own lines: either file may lack a final newline.
  const certPem = [readFile(found.certPath, 'the pkictl certificate'), ...(found.chainPath ? [readFile(found.chainPath, 'the pkictl chain')] : [])].map((p) => `${p.trim()}\n`).join('');
  const keyPem = await decryptKey(readFile(found.keyPath, 'the pkictl key'), found.keyPath, options);
  return {
    description: `pkictl certificate ${found.serial} (${found.email})`,
    certPem,
    keyPem,
    serial: found.serial,
    email: found.email,
    notAfter: found.notAfter,
    certPath: found.certPath,
    ...(found.chainPath ? {chainPath: found.chainPath} : {}),
  };
}

function readFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw invalidInput('csshctl.unreadable', `cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

async function decryptKey(pem: string, path: string, options: IdentityOptions): Promise<string> {
  const encrypted = pem.includes('ENCRYPTED PRIVATE KEY') || pem.includes('Proc-Type: 4,ENCRYPTED');
  try {
    if (!encrypted) {
      createPrivateKey(pem);
      return pem;
    }
    const passphrase = await options.passphrase(path);
    options.secret(passphrase);
    const key = createPrivateKey({key: pem, format: 'pem', passphrase});
    const plain = key.export({type: 'pkcs8', format: 'pem'}) as string;
    options.secret(plain);
    return plain;
  } catch (error) {
    if ((error as {code?: string}).code === 'csshctl.no_passphrase' || (error as {name?: string}).name === 'BclError') throw error;
    throw denied('csshctl.bad_key', `cannot use the private key ${path}: ${encrypted ? 'wrong passphrase' : (error as Error).message}`);
  }
}

function emailOf(cert: X509Certificate): string | undefined {
  const m = /email:([^,\s]+)/.exec(cert.subjectAltName ?? '');
  return m?.[1];
}
