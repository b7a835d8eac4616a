import {readFileSync} from 'node:fs';
import {request} from 'node:https';
import type {DaemonConfig} from './config.js';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** What cssh-daemon asks cssh-authz, over HTTPS; the host's certificate is its client certificate. */
export interface AuthzHttp {
  /** `options.timeoutSeconds` replaces requestTimeout (a long poll); `signal` gives up early. */
  get(path: string, headers?: Record<string, string>, options?: {timeoutSeconds?: number; signal?: AbortSignal; method?: 'GET' | 'HEAD'}): Promise<Answer>;
}

export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
}

const MAX_BODY = 16 * 1024 * 1024;

/**
 * A client of cssh-authz: the configured CA (else the system roots) checks the server; the
 * host's certificate and key, when configured, authenticate the host. Every request ends within
 * `requestTimeout`, whatever stage it hangs in.
 */
export function authzHttp(config: Pick<DaemonConfig, 'server' | 'serverCa' | 'identity' | 'requestTimeoutSeconds'>): AuthzHttp {
  const ca = config.serverCa ? readFileSync(config.serverCa) : undefined;
  return {
    get(path, headers = {}, options = {}) {
      // Read per request: a renewed host certificate is used from the next cycle on.
      const identity = config.identity ? {cert: readFileSync(config.identity.cert), key: readFileSync(config.identity.key)} : {};
      const url = `${config.server}${path}`;
      return new Promise<Answer>((resolve, reject) => {
        const timeout = options.timeoutSeconds ?? config.requestTimeoutSeconds;
        const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(timeout * 1000)]) : AbortSignal.timeout(timeout * 1000);
        const req = request(url, {method: options.method ?? 'GET', agent: false, headers: {accept: '*/*', ...headers}, signal, ...(ca ? {ca} : {}), ...identity}, (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY) req.destroy(new Error(`the answer is larger than ${MAX_BODY / 1024 / 1024} MiB`));
            else chunks.push(c);
          });
          res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks)}));
          res.on('error', (e) => reject(new UnreachableError(`GET ${url}: ${e.message}`)));
        });
        req.on('error', (e) => reject(new UnreachableError(e.name === 'AbortError' || e.name === 'TimeoutError' ? `GET ${url}: no answer within ${timeout}s` : `cannot reach ${url}: ${e.message}`)));
        req.end();
      });
    },
  };
}

/** The server's own error message, else the status. */
export function refusal(path: string, answer: Answer): string {
  let message = `HTTP ${answer.status}`;
  try {
    const body = JSON.parse(answer.body.toString('utf8')) as {error?: {message?: string}};
    if (body.error?.message) message = `${answer.status} ${body.error.message}`;
  } catch {
    // not JSON
  }
  return `GET ${path} answered ${message}`;
}
