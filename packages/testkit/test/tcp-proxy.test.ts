// The loopback proxy that drops connections on demand (for stream reconnection tests).
import {createServer, request, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {afterAll, beforeAll, expect, it} from 'vitest';
import {startTcpProxy, type TcpProxy} from '../src/index.js';

let server: Server;
let proxy: TcpProxy;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/stream') {
      res.writeHead(200, {'content-type': 'text/plain'});
      res.write('first\n');
      return; // never ends: a long-running stream
    }
    res.end('hello');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxy = await startTcpProxy({target: {port: (server.address() as AddressInfo).port}});
});
afterAll(async () => {
  await proxy?.stop();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const get = (path: string) =>
  new Promise<{status: number; body: string; error?: string}>((resolve) => {
    let body = '';
    const req = request({host: proxy.host, port: proxy.port, path, agent: false}, (res) => {
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({status: res.statusCode ?? 0, body}));
      res.on('error', (e) => resolve({status: res.statusCode ?? 0, body, error: (e as NodeJS.ErrnoException).code ?? e.message}));
      res.on('aborted', () => resolve({status: res.statusCode ?? 0, body, error: 'aborted'}));
    });
    req.on('error', (e) => resolve({status: 0, body, error: (e as NodeJS.ErrnoException).code ?? e.message}));
    req.end();
  });

it('passes traffic through, cuts every open connection on demand, and refuses new ones until told', async () => {
  expect(await get('/')).toEqual({status: 200, body: 'hello'});
  const streaming = get('/stream');
  await new Promise((r) => setTimeout(r, 200));
  expect(proxy.open).toBe(1);
  expect(proxy.cut()).toBe(1);
  const cut = await streaming;
  expect(cut.body).toBe('first\n');
  expect(cut.error).toMatch(/ECONNRESET|aborted/);
  proxy.refuse();
  expect((await get('/')).error).toMatch(/ECONNRESET|EPIPE|socket hang up/);
  proxy.accept();
  expect((await get('/')).body).toBe('hello');
  expect(proxy.accepted).toBe(3);
});
