import {BclError, conflict, denied, ExitCode, type HttpClient, type HttpResponse, invalidInput, unavailable} from '@bcl/core';

export type {IssuedCertificate, TotpEnrolmentShown} from '@bcl/cssh-authz/api';
import type {IssuedCertificate, TotpEnrolmentShown} from '@bcl/cssh-authz/api';

/** TLS alerts and errors that mean "the server refused our client certificate". */
const REFUSED_AT_TLS = /CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_REVOKED|CERTIFICATE_EXPIRED|ACCESS_DENIED|HANDSHAKE_FAILURE|UNSUPPORTED_CERTIFICATE/i;
/** Errors that mean "we do not trust the server's certificate". */
const SERVER_UNTRUSTED = /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER|CERT_HAS_EXPIRED|ERR_TLS_CERT_ALTNAME_INVALID|unable to verify|self.signed/i;

/** What to do about each refusal of a TOTP code. */
const TOTP_HINTS: Record<string, string> = {
  totp_required: 'Give the code with --totp-code or CSSHCTL_TOTP_CODE (or run csshctl on a terminal, which asks for it).',
  totp_not_enrolled: 'Enrol an authenticator app with csshctl mfa enroll, then confirm it with a code.',
  totp_invalid: 'Check the code your authenticator app shows for this account, and the clock of the device.',
  totp_replayed: 'Each code works once: wait for the next one (at most 30 seconds).',
  totp_rate_limited: 'Too many wrong codes: wait before trying again; the attempts are audited.',
  totp_enrolled: 'Give a current code of the enrolled app with --current-code to replace it, or ask an administrator.',
  totp_already_confirmed: 'Nothing to do: the enrolment is active.',
};

/** The cssh-authz HTTP API, over mutual TLS; its refusals become BCL errors with the server's reason. */
export class AuthzClient {
  constructor(
    private readonly http: HttpClient,
    readonly server: string,
    /** Who we authenticate as, for messages. */
    private readonly who: string | undefined,
    /** Aborts every request in flight (an overall deadline). */
    private readonly signal?: AbortSignal,
  ) {}

  async requestCertificate(body: {publicKey: string; principals?: string[]; ttl?: number; host?: string; totpCode?: string}): Promise<IssuedCertificate> {
    const res = await this.call(`${this.server}/v1/certificates`, {method: 'POST', json: body});
    return this.expect<IssuedCertificate>(res, 'POST', 201);
  }

  async principals(query: {user: string; host: string; keyId?: string; serial?: string}): Promise<{principals: string[]; lines: string[]; reason?: string}> {
    const params = new URLSearchParams({user: query.user, host: query.host});
    if (query.keyId) params.set('keyId', query.keyId);
    if (query.serial) params.set('serial', query.serial);
    const res = await this.call(`${this.server}/v1/principals?${params}`, {method: 'GET'});
    return this.expect(res, 'GET', 200);
  }

  async revoke(body: {serial?: string; keyId?: string; reason?: string}): Promise<{revoked: string[]; alreadyRevoked: string[]; krlVersion: number}> {
    const res = await this.call(`${this.server}/v1/revoke`, {method: 'POST', json: body});
    return this.expect(res, 'POST', 200);
  }

  async enrolTotp(body: {code?: string}): Promise<TotpEnrolmentShown> {
    const res = await this.call(`${this.server}/v1/mfa/totp`, {method: 'POST', json: body});
    return this.expect(res, 'POST', 201);
  }

  async confirmTotp(code: string): Promise<{state: 'active'; confirmedAt: string}> {
    const res = await this.call(`${this.server}/v1/mfa/totp/confirm`, {method: 'POST', json: {code}});
    return this.expect(res, 'POST', 200);
  }

  private async call(url: string, request: {method: string; json?: unknown}): Promise<HttpResponse> {
    try {
      return await this.http.request(url, {...request, headers: {accept: 'application/json'}, ...(this.signal ? {signal: this.signal} : {})});
    } catch (error) {
      throw this.networkError(error);
    }
  }

  private networkError(error: unknown): unknown {
    if (!(error instanceof BclError) || error.code !== 'http.unreachable') return error;
    const cause = error.cause as {code?: string; message?: string; cause?: {code?: string; message?: string}} | undefined;
    const text = [cause?.code, cause?.message, cause?.cause?.code, cause?.cause?.message, error.message].filter(Boolean).join(' ');
    if (REFUSED_AT_TLS.test(text)) {
      return denied('csshctl.tls_refused', `${this.server} refused the TLS handshake with ${this.who ?? 'your certificate'}: ${error.message}`, {
        hint: 'The service does not accept this PKI certificate (revoked, expired, or from another CA). Check it with pkictl list.',
        cause: error,
      });
    }
    if (SERVER_UNTRUSTED.test(text)) {
      return unavailable('csshctl.server_untrusted', `cannot verify the TLS certificate of ${this.server}: ${error.message}`, {
        hint: 'Set csshctl.serverCa to the CA bundle that signs the cssh-authz server certificate.',
        cause: error,
      });
    }
    return error;
  }

  private async expect<T>(res: HttpResponse, method: string, status: number): Promise<T> {
    if (res.status === status) return res.json<T>();
    const text = await res.text().catch(() => '');
    let body: {error?: {code?: string; message?: string; details?: unknown}} = {};
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: use the text
    }
    const reason = body.error?.message ?? (text.trim().slice(0, 300) || `HTTP ${res.status}`);
    const details = {status: res.status, code: body.error?.code, ...(body.error?.details ? {server: body.error.details} : {})};
    const totp = body.error?.code?.startsWith('totp_') ? body.error.code : undefined;
    if (totp) throw denied(`csshctl.${totp}`, `cssh-authz refused: ${reason}`, {hint: TOTP_HINTS[totp] ?? 'Check the code your authenticator app shows.', details});
    switch (res.status) {
      case 401:
        throw denied('csshctl.unauthenticated', `cssh-authz refused ${this.who ?? 'your PKI certificate'}: ${reason}`, {
          hint: 'Check your certificate with pkictl list; renew it with pkictl renew if it expired or was revoked.',
          details,
        });
      case 403:
        throw denied('csshctl.forbidden', `cssh-authz refused: ${reason}`, {hint: 'Ask an administrator of the access rules for the access you need.', details});
      case 404:
        throw invalidInput('csshctl.not_found', `cssh-authz: ${reason}`, {details});
      case 400:
      case 413:
      case 415:
        throw invalidInput('csshctl.rejected', `cssh-authz rejected the request: ${reason}`, {details});
      case 409:
        throw conflict('csshctl.conflict', `cssh-authz: ${reason}`, {details});
      case 429:
        throw unavailable('csshctl.rate_limited', `cssh-authz: ${reason}`, {details});
      default:
        if (res.status >= 500) throw unavailable('csshctl.server_error', `cssh-authz failed (${res.status}): ${reason}`, {details});
        throw new BclError('csshctl.unexpected_status', `${method} ${res.url} answered ${res.status}: ${reason}`, ExitCode.unexpected, {details});
    }
  }
}
