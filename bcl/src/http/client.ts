import type {Agent as HttpAgent, IncomingMessage} from 'node:http';
import type {Readable} from 'node:stream';
import {BclError, denied, ExitCode, interrupted, unavailable} from '../errors.js';
import type {Env} from '../paths.js';
import type {Redactor} from '../process/redactor.js';
import {nodeHttpAgent} from './agent.js';

export interface TlsOptions {
  /** PEM CA bundle to trust instead of the system roots. */
  ca?: string | Buffer;
  /** Client certificate chain (PEM) for mutual TLS. */
  cert?: string | Buffer;
  /** Client private key (PEM). */
  key?: string | Buffer;
}

export interface HttpClientOptions {
  timeoutMs: number;
  retries: number;
  env: Env;
  redactor: Redactor;
  userAgent: string;
  tls?: TlsOptions;
  signal?: AbortSignal;
  /** Base delay of the exponential backoff between retries. */
  backoffMs?: number;
  debug?: (message: string) => void;
}

export interface HttpRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer | Uint8Array;
  /** A JSON body (sets Content-Type). */
  json?: unknown;
  /** Retry this request even though its method is not idempotent (e.g. a POST known to be safe). */
  idempotent?: boolean;
  /** The request's budget, retries and their waits included (default: the client's timeoutMs). */
  timeoutMs?: number;
  /**
   * The deadline (epoch ms) of the operation this request belongs to, shared by its requests: no
   * attempt, retry or wait goes beyond it. Default: now + timeoutMs.
   */
  deadline?: number;
  /** Retry after a timeout (default true); a download is not, its server has stalled once already. */
  retryOnTimeout?: boolean;
  signal?: AbortSignal;
}

export interface HttpResponse {
  url: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  header(name: string): string | undefined;
  text(): Promise<string>;
  json<T = unknown>(): Promise<T>;
  bytes(): Promise<Buffer>;
  /** The raw body, for streaming downloads. */
  body: Readable;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const RETRY_STATUS = new Set([408, 429, 502, 503, 504]);

/**
 * HTTP for every tool: proxies from HTTPS_PROXY/HTTP_PROXY/NO_PROXY, one deadline per request
 * (or per operation, when the caller shares one) that attempts, retries and their waits never go
 * beyond, retries of idempotent requests with exponential backoff or the server's Retry-After
 * (seconds or an HTTP date), waits that stop at once on Ctrl-C, and errors that name the URL.
 */
export class HttpClient {
  private readonly agents = new Map<string, HttpAgent>();

  constructor(private readonly options: HttpClientOptions) {}

  async request(url: string, request: HttpRequest = {}): Promise<HttpResponse> {
    const method = (request.method ?? 'GET').toUpperCase();
    const shown = this.showUrl(url);
    const retryable = request.idempotent ?? IDEMPOTENT.has(method);
    const attempts = retryable ? this.options.retries + 1 : 1;
    const budgetMs = request.timeoutMs ?? this.options.timeoutMs;
    const deadline = request.deadline ?? Date.now() + budgetMs;
    let lastError: BclError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) {
        const waited = await this.backoff(attempt, lastError!, deadline, request.signal);
        if (!waited) throw lastError!;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw lastError ?? this.timeoutError(method, shown, budgetMs);
      try {
        const response = await this.once(url, method, request, Math.min(budgetMs, remaining), budgetMs);
        if (retryable && RETRY_STATUS.has(response.status) || (retryable && response.status >= 500 && method === 'GET')) {
          const body = await response.text().catch(() => '');
          lastError = unavailable('http.status', `${method} ${shown} answered ${response.status}${body ? `: ${firstLine(body)}` : ''}`, {
            details: {url: shown, status: response.status},
          });
          (lastError as BclError & {retryAfter?: string}).retryAfter = response.header('retry-after');
          if (attempt < attempts) continue;
          throw lastError;
        }
        return response;
      } catch (error) {
        if (error instanceof BclError && error.code !== 'http.unreachable' && error.code !== 'http.timeout' && error.code !== 'http.status') throw error;
        lastError = error instanceof BclError ? error : this.networkError(method, shown, error, budgetMs);
        if (attempt >= attempts || (lastError.code === 'http.timeout' && request.retryOnTimeout === false)) throw lastError;
      }
    }
    throw lastError ?? unavailable('http.unreachable', `${method} ${shown} failed`);
  }

