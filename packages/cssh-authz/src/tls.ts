import {readFileSync} from 'node:fs';
import {createSecureContext, type PeerCertificate, type SecureContextOptions, type TLSSocket} from 'node:tls';
import type {Identity} from './service.js';
import {InvalidFileError} from './yaml-file.js';

export interface TlsFiles {
  cert: string;
  key: string;
  clientCa: string;
  /** CRL files (none: revocation is not checked). */
  crl: string[];
}

/**
 * The server's TLS material: its certificate, the PKI CA that issues client certificates, and
 * the PKI's CRL. OpenSSL checks the chain, the client-auth purpose, validity and revocation
 * during the handshake; with a CRL configured, a missing or expired CRL fails every client
 * (fail closed). The handshake does not reject: the HTTP layer answers 401 with the reason,
 * audits it, and still serves the public endpoints (CA key, KRL).
 */
export function tlsOptions(files: TlsFiles): SecureContextOptions {
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new InvalidFileError(`cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, path);
    }
  };
  const options: SecureContextOptions = {
    cert: read(files.cert, 'TLS certificate'),
    key: read(files.key, 'TLS key'),
    ca: read(files.clientCa, 'client CA bundle'),
    minVersion: 'TLSv1.2',
  };
  if (files.crl.length > 0) options.crl = files.crl.flatMap((f) => crlBlocks(read(f, 'CRL')));
  try {
    // Fails here, not at the first handshake, on a bad PEM or a key that does not match.
    createSecureContext(options);
  } catch (error) {
    throw new InvalidFileError(`TLS material is not usable (${[files.cert, files.key, files.clientCa, ...files.crl].join(', ')}): ${(error as Error).message}`, files.crl[0] ?? files.cert);
  }
  return options;
}

/** A CRL file's CRLs as PEM blocks (Node adds one CRL per entry); a DER file is wrapped. */
function crlBlocks(data: Buffer): string[] {
  const text = data.toString('latin1');
  const blocks = text.match(/-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g);
  if (blocks) return blocks.map((b) => `${b}\n`);
  const b64 = data.toString('base64').replace(/.{1,64}/g, '$&\n');
  return [`-----BEGIN X509 CRL-----\n${b64}-----END X509 CRL-----\n`];
}

export type PeerCheck = {ok: true; identity: Identity} | {ok: false; status: 401 | 403; code: string; reason: string; subject?: string; x509Serial?: string};

const REASONS: Record<string, string> = {
  CERT_REVOKED: 'the client certificate is revoked (PKI CRL)',
  CERT_HAS_EXPIRED: 'the client certificate has expired; renew it with pkictl',
  CERT_NOT_YET_VALID: 'the client certificate is not valid yet',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the client certificate is not issued by the PKI this service trusts',
  UNABLE_TO_GET_ISSUER_CERT: 'the client certificate is not issued by the PKI this service trusts',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the client certificate is not issued by the PKI this service trusts',
  SELF_SIGNED_CERT_IN_CHAIN: 'the client certificate is not issued by the PKI this service trusts',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the client certificate is self-signed, not issued by the PKI',
  CERT_SIGNATURE_FAILURE: 'the client certificate signature does not verify',
  INVALID_PURPOSE: 'the client certificate is not for client authentication (extended key usage)',
  UNABLE_TO_GET_CRL: 'the service has no CRL for the issuing CA, so it cannot check revocation',
  CRL_HAS_EXPIRED: "the PKI's CRL has expired (past its nextUpdate); every client is refused until it is renewed",
  CRL_NOT_YET_VALID: "the PKI's CRL is not valid yet",
  CRL_SIGNATURE_FAILURE: "the PKI's CRL signature does not verify",
};

/** The caller's identity from a verified client certificate, or why there is none. */
export function checkPeer(socket: TLSSocket): PeerCheck {
  const cert = socket.getPeerCertificate() as PeerCertificate | Record<string, never>;
  if (!cert || Object.keys(cert).length === 0) {
    return {ok: false, status: 401, code: 'no_client_certificate', reason: 'no client certificate: authenticate with the certificate pkictl issued you'};
  }
  const peer = cert as PeerCertificate;
  const subject = formatName(peer.subject);
  const x509Serial = (peer.serialNumber ?? '').toUpperCase();
  if (!socket.authorized) {
    const code = String(socket.authorizationError ?? 'UNKNOWN');
    return {ok: false, status: 401, code: 'client_certificate_rejected', reason: `${REASONS[code] ?? `the client certificate was rejected (${code})`} [${code}]`, subject, x509Serial};
  }
  const email = emailOf(peer);
  if (!email) {
    return {ok: false, status: 403, code: 'no_email', reason: `the client certificate (${subject}) carries no email address, which names people in the access rules`, subject, x509Serial};
  }
  return {ok: true, identity: {email, subject, x509Serial, issuer: formatName(peer.issuer)}};
}

/** The first rfc822Name of the subjectAltName, else the subject's emailAddress; lower-cased. */
export function emailOf(cert: PeerCertificate): string | undefined {
  for (const entry of splitAltNames(cert.subjectaltname ?? '')) {
    if (entry.startsWith('email:')) return entry.slice(6).toLowerCase();
  }
  const fromSubject = (cert.subject as unknown as Record<string, string | string[] | undefined> | undefined)?.emailAddress;
  const value = Array.isArray(fromSubject) ? fromSubject[0] : fromSubject;
  return value ? value.toLowerCase() : undefined;
}

/** Node joins SANs with ", " and quotes entries that contain commas or quotes (JSON style). */
function splitAltNames(text: string): string[] {
  const out: string[] = [];
  const re = /\s*([A-Za-z ]+:(?:"(?:[^"\\]|\\.)*"|[^,]*))\s*(?:,|$)/gy;
  for (let m = re.exec(text); m && m[0] !== ''; m = re.exec(text)) {
    const entry = m[1]!;
    const colon = entry.indexOf(':');
    const value = entry.slice(colon + 1);
    out.push(`${entry.slice(0, colon)}:${value.startsWith('"') ? (JSON.parse(value) as string) : value}`);
  }
  return out;
}

function formatName(name: unknown): string {
  if (!name || typeof name !== 'object') return '';
  return Object.entries(name as Record<string, string | string[]>)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(', ');
}
