import {readFileSync} from 'node:fs';
import {createServer, request as httpsRequest} from 'node:https';
import type {AddressInfo} from 'node:net';

/** One request a client made and the answer it got, as a fixture keeps it. */
export interface RecordedExchange {
  request: {method: string; path: string; headers: Record<string, string>; body?: unknown};
  response: {status: number; headers: Record<string, string>; body?: unknown; events?: {id: string; event: string; data: unknown}[]};
}

/** The headers a fixture keeps (the protocol's; never a client's credentials). */
const KEPT_REQUEST = ['bcl-client', 'bcl-protocol', 'content-type', 'last-event-id', 'accept'];
const KEPT_RESPONSE = ['content-type', 'bcl-protocol', 'warning', 'deprecation', 'sunset'];

/**
 * A recording HTTPS proxy in front of a server with client certificates (svapp): it terminates
 * the client's TLS with a server certificate the client trusts, forwards every request with the
 * client certificate it is given (the test's own), and records each exchange, server-sent event
 * streams included. For fixtures of a protocol version ("recorded exchanges"), recorded once and
 * replayed against later servers.
 */
export async function startRecordingProxy(options: {target: string; tls: {cert: string; key: string}; upstream: {ca: string; cert: string; key: string}}): Promise<{url: string; exchanges: RecordedExchange[]; stop(): Promise<void>}> {
  const exchanges: RecordedExchange[] = [];
  const target = new URL(options.target);
  const upstream = {ca: readFileSync(options.upstream.ca), cert: readFileSync(options.upstream.cert), key: readFileSync(options.upstream.key)};
  const server = createServer({cert: readFileSync(options.tls.cert), key: readFileSync(options.tls.key), requestCert: true, rejectUnauthorized: false}, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'host' && k !== 'connection')) as Record<string, string>;
      const exchange: RecordedExchange = {
        request: {method: req.method ?? 'GET', path: req.url ?? '/', headers: pick(req.headers, KEPT_REQUEST), ...(body.length ? {body: JSON.parse(body.toString('utf8'))} : {})},
        response: {status: 0, headers: {}},
      };
      exchanges.push(exchange);
      const up = httpsRequest({host: target.hostname, port: target.port, method: req.method, path: req.url, headers, ...upstream, agent: false}, (answer) => {
        exchange.response.status = answer.statusCode ?? 0;
        exchange.response.headers = pick(answer.headers, KEPT_RESPONSE);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        let text = '';
        answer.on('data', (c: Buffer) => {
          text += c.toString('utf8');
          res.write(c);
        });
        answer.on('end', () => {
          res.end();
          if (String(answer.headers['content-type'] ?? '').startsWith('text/event-stream')) {
            exchange.response.events = text
              .split('\n\n')
              .map((block) => block.split('\n'))
              .filter((lines) => lines.some((l) => l.startsWith('data:')))
              .map((lines) => ({id: field(lines, 'id'), event: field(lines, 'event'), data: JSON.parse(field(lines, 'data'))}));
          } else if (text) {
            try {
              exchange.response.body = JSON.parse(text);
            } catch {
              exchange.response.body = text;
            }
          }
        });
      });
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exchanges,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function pick(headers: Record<string, string | string[] | undefined>, names: string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((n) => (headers[n] === undefined ? [] : [[n, String(headers[n])]])));
}

function field(lines: string[], name: string): string {
  return (lines.find((l) => l.startsWith(`${name}:`)) ?? '').slice(name.length + 1).trimStart();
}
