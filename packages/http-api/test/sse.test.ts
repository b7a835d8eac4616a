// Server-sent events and TLS on a real listening socket: resume, keepalive, terminal event,
// backpressure; HTTPS with a certificate from a real openssl PKI.
import {once} from 'node:events';
import {readFileSync} from 'node:fs';
import {request as httpRequest, type IncomingMessage} from 'node:http';
import {request as httpsRequest} from 'node:https';
import type {AddressInfo} from 'node:net';
import {createOpensslPki, type OpensslPki} from '@bcl/testkit';
import {z} from 'zod';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {waitFor} from '@bcl/testkit';
import {type ApiApp, createApp, EventLog, type EventStreamResult, parseEventStream, type ReceivedEvent, sendEventStream, type StreamEvent} from '../src/index.js';

const operations = new Map<string, EventLog>();
const pulled = new Map<string, number>();
const results = new Map<string, EventStreamResult>();

async function streamingServer(options: {keepaliveMs?: number} = {}): Promise<{app: ApiApp; url: string}> {
  const app = await createApp({title: 'ops', version: '1.0.0', log: false});
  app.get('/v1/operations/:id/events', {schema: {params: z.strictObject({id: z.string()})}}, async (request, reply) => {
    const id = request.params.id;
    if (id === 'flood') {
      // 2,000 events of 16 KiB, generated lazily: counts how far the server read ahead.
      pulled.set(id, 0);
      const chunk = 'x'.repeat(16 * 1024);
      await sendEventStream(request, reply, {
        isTerminal: (e) => e.type === 'result',
        events: async function* (after) {
          for (let seq = after + 1; seq <= 2000; seq++) {
            pulled.set(id, seq);
            yield {seq, type: seq === 2000 ? 'result' : 'log', data: {line: chunk}};
          }
        },
      });
      return;
    }
    const log = operations.get(id)!;
    results.set(id, await sendEventStream(request, reply, {events: (after, signal) => log.follow(after, signal), isTerminal: log.isTerminal, keepaliveMs: options.keepaliveMs ?? 15_000}));
  });
  await app.listen({host: '127.0.0.1', port: 0});
  return {app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`};
}

function open(url: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {headers: {accept: 'text/event-stream', ...headers}, agent: false}, resolve);
    req.on('error', reject);
    req.end();
  });
}

async function collect(res: IncomingMessage, until: (events: ReceivedEvent[]) => boolean = () => false, comments: string[] = []): Promise<ReceivedEvent[]> {
  const events: ReceivedEvent[] = [];
  for await (const event of parseEventStream(res, {onComment: (c) => comments.push(c)})) {
    events.push(event);
    if (until(events)) {
      res.destroy();
      break;
    }
  }
  return events;
}

describe('server-sent events', () => {
  let server: {app: ApiApp; url: string};
  beforeAll(async () => {
    server = await streamingServer({keepaliveMs: 100});
  });
  afterAll(async () => server?.app.close());

  it('streams events with sequence ids, resumes after Last-Event-ID without gaps or duplicates, and ends with the terminal event', async () => {
    const log = new EventLog(['result']);
    operations.set('op1', log);
    for (let i = 1; i <= 3; i++) log.append('phase', {n: i});
    const first = await open(`${server.url}/v1/operations/op1/events`);
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const seen = collect(first, (e) => e.length === 5);
    log.append('log', {n: 4});
    log.append('log', {n: 5});
    const got = await seen;
    expect(got.map((e) => e.id)).toEqual(['1', '2', '3', '4', '5']);
    expect(got[3]).toEqual({id: '4', event: 'log', data: '{"n":4}'});
    // The client was cut after 5; more happened meanwhile, then the result.
    log.append('log', {n: 6});
    log.append('result', {ok: true});
    const resumed = await collect(await open(`${server.url}/v1/operations/op1/events`, {'last-event-id': '5'}));
    expect(resumed.map((e) => [e.id, e.event])).toEqual([
      ['6', 'log'],
      ['7', 'result'],
    ]);
    // The stream closed by itself after the terminal event (collect returned without destroy).
    const again = await collect(await open(`${server.url}/v1/operations/op1/events`, {'last-event-id': '7'}));
    expect(again).toEqual([]);
    // A client that already has the terminal event gets an empty stream that ends at once.
    expect(results.get('op1')).toEqual({sent: 0, lastSeq: 7, ended: 'source-ended'});
  });

  it('sends keepalive comments while an operation is quiet', async () => {
    const log = new EventLog(['result']);
    operations.set('quiet', log);
    const comments: string[] = [];
    const done = collect(await open(`${server.url}/v1/operations/quiet/events`), () => false, comments);
    await new Promise((r) => setTimeout(r, 450));
    log.append('result', {ok: true});
    const events = await done;
    expect(events.map((e) => e.event)).toEqual(['result']);
    expect(comments.filter((c) => c === 'keepalive').length).toBeGreaterThanOrEqual(2);
  });

  it('refuses a malformed Last-Event-ID with 400 naming the header', async () => {
    operations.set('op2', new EventLog());
    const res = await open(`${server.url}/v1/operations/op2/events`, {'last-event-id': 'yesterday'});
    expect(res.statusCode).toBe(400);
    const body = JSON.parse(await new Response(res as unknown as ReadableStream).text());
    expect(body.error.message).toBe('headers.last-event-id: expected the sequence number of the last event received, got "yesterday"');
  });

  it('reads ahead only as far as the socket drains: a client that stops reading does not make the server buffer the stream', async () => {
    const res = await open(`${server.url}/v1/operations/flood/events`);
    res.pause();
    await new Promise((r) => setTimeout(r, 500));
    const whilePaused = pulled.get('flood')!;
    // 2,000 x 16 KiB = 32 MiB; socket buffers hold a few MiB at most.
    expect(whilePaused).toBeLessThan(400);
    const events = await collect(res);
    expect(events).toHaveLength(2000);
    expect(events.at(-1)?.event).toBe('result');
    expect(events.map((e) => Number(e.id))).toEqual(Array.from({length: 2000}, (_, i) => i + 1));
  });

  it('stops reading the source when the client goes away', async () => {
    const log = new EventLog(['result']);
    operations.set('gone', log);
    const res = await open(`${server.url}/v1/operations/gone/events`);
    log.append('phase', {n: 1});
    await collect(res, (e) => e.length === 1);
    expect(log.followers).toBe(1);
    const result = await waitFor('the stream to end', () => results.get('gone'));
    expect(result).toEqual({sent: 1, lastSeq: 1, ended: 'client-gone'});
    // The follower that was waiting for event 2 was released, not leaked.
    expect(log.followers).toBe(0);
  });
});

it('ends open streams when the app closes, so a rolling restart does not wait for them', async () => {
  const own = await streamingServer();
  const log = new EventLog(['result']);
  operations.set('restart', log);
  log.append('phase', {n: 1});
  const res = await open(`${own.url}/v1/operations/restart/events`);
  const events = collect(res);
  await waitFor('the stream to be open', () => log.followers === 1);
  const started = Date.now();
  await own.app.close();
  expect(Date.now() - started).toBeLessThan(2000);
  // The client saw no terminal event: for it, a cut stream, never a success.
  expect((await events).map((e) => e.event)).toEqual(['phase']);
  expect(results.get('restart')?.ended).toBe('client-gone');
});

describe('HTTPS', () => {
  let pki: OpensslPki;
  beforeAll(async () => {
    pki = await createOpensslPki('HTTP API Test PKI');
  });
  afterAll(() => pki?.remove());

  it('serves the app over TLS with the given certificate, verified by the client against the CA', async () => {
    const cert = await pki.issueServer({dns: ['localhost'], ip: ['127.0.0.1']});
    const app = await createApp({title: 'tls', version: '1.0.0', log: false, https: {cert: readFileSync(cert.cert), key: readFileSync(cert.key), minVersion: 'TLSv1.2'}});
    app.get('/v1/ping', {schema: {response: {200: z.object({pong: z.boolean(), tls: z.boolean()})}}}, async (request) => ({pong: true, tls: request.protocol === 'https'}));
    await app.listen({host: '127.0.0.1', port: 0});
    try {
      const port = (app.server.address() as AddressInfo).port;
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = httpsRequest(`https://127.0.0.1:${port}/v1/ping`, {ca: readFileSync(pki.caCert), agent: false}, resolve);
        req.on('error', reject);
        req.end();
      });
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      await once(res, 'end');
      expect(JSON.parse(Buffer.concat(chunks).toString())).toEqual({pong: true, tls: true});
      // A client that does not trust the CA is refused during the handshake.
      await expect(
        new Promise((resolve, reject) => {
          const req = httpsRequest(`https://127.0.0.1:${port}/v1/ping`, {agent: false}, resolve);
          req.on('error', reject);
          req.end();
        }),
      ).rejects.toThrow(/self.signed|unable to verify|UNABLE_TO_GET_ISSUER/i);
    } finally {
      await app.close();
    }
  });
});

export type {StreamEvent};