  async getJson<T = unknown>(url: string, request: HttpRequest = {}): Promise<T> {
    const response = await this.request(url, {...request, method: 'GET', headers: {accept: 'application/json', ...request.headers}});
    await expectOk(response, 'GET');
    return response.json<T>();
  }

  async close(): Promise<void> {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  /** The kept-alive agent for the URL's scheme, with the proxies and TLS options of this client. */
  private agent(url: string): HttpAgent {
    const scheme = /^https:/i.test(url) ? 'https' : 'http';
    let agent = this.agents.get(scheme);
    if (!agent) {
      agent = nodeHttpAgent(url, {env: this.options.env, ...(this.options.tls ? {tls: this.options.tls} : {}), keepAlive: true});
      this.agents.set(scheme, agent);
    }
    return agent;
  }

  /** One attempt: `waitMs` for the response headers (what is left of the deadline), `budgetMs` for messages. */
  private async once(url: string, method: string, request: HttpRequest, waitMs: number, budgetMs: number): Promise<HttpResponse> {
    const signals = this.signals(request.signal);
    if (signals.some((s) => s.aborted)) throw interrupted();
    const headers: Record<string, string> = {'user-agent': this.options.userAgent, ...request.headers};
    let body = request.body;
    if (request.json !== undefined) {
      body = JSON.stringify(request.json);
      headers['content-type'] ??= 'application/json';
    }
    const shown = this.showUrl(url);
    const networkError = (error: unknown) => (signals.some((s) => s.aborted) ? interrupted() : this.networkError(method, shown, error, budgetMs));
    // Loaded here, not imported (see nodeHttpAgent): node:http(s) as built in, no HTTP library to load.
    const http = process.getBuiltinModule(/^https:/i.test(url) ? 'node:https' : 'node:http') as typeof import('node:https');
    let res: IncomingMessage;
    try {
      res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = http.request(url, {method, headers, agent: this.agent(url), ...(signals.length > 0 ? {signal: AbortSignal.any(signals)} : {})}, (response) => {
          clearTimeout(waiting);
          // A body may take longer than the deadline (a large download); it fails when it stops moving.
          response.setTimeout(budgetMs, () => response.destroy(Object.assign(new Error(`no data for ${seconds(budgetMs)}s`), {code: 'BODY_TIMEOUT'})));
          resolve(response);
        });
        const waiting = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${seconds(waitMs)}s`), {code: 'HEADERS_TIMEOUT'})), waitMs);
        req.on('error', (error) => {
          clearTimeout(waiting);
          reject(error);
        });
        req.end(body);
      });
    } catch (error) {
      throw networkError(error);
    }
    const read = async (): Promise<Buffer> => {
      try {
        const chunks: Buffer[] = [];
        for await (const chunk of res) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks);
      } catch (error) {
        throw networkError(error);
      }
    };
    // One value per header as undici and fetch give them: a string, or an array when repeated (Warning).
    const responseHeaders: Record<string, string | string[]> = {};
    for (const [name, values] of Object.entries(res.headersDistinct)) if (values) responseHeaders[name] = values.length === 1 ? values[0]! : values;
    return {
      url,
      status: res.statusCode ?? 0,
      headers: responseHeaders,
      header(name) {
        const v = responseHeaders[name.toLowerCase()];
        return Array.isArray(v) ? v[0] : v;
      },
      text: async () => (await read()).toString('utf8'),
      json: async <T>() => JSON.parse((await read()).toString('utf8')) as T,
      bytes: read,
      body: res,
    };
  }

  private networkError(method: string, shown: string, error: unknown, timeoutMs: number): BclError {
    const e = error as {code?: string; message?: string; cause?: {code?: string; message?: string}};
    const code = e.code ?? e.cause?.code ?? '';
    if (/TIMEOUT/.test(code) || e.message?.includes('timeout')) return this.timeoutError(method, shown, timeoutMs, error);
    const reason = this.options.redactor.redact(e.cause?.message ?? e.message ?? String(error));
    return unavailable('http.unreachable', `cannot reach ${shown}: ${reason}${code && !reason.includes(code) ? ` (${code})` : ''}`, {
      hint: 'Check the URL, your network and proxy settings (HTTPS_PROXY, NO_PROXY).',
      details: {url: shown, code},
      cause: error,
    });
  }

  private timeoutError(method: string, shown: string, budgetMs: number, cause?: unknown): BclError {
    return unavailable('http.timeout', `${method} ${shown} timed out after ${seconds(budgetMs)}s, the deadline of the whole operation (retries included)`, {
      hint: 'The server did not answer in time; check it is up, or raise bcl.http.timeoutSeconds.',
      details: {url: shown, timeoutSeconds: budgetMs / 1000},
      ...(cause === undefined ? {} : {cause}),
    });
  }

  private signals(extra?: AbortSignal): AbortSignal[] {
    return [extra, this.options.signal].filter((s): s is AbortSignal => Boolean(s));
  }

  /**
   * Waits before attempt `attempt`: the server's Retry-After if it sent one, else exponential
   * backoff with jitter. Returns false (no wait) when the wait would end past the deadline;
   * Ctrl-C (either signal) ends it at once with `interrupted()`.
   */
  private async backoff(attempt: number, last: BclError, deadline: number, signal?: AbortSignal): Promise<boolean> {
    const base = this.options.backoffMs ?? 250;
    const asked = retryAfterMs((last as {retryAfter?: string}).retryAfter, Date.now());
    const delay = asked ?? base * 2 ** (attempt - 2) * (0.5 + Math.random() / 2);
    if (Date.now() + delay >= deadline) {
      this.options.debug?.(`not retrying ${last.message}: the next attempt would start after the deadline`);
      return false;
    }
    this.options.debug?.(`retrying in ${(delay / 1000).toFixed(1)}s${asked !== undefined ? ' (Retry-After)' : ''}: ${last.message}`);
    const signals = this.signals(signal);
    if (signals.some((s) => s.aborted)) throw interrupted();
    await new Promise<void>((resolve, reject) => {
      const stop = () => {
        clearTimeout(timer);
        reject(interrupted());
      };
      const timer = setTimeout(() => {
        for (const s of signals) s.removeEventListener('abort', stop);
        resolve();
      }, delay);
      for (const s of signals) s.addEventListener('abort', stop, {once: true});
    });
    return true;
  }

  /** The URL as it may be shown: credentials and registered secrets removed. */
  showUrl(url: string): string {
    try {
      const u = new URL(url);
      if (u.username || u.password) {
        u.username = '';
        u.password = '';
      }
      return this.options.redactor.redact(u.toString());
    } catch {
      return this.options.redactor.redact(url);
    }
  }
}

/**
 * The wait a Retry-After header asks for (RFC 9110 10.2.3): a number of seconds, or an HTTP date
 * (then relative to `now`, and never negative). Undefined when absent or unreadable.
 */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) || !/[a-z]/i.test(text) ? undefined : Math.max(0, at - now);
}

/** Throws the error a person expects for a non-2xx answer: 401/403 exit 4, 5xx exit 5, else exit 1 with the body. */
export async function expectOk(response: HttpResponse, method = 'GET'): Promise<void> {
  if (response.status >= 200 && response.status < 300) return;
  const body = await response.text().catch(() => '');
  const what = `${method} ${safeUrl(response.url)} answered ${response.status}${body ? `: ${firstLine(body)}` : ''}`;
  const details = {url: safeUrl(response.url), status: response.status};
  if (response.status === 401) throw denied('http.unauthenticated', what, {hint: 'Check your credentials or token.', details});
  if (response.status === 403) throw denied('http.forbidden', what, {details});
  if (response.status >= 500 || response.status === 429 || response.status === 408) throw unavailable('http.status', what, {details});
  if (response.status === 404) throw new BclError('http.not_found', what, ExitCode.unexpected, {details});
  throw new BclError('http.status', what, ExitCode.unexpected, {details});
}

function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? String(ms / 1000) : (ms / 1000).toFixed(1);
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
