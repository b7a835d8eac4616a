/**
 * The PKI server's API as the Toolbox pages use it: one small typed client, same origin, the
 * session cookie sent by the browser and the session's CSRF token on every change. Nothing here
 * ever carries a private key: the only key material that leaves is a certificate request.
 */

export interface User {
  email: string;
  name: string | null;
  admin: boolean;
  groups: string[];
}

export interface Session {
  user: User;
  expiresAt: string;
  csrfToken: string | null;
}

export interface VpnServer {
  name: string;
  location: string | null;
  host: string;
  port: number;
  proto: 'udp' | 'tcp';
  /** The certificate profile this server takes (usually "vpn"). */
  profile: string;
}

export type CertificateStatus = 'valid' | 'revoked' | 'expired';

export interface CertificateSummary {
  serial: string;
  email: string;
  name: string;
  profile: string;
  status: CertificateStatus;
  notBefore: string;
  notAfter: string;
  issuedAt: string;
  requestId: string | null;
  deviceLabel: string | null;
  approvedBy: string;
  revokedAt: string | null;
  reason: string | null;
  renews: string | null;
  supersededBy: string | null;
}

export interface Certificate extends CertificateSummary {
  pem: string;
  /** The issuing CA chain: issuer first, root last. */
  chainPem: string;
  sha256Fingerprint: string;
}

export interface CertificateRequest {
  id: string;
  status: 'pending' | 'issued' | 'rejected';
  email: string;
  name: string;
  profile: string;
  keyType: string;
  requestedAt: string;
  lifetimeDays: number | null;
  sans: string[];
  deviceLabel: string | null;
  renews: string | null;
  serial: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  reason: string | null;
}

export interface RequestOutcome {
  request: CertificateRequest;
  certificate: Certificate | null;
}

export interface CrlStatus {
  number: string;
  thisUpdate: string;
  nextUpdate: string;
  revoked: number;
}

export interface AdminStatus {
  crl: CrlStatus | null;
  ocsp: {responderSerial: string; notAfter: string} | null;
  policy: {version: number; sha256: string; setAt: string; setBy: string; source: string};
  counts: {valid: number; revoked: number; expired: number; pending: number};
}

export interface AuditPage {
  entries: Record<string, unknown>[];
  next: number | null;
}

/** Revocation reasons a person may give for their own certificate (RFC 5280 names). */
export type RevocationReason = 'unspecified' | 'keyCompromise' | 'affiliationChanged' | 'superseded' | 'cessationOfOperation' | 'privilegeWithdrawn';

/** An answer that was not a success, with the server's code, message and hint. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiClientOptions {
  /** Where the API is, '' for this page's own server. */
  baseUrl?: string;
  fetch?: typeof globalThis.fetch;
}

export type ApiClient = ReturnType<typeof createApiClient>;

export function createApiClient(options: ApiClientOptions = {}) {
  const base = options.baseUrl ?? '';
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  let csrfToken: string | null = null;
  const signedOut = new Set<() => void>();

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {accept: 'application/json'};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {method, headers, credentials: 'same-origin', ...(body !== undefined ? {body: JSON.stringify(body)} : {})});
    } catch {
      throw new ApiError(0, 'unreachable', 'The PKI server cannot be reached.', 'Check your network connection, then try again.');
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = undefined;
    }
    if (!response.ok) {
      // The session ended under the page (expired, or signed out elsewhere): the page shows the sign-in again.
      if (response.status === 401 && path !== '/v1/session') for (const fn of signedOut) fn();
      const error = (data as {error?: {code?: string; message?: string; hint?: string}} | undefined)?.error;
      throw new ApiError(response.status, error?.code ?? `http_${response.status}`, error?.message ?? `The server answered ${response.status}.`, error?.hint);
    }
    return data as T;
  }

  const query = (params: Record<string, string | number | undefined>) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
    const text = q.toString();
    return text ? `?${text}` : '';
  };
  const serialPath = (serial: string) => `/v1/certificates/${encodeURIComponent(serial)}`;

  return {
    /** Called when a call finds the session ended. */
    whenSignedOut(fn: () => void): void {
      signedOut.add(fn);
    },
    /** Who is signed in, or null; keeps the CSRF token for the changes that follow. */
    async session(): Promise<Session | null> {
      try {
        const s = await call<Session>('GET', '/v1/session');
        csrfToken = s.csrfToken;
        return s;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    /** Where the browser goes to sign in (the server runs the OIDC flow and comes back to returnTo). */
    signInUrl(returnTo: string): string {
      return `${base}/v1/auth/login${query({returnTo})}`;
    },
    async signOut(): Promise<void> {
      await call<void>('DELETE', '/v1/session');
      csrfToken = null;
    },
    async vpnServers(): Promise<VpnServer[]> {
      return (await call<{servers: VpnServer[]}>('GET', '/v1/vpn-servers')).servers;
    },
    /** Issues a certificate for the signed-in person from a certificate request made in this browser. */
    async issue(request: {csr: string; profile: string; deviceLabel?: string}): Promise<RequestOutcome> {
      return call<RequestOutcome>('POST', '/v1/requests', request);
    },
    async myCertificates(email: string): Promise<CertificateSummary[]> {
      return (await call<{certificates: CertificateSummary[]}>('GET', `/v1/certificates${query({email})}`)).certificates;
    },
    async certificate(serial: string): Promise<Certificate> {
      return call<Certificate>('GET', serialPath(serial));
    },
    async revoke(serial: string, reason: RevocationReason): Promise<{certificate: CertificateSummary; crl: CrlStatus}> {
      return call('POST', `${serialPath(serial)}/revoke`, {reason});
    },
    /** A new certificate for a new key; `signature` proves possession of the old one (see crypto/renewal.ts). */
    async renew(serial: string, body: {csr: string; signature: string; deviceLabel?: string}): Promise<RequestOutcome> {
      return call<RequestOutcome>('POST', `${serialPath(serial)}/renew`, body);
    },
    admin: {
      async certificates(filter: {status?: CertificateStatus; email?: string} = {}): Promise<CertificateSummary[]> {
        return (await call<{certificates: CertificateSummary[]}>('GET', `/v1/certificates${query(filter)}`)).certificates;
      },
      async revoke(serial: string, reason: string): Promise<{certificate: CertificateSummary; crl: CrlStatus}> {
        return call('POST', `${serialPath(serial)}/revoke`, {reason});
      },
      async pendingRequests(): Promise<CertificateRequest[]> {
        return (await call<{requests: CertificateRequest[]}>('GET', '/v1/requests?status=pending')).requests;
      },
      async approve(id: string): Promise<RequestOutcome> {
        return call<RequestOutcome>('POST', `/v1/requests/${encodeURIComponent(id)}/approve`);
      },
      async reject(id: string, reason: string): Promise<{request: CertificateRequest}> {
        return call('POST', `/v1/requests/${encodeURIComponent(id)}/reject`, {reason});
      },
      async status(): Promise<AdminStatus> {
        return call<AdminStatus>('GET', '/v1/admin/status');
      },
      async audit(page: {after?: number; limit?: number; event?: string} = {}): Promise<AuditPage> {
        return call<AuditPage>('GET', `/v1/admin/audit${query(page)}`);
      },
    },
  };
}
