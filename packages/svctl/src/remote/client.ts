import {readFileSync} from 'node:fs';
import type {Readable} from 'node:stream';
import {BclError, type CommandContext, denied, ExitCode, HttpClient, type HttpResponse, invalidInput, unavailable} from '@bcl/core';
import {protocolHeaders, warningTexts} from '@bcl/http-api/protocol-client';
import {type Capability, PROTOCOL, protocolOf, type ServerInfo} from '@bcl/svapp/api';
import {clientCertificate} from './identity.js';
import type {ServerSettings} from './settings.js';

/** The protocol range this svctl speaks: svapp answers in the highest both speak. */
export const CLIENT_PROTOCOL = {min: PROTOCOL.min, max: PROTOCOL.current};

/** TLS alerts and errors that mean "svapp refused our client certificate". */
const REFUSED_AT_TLS = /CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_REVOKED|CERTIFICATE_EXPIRED|ACCESS_DENIED|HANDSHAKE_FAILURE/i;
const SERVER_UNTRUSTED = /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER|CERT_HAS_EXPIRED|ERR_TLS_CERT_ALTNAME_INVALID|unable to verify|self.signed/i;

export interface ClientOptions {
  /** Deprecation notices make the command fail (--warnings-as-errors). */
  warningsAsErrors: boolean;
}

/**
 * svapp's API for svctl: every request carries the client's version and protocol range, and the
 * PKI client certificate (mutual TLS); answers are checked and errors mapped to the exit codes
 * svctl's direct mode has for the same problems (svapp says which in `details.exitCode`).
 * Deprecation notices (Warning: 299 headers and `warnings` fields) are printed once per command,
 * on stderr, never into --json output. Requests are not aborted by Ctrl-C: svctl decides then
 * whether to cancel or detach.
 */
export class SvappClient {
  readonly #http: HttpClient;
  readonly #seen = new Set<string>();
  #info: Promise<ServerInfo> | undefined;

  private constructor(
    private readonly ctx: CommandContext,
    readonly url: string,
    readonly who: string,
    http: HttpClient,
    private readonly options: ClientOptions,
  ) {
    this.#http = http;
  }

