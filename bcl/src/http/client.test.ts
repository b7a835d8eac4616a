import {createServer, request as httpRequest, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {afterEach, describe, expect, it} from 'vitest';
import {BclError} from '../errors.js';
import {Redactor} from '../process/redactor.js';
import {HttpClient, retryAfterMs} from './client.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const client = (env: Record<string, string> = {}, extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}) =>
  new HttpClient({timeoutMs: 2000, retries: 2, env, redactor: new Redactor(), userAgent: 'test/1', backoffMs: 10, ...extra});

describe('HttpClient', () => {
  it('retries idempotent requests on 503 with backoff, then succeeds', async () => {
    let calls = 0;
    const url = await serve((_req, res) => {
      calls++;
      res.writeHead(calls < 3 ? 503 : 200).end(calls < 3 ? 'busy' : 'ok');
    });
    const res = await client().request(`${url}/x`);
    expect(await res.text()).toBe('ok');
    expect(calls).toBe(3);
  });

  it('does not retry a POST, and gives up on GET after its retries with exit 5 naming the URL', async () => {
    let calls = 0;
    const url = await serve((_req, res) => {
      calls++;
      res.writeHead(503).end('down for maintenance');
    });
    const post = await client().request(`${url}/p`, {method: 'POST', body: 'x'});
    expect(post.status).toBe(503);
    expect(calls).toBe(1);
    const error = (await client().request(`${url}/g`).catch((e: unknown) => e)) as BclError;
    expect(error.exitCode).toBe(5);
    expect(error.message).toBe(`GET ${url}/g answered 503: down for maintenance`);
    expect(calls).toBe(4);
  });

  it('times out a server that stalls, naming the URL', async () => {
    const url = await serve(() => undefined);
    const error = (await client({}, {timeoutMs: 300, retries: 0}).request(`${url}/slow`).catch((e: unknown) => e)) as BclError;
    expect(error).toBeInstanceOf(BclError);
    expect(error.code).toBe('http.timeout');
    expect(error.message).toContain(`${url}/slow`);
  });

  it('reports an unreachable server (exit 5) without credentials in the message', async () => {
    const error = (await client({}, {retries: 0}).request('http://user:hunter2@127.0.0.1:9/x').catch((e: unknown) => e)) as BclError;
    expect(error.code).toBe('http.unreachable');
    expect(error.exitCode).toBe(5);
    expect(error.message).toContain('http://127.0.0.1:9/x');
    expect(error.message).not.toContain('hunter2');
  });

  it('goes through HTTP_PROXY, except for hosts in NO_PROXY', async () => {
    const target = await serve((_req, res) => res.end('direct'));
    const proxied: string[] = [];
    const proxy = await serve((req, res) => {
      proxied.push(req.url ?? '');
      // A minimal forward proxy: relays the absolute-URI request.
      const upstream = httpRequest(req.url!, {method: req.method, headers: req.headers}, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    });
    const viaProxy = await client({HTTP_PROXY: proxy}).request(`${target}/a`);
    expect(await viaProxy.text()).toBe('direct');
    expect(proxied).toEqual([`${target}/a`]);
    const bypass = await client({HTTP_PROXY: proxy, NO_PROXY: '127.0.0.1'}).request(`${target}/b`);
    expect(await bypass.text()).toBe('direct');
    expect(proxied).toHaveLength(1);
  });

  it('waits what Retry-After asks, in seconds or as an HTTP date', async () => {
    const seen: number[] = [];
    const url = await serve((req, res) => {
      seen.push(Date.now());
      const n = seen.length;
      if (n === 1) return void res.writeHead(503, {'retry-after': '1'}).end('busy');
      // An HTTP date has whole seconds: two seconds ahead is at least one second of waiting.
      if (n === 2) return void res.writeHead(429, {'retry-after': new Date(Date.now() + 2000).toUTCString()}).end('slow down');
      res.writeHead(200).end('ok');
    });
    const res = await client({}, {timeoutMs: 10_000}).request(`${url}/x`);
    expect(await res.text()).toBe('ok');
    expect(seen).toHaveLength(3);
    expect(seen[1]! - seen[0]!).toBeGreaterThanOrEqual(950);
    expect(seen[2]! - seen[1]!).toBeGreaterThanOrEqual(950);
  });

  it('does not wait a Retry-After beyond the deadline: it fails at once with the answer', async () => {
    let calls = 0;
    const url = await serve((_req, res) => {
      calls++;
      res.writeHead(503, {'retry-after': '3600'}).end('maintenance');
    });
    const error = (await client({}, {timeoutMs: 5_000}).request(`${url}/x`).catch((e: unknown) => e)) as BclError;
    expect(error.code).toBe('http.status');
    expect(error.message).toBe(`GET ${url}/x answered 503: maintenance`);
    expect(calls).toBe(1);
  });

  it('reads both forms of Retry-After', () => {
    const now = Date.parse('2026-03-01T10:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Sun, 01 Mar 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Sun, 01 Mar 2026 09:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('-5', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });

  it('one deadline for the request and its retries: a stalled server is asked once, not once per retry', async () => {
    let calls = 0;
    const url = await serve(() => {
      calls++;
    });
    const error = (await client({}, {timeoutMs: 500, retries: 3}).request(`${url}/stall`).catch((e: unknown) => e)) as BclError;
    expect(error.code).toBe('http.timeout');
    expect(error.message).toBe(`GET ${url}/stall timed out after 0.5s, the deadline of the whole operation (retries included)`);
    expect(calls).toBe(1);
  });

  it('Ctrl-C ends a wait between retries at once', async () => {
    let calls = 0;
    const url = await serve((_req, res) => {
      calls++;
      res.writeHead(503, {'retry-after': '30'}).end('busy');
    });
    const controller = new AbortController();
    const started = Date.now();
    const pending = client({}, {timeoutMs: 60_000, signal: controller.signal}).request(`${url}/x`).catch((e: unknown) => e);
    while (calls === 0) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    const error = (await pending) as BclError;
    expect(error.code).toBe('interrupted');
    expect(error.exitCode).toBe(130);
    expect(calls).toBe(1);
    // Far from the 30 s the server asked for.
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

