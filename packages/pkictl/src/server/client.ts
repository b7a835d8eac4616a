/**
 * The PKI server's HTTP API as pkictl uses it: protocol headers on every call, the session token
 * from `pkictl login`, and the server's refusals as pkictl's errors with the documented exit
 * codes (400 -> 3, 401/403 -> 4, 404 -> 3, 409 -> 6, 429 and 5xx -> 5), the server's words kept.
 */
import {readFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {BclError, conflict, denied, type HttpClient, type HttpResponse, invalidInput, unavailable, usageError} from '@bcl/core';
import {protocolHeaders, warningTexts} from '@bcl/http-api/protocol-client';
import type {ServerInfo} from '@bcl/pki-server/api';
import type {PkictlSettings} from '../config.js';
import type {PkiIo} from '../core/io.js';
import {readSession, type StoredSession} from './session-file.js';

export const PKICTL_PROTOCOL = {min: 1, max: 1};

/** Codes whose pkictl name is the Git store's, so scripts see the same code from both back ends. */
const SAME_AS_STORE: Record<string, string> = {
  certificate_not_found: 'serial_unknown',
  request_not_found: 'request_not_found',
  not_renewable: 'revoked',
};

export function serverOf(settings: PkictlSettings): string {
  if (!settings.server) throw usageError('no PKI server given: pass --server or set pkictl.server', {hint: 'bcl config set pkictl.server https://pki.example.com'}, 'usage.missing_input');
  return settings.server.replace(/\/+$/, '');
}

export class PkiServerClient {
  readonly url: string;
  private readonly http: HttpClient;
  private warned = false;

  private readonly version: string;

  constructor(
    private readonly io: PkiIo,
    settings: PkictlSettings,
  ) {
    this.version = io.version;
    this.url = serverOf(settings);
    const ca = settings.serverCa ? readFileSync(resolve(io.cwd, settings.serverCa)) : undefined;
    this.http = io.http(ca ? {tls: {ca}} : {});
  }

  async info(): Promise<ServerInfo> {
    return this.json<ServerInfo>('GET', '/v1/info');
  }

  /** The signed-in session for this server, or exit 4 telling how to sign in. */
  session(): StoredSession {
    const s = readSession(this.io, this.url);
    if (!s) throw denied('pkictl.not_signed_in', `you are not signed in to ${this.url}`, {hint: 'Run `pkictl login` (or `pkictl login --device` without a browser).'});
    if (new Date(s.expiresAt) <= this.io.now()) throw denied('pkictl.session_expired', `your sign-in to ${this.url} expired at ${s.expiresAt}`, {hint: 'Run `pkictl login` again.'});
    return s;
  }

  /** A call with the session's bearer token. */
  async authed<T>(method: string, path: string, body?: unknown, expect: number[] = [200, 201]): Promise<{status: number; body: T}> {
    const token = this.session().token;
    this.io.redactor.add(token);
    return this.call<T>(method, path, {body, token, expect});
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await this.call<T>(method, path, {body, expect: [200, 201]})).body;
  }

  async text(path: string): Promise<string> {
    const res = await this.send('GET', path, {});
    if (res.status !== 200) await this.fail(res, 'GET', path);
    return res.text();
  }

  async call<T>(method: string, path: string, o: {body?: unknown; token?: string; expect: number[]}): Promise<{status: number; body: T}> {
    const res = await this.send(method, path, o);
    if (!o.expect.includes(res.status)) await this.fail(res, method, path);
    return {status: res.status, body: res.status === 204 ? (undefined as T) : await res.json<T>()};
  }

  private async send(method: string, path: string, o: {body?: unknown; token?: string}): Promise<HttpResponse> {
    const res = await this.http
      .request(`${this.url}${path}`, {
        method,
        headers: {accept: 'application/json', ...protocolHeaders({name: 'pkictl', version: this.version, protocol: PKICTL_PROTOCOL}), ...(o.token ? {authorization: `Bearer ${o.token}`} : {})},
        ...(o.body !== undefined ? {json: o.body} : {}),
      })
      .catch((error: unknown) => {
        if (error instanceof BclError && error.exitCode === 5) throw unavailable('pkictl.server_unavailable', `the PKI server ${this.url} is unavailable: ${error.message}`, {hint: 'Check pkictl.server and your network; try again.', cause: error});
        throw error;
      });
    const warnings = warningTexts(res.header('warning'));
    if (warnings.length && !this.warned) {
      this.warned = true;
      for (const w of warnings) this.io.ui.warn(w);
    }
    return res;
  }

  private async fail(res: HttpResponse, method: string, path: string): Promise<never> {
    const text = await res.text().catch(() => '');
    let envelope: {error?: {code?: string; message?: string; hint?: string; details?: Record<string, unknown>}} = {};
    try {
      envelope = JSON.parse(text) as typeof envelope;
    } catch {
      // not our envelope (a proxy's page): named by status below
    }
    const e = envelope.error;
    const code = `pkictl.${SAME_AS_STORE[e?.code ?? ''] ?? e?.code ?? `http_${res.status}`}`;
    const message = e?.message ? `${this.url}: ${e.message}` : `${method} ${this.url}${path} answered ${res.status}`;
    const options = {...(e?.hint ? {hint: e.hint} : {}), details: {status: res.status, ...(e?.details ?? {})}};
    if (res.status === 401) throw denied(code, message, {hint: e?.hint ?? 'Run `pkictl login`.', details: options.details});
    if (res.status === 403) throw denied(code, message, options);
    if (res.status === 409 || res.status === 412) throw conflict(code, message, options);
    if (res.status === 400 || res.status === 404 || res.status === 413) throw invalidInput(code, message, options);
    if (res.status === 429) throw unavailable(code, message, {...options, hint: e?.hint ?? `Try again in ${res.header('retry-after') ?? 'a minute'} seconds.`});
    throw unavailable(code, message, options);
  }
}
