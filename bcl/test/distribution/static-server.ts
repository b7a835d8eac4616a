import {createReadStream, mkdirSync, renameSync, statSync, writeFileSync} from 'node:fs';
import {createServer, type Server} from 'node:http';
import type {Socket} from 'node:net';
import {dirname, join, normalize} from 'node:path';

/**
 * A plain static file server on 127.0.0.1 over a directory, as a bucket's website endpoint or
 * nginx would serve a store: GET and HEAD with Content-Length, PUT to publish. Faults can be set
 * per path to play a broken server: 404, 500, a stall, a body cut off halfway, a wrong length,
 * 503 with `Retry-After: 600` (busy).
 */
export type Fault = 'not-found' | 'error' | 'stall' | 'cut' | 'short-length' | 'busy';

export interface StaticServer {
  url: string;
  /** Paths requested, in order ("GET /channels/stable/svctl.json"). */
  requests: string[];
  fault(pathSuffix: string, fault: Fault | undefined): void;
  stop(): Promise<void>;
}

export async function startStaticServer(root: string, options: {allowPut?: boolean; putToken?: string} = {}): Promise<StaticServer> {
  const faults = new Map<string, Fault>();
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(`${req.method} ${path}`);
    const file = join(root, normalize(path).replace(/^(\.\.[/\\])+/, ''));
    const fault = [...faults.entries()].find(([suffix]) => path.endsWith(suffix))?.[1];
    if (fault === 'stall') return; // never answers
    if (fault === 'not-found') return void res.writeHead(404, {'content-type': 'text/plain'}).end('Not Found');
    if (fault === 'error') return void res.writeHead(500, {'content-type': 'text/plain'}).end('Internal Server Error');
    if (fault === 'busy') return void res.writeHead(503, {'content-type': 'text/plain', 'retry-after': '600'}).end('Service Unavailable');
    if (req.method === 'PUT') {
      if (!options.allowPut) return void res.writeHead(405).end();
      if (options.putToken && req.headers.authorization !== `Bearer ${options.putToken}`) return void res.writeHead(401, {'content-type': 'text/plain'}).end('Unauthorized');
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        mkdirSync(dirname(file), {recursive: true});
        writeFileSync(`${file}.upload`, Buffer.concat(chunks));
        renameSync(`${file}.upload`, file);
        res.writeHead(201).end();
      });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405).end();
    let size: number;
    try {
      const stat = statSync(file);
      if (!stat.isFile()) throw new Error('not a file');
      size = stat.size;
    } catch {
      return void res.writeHead(404, {'content-type': 'text/plain'}).end('Not Found');
    }
    if (fault === 'short-length') {
      // A server that serves a truncated copy, announced as such.
      const half = Math.floor(size / 2);
      res.writeHead(200, {'content-length': String(half)});
      return void createReadStream(file, {start: 0, end: half - 1}).pipe(res);
    }
    res.writeHead(200, {'content-length': String(size), 'content-type': 'application/octet-stream'});
    if (req.method === 'HEAD') return void res.end();
    if (fault === 'cut') {
      // Announces the full length, sends half, then drops the connection.
      const half = Math.floor(size / 2);
      const stream = createReadStream(file, {start: 0, end: half - 1});
      stream.on('end', () => setTimeout(() => req.socket.destroy(), 50));
      stream.pipe(res, {end: false});
      return;
    }
    createReadStream(file).pipe(res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    fault(suffix, fault) {
      if (fault) faults.set(suffix, fault);
      else faults.delete(suffix);
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
