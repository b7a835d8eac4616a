import type {PeerCertificate, TLSSocket} from 'node:tls';

/** Who is calling, from a verified client certificate. */
export type IdentityKind = 'person' | 'ci' | 'host';

export interface PeerIdentity {
  kind: IdentityKind;
  /** The name rules use: a person's email, a CI system's name, a host's DNS name. */
  name: string;
  /** A person's email (lower-cased), also set for other kinds whose certificate carries one. */
  email: string | undefined;
  subject: string;
  issuer: string;
  /** Upper-case hex, as `openssl x509 -serial` prints it. */
  x509Serial: string;
  /** SHA-256 fingerprint "AA:BB:...". */
  fingerprint256: string;
}

export interface Refusal {
  ok: false;
  status: 401 | 403;
  code: 'no_client_certificate' | 'client_certificate_rejected' | 'no_email' | 'no_identity' | 'identity_not_accepted';
  reason: string;
  subject?: string;
  x509Serial?: string;
}

export type PeerCheck = {ok: true; identity: PeerIdentity} | Refusal;

export interface IdentityOptions {
  /** Which kinds this service accepts (default: all). */
  kinds?: readonly IdentityKind[];
  /** A URI SAN with this prefix names a CI identity (default "urn:bcl:ci:"): urn:bcl:ci:jenkins. */
  ciUriPrefix?: string;
}

/** Why OpenSSL rejected a certificate, in words a person can act on. */
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

/**
 * The caller's identity from the client certificate OpenSSL verified, or why there is none:
 * 401 for no certificate or a rejected one (with OpenSSL's reason), 403 for a valid
 * certificate that names no identity this service accepts.
 */
export function checkPeer(socket: TLSSocket, options: IdentityOptions = {}): PeerCheck {
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
  const identity = identityOf(peer, options);
  const kinds = options.kinds ?? ['person', 'ci', 'host'];
  if (identity && kinds.includes(identity.kind)) return {ok: true, identity};
  if (kinds.length === 1 && kinds[0] === 'person') {
    return {ok: false, status: 403, code: 'no_email', reason: `the client certificate (${subject}) carries no email address, which names people in the access rules`, subject, x509Serial};
  }
  if (!identity) {
    return {ok: false, status: 403, code: 'no_identity', reason: `the client certificate (${subject}) names no person (email), CI system (${options.ciUriPrefix ?? CI_PREFIX}<name> URI) or host (DNS name)`, subject, x509Serial};
  }
  return {ok: false, status: 403, code: 'identity_not_accepted', reason: `${identity.kind} certificates (${identity.name}) may not use this service; it accepts ${kinds.join(', ')} certificates`, subject, x509Serial};
}

const CI_PREFIX = 'urn:bcl:ci:';

/**
 * The identity a verified certificate names: a CI URI (urn:bcl:ci:<name>) makes it CI; else an
 * email makes it a person; else a DNS name makes it a host.
 */
export function identityOf(cert: PeerCertificate, options: IdentityOptions = {}): PeerIdentity | undefined {
  const sans = splitAltNames(cert.subjectaltname ?? '');
  const base = {subject: formatName(cert.subject), issuer: formatName(cert.issuer), x509Serial: (cert.serialNumber ?? '').toUpperCase(), fingerprint256: cert.fingerprint256 ?? ''};
  const email = emailOf(cert);
  const prefix = options.ciUriPrefix ?? CI_PREFIX;
  const ci = sans.find((s) => s.startsWith(`URI:${prefix}`));
  if (ci) return {kind: 'ci', name: ci.slice(4 + prefix.length), email, ...base};
  if (email) return {kind: 'person', name: email, email, ...base};
  const dns = sans.find((s) => s.startsWith('DNS:'));
  if (dns) return {kind: 'host', name: dns.slice(4).toLowerCase(), email: undefined, ...base};
  return undefined;
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