  static async open(ctx: CommandContext, settings: ServerSettings, options: ClientOptions): Promise<SvappClient> {
    let ca: string | undefined;
    if (settings.ca) {
      try {
        ca = readFileSync(settings.ca, 'utf8');
      } catch (error) {
        throw invalidInput('svctl.unreadable', `svctl.server.ca: cannot read ${settings.ca}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
      }
    }
    const id = await clientCertificate(ctx, settings);
    ctx.redactor.add(id.key);
    const bcl = ctx.config.get('bcl') as {http?: {timeoutSeconds?: number}} | undefined;
    const http = new HttpClient({
      timeoutMs: (bcl?.http?.timeoutSeconds ?? 30) * 1000,
      retries: 3,
      env: ctx.env,
      redactor: ctx.redactor,
      userAgent: `${ctx.tool}/${ctx.version} node/${process.versions.node}`,
      debug: (m) => ctx.ui.debug(m),
      tls: {...(ca ? {ca} : {}), cert: id.cert, key: id.key},
    });
    ctx.ui.debug(`svapp ${settings.url} as ${id.description}`);
    const client = new SvappClient(ctx, settings.url, id.description, http, options);
    if (options.warningsAsErrors) await client.request('GET', '/v1/whoami');
    return client;
  }

  private headers(): Record<string, string> {
    return {...protocolHeaders({name: 'svctl', version: this.ctx.version, protocol: CLIENT_PROTOCOL}), accept: 'application/json'};
  }

  /** What svapp says about itself (asked once per command, only when a capability is needed). */
  info(): Promise<ServerInfo> {
    this.#info ??= this.send('GET', '/v1/info').then((r) => this.parse<ServerInfo>(r, 'GET', '/v1/info'));
    return this.#info;
  }

  /** Fails with "svapp is too old for X" when svapp does not offer a capability (never an unknown route). */
  async require(capability: Capability, what: string): Promise<void> {
    const info = await this.info();
    if (info.capabilities.includes(capability)) return;
    throw new BclError('svctl.server_too_old', `svapp at ${this.url} is too old for ${what}: it speaks protocol ${info.protocol.min}-${info.protocol.current} (svapp ${info.version}), and ${what} needs protocol ${protocolOf(capability)}`, ExitCode.conflict, {
      hint: 'Ask the platform team to upgrade svapp, or do it another way for now.',
      details: {capability, serverProtocol: info.protocol, serverVersion: info.version},
    });
  }

  /** One request; a non-2xx answer is thrown as the error svctl reports. */
  async request<T>(method: string, path: string, json?: unknown, what?: string): Promise<T> {
    const response = await this.send(method, path, json);
    return this.parse<T>(response, method, path, what);
  }

  /** An operation's event stream from after `after` (server-sent events); the caller reconnects when it ends. */
  async events(id: string, after: number, signal: AbortSignal): Promise<Readable> {
    const response = await this.send('GET', `/v1/operations/${id}/events`, undefined, {'last-event-id': String(after), accept: 'text/event-stream'}, signal, 0);
    if (response.status !== 200) await this.parse(response, 'GET', `/v1/operations/${id}/events`);
    return response.body;
  }

  private async send(method: string, path: string, json?: unknown, headers: Record<string, string> = {}, signal?: AbortSignal, retries?: number): Promise<HttpResponse> {
    try {
      // Operation ids are the client's: a POST repeated after a lost answer is the same operation.
      const response = await this.#http.request(`${this.url}${path}`, {method, headers: {...this.headers(), ...headers}, ...(json !== undefined ? {json} : {}), idempotent: retries !== 0, ...(signal ? {signal} : {}), ...(retries === 0 ? {timeoutMs: 60_000} : {})});
      this.warnings(warningTexts(response.headers.warning as string | string[] | undefined));
      return response;
    } catch (error) {
      throw this.networkError(error);
    }
  }

  private async parse<T>(response: HttpResponse, method: string, path: string, what?: string): Promise<T> {
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (body && typeof body === 'object' && Array.isArray((body as {warnings?: unknown}).warnings)) {
      this.warnings(((body as {warnings: {message?: string}[]}).warnings).map((w) => w.message ?? '').filter(Boolean));
    }
    if (response.status >= 200 && response.status < 300) return body as T;
    throw this.answerError(response.status, body, `${method} ${path}`, what);
  }

  /** Prints each deprecation notice once per command (stderr; never the --json document). */
  private warnings(texts: string[]): void {
    for (const text of texts) {
      if (this.#seen.has(text)) continue;
      this.#seen.add(text);
      if (this.options.warningsAsErrors) {
        throw new BclError('svctl.server_warning', `svapp warns: ${text}`, ExitCode.conflict, {hint: 'Nothing was done (--warnings-as-errors). Upgrade svctl, or run without --warnings-as-errors.', details: {warning: text}});
      }
      this.ctx.ui.line(`${this.ctx.ui.paint('yellow', 'Warning:')} svapp: ${text}`);
    }
  }

  private answerError(status: number, body: unknown, request: string, what?: string): BclError {
    const error = (body as {error?: {code?: string; message?: string; hint?: string; details?: Record<string, unknown>}} | undefined)?.error;
    const message = error?.message ?? `${request} answered ${status}`;
    const details = error?.details ?? {};
    const code = error?.code ?? 'svctl.server_error';
    if (code === 'client_too_old') return new BclError('svctl.client_too_old', `svapp at ${this.url} refuses this svctl: ${message}`, ExitCode.conflict, {hint: error?.hint ?? 'upgrade with: svctl update', details});
    if (code === 'server_too_old') return new BclError('svctl.server_too_old', `svapp at ${this.url} is too old for this svctl: ${message}`, ExitCode.conflict, {hint: error?.hint ?? 'Ask the platform team to upgrade svapp.', details});
    if (status === 404 && code === 'not_found') {
      return new BclError('svctl.server_too_old', `svapp at ${this.url} is too old for ${what ?? request}: it has no ${request}`, ExitCode.conflict, {hint: 'Ask the platform team to upgrade svapp.', details});
    }
    const {exitCode: given, ...rest} = details as {exitCode?: number};
    const exitCode = (typeof given === 'number' ? given : status === 401 || status === 403 ? ExitCode.denied : status >= 500 ? ExitCode.unavailable : status === 409 ? ExitCode.conflict : ExitCode.invalid) as ExitCode;
    const hint = status === 401 ? `${error?.hint ?? ''} (svctl authenticated as ${this.who})`.trim() : error?.hint;
    return new BclError(code, message, exitCode, {...(hint ? {hint} : {}), ...(Object.keys(rest).length ? {details: rest} : {})});
  }

  private networkError(error: unknown): unknown {
    if (!(error instanceof BclError) || (error.code !== 'http.unreachable' && error.code !== 'http.timeout')) return error;
    const cause = error.cause as {code?: string; message?: string; cause?: {code?: string; message?: string}} | undefined;
    const text = [cause?.code, cause?.message, cause?.cause?.code, cause?.cause?.message, error.message].filter(Boolean).join(' ');
    if (REFUSED_AT_TLS.test(text)) return denied('svctl.tls_refused', `svapp at ${this.url} refused the TLS handshake with ${this.who}: ${error.message}`, {hint: 'svapp does not accept this PKI certificate (revoked, expired, or from another CA); check it with pkictl list.', cause: error});
    if (SERVER_UNTRUSTED.test(text)) return unavailable('svctl.server_untrusted', `cannot verify the TLS certificate of svapp at ${this.url}: ${error.message}`, {hint: 'Set svctl.server.ca to the CA that signs svapp\'s certificate.', cause: error});
    return error;
  }

  async close(): Promise<void> {
    await this.#http.close();
  }
}
