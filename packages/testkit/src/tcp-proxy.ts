import {connect, createServer, type Socket} from 'node:net';
import type {AddressInfo} from 'node:net';

/**
 * A loopback TCP proxy in front of a server, for tests of what clients do when the network
 * fails: `cut()` drops every open connection at once (RST by default, like a proxy or NAT
 * timing out; `'close'` for an orderly FIN), `refuse()` makes new connections fail until
 * `accept()`. Bytes pass through untouched (TLS included).
 */
export interface TcpProxy {
  host: string;
  port: number;
  /** Connections open right now. */
  readonly open: number;
  /** Connections accepted since start. */
  readonly accepted: number;
  cut(how?: 'reset' | 'close'): number;
  refuse(): void;
  accept(): void;
  stop(): Promise<void>;
}

export async function startTcpProxy(options: {target: {host?: string; port: number}}): Promise<TcpProxy> {
  const targetHost = options.target.host ?? '127.0.0.1';
  const pairs = new Set<[Socket, Socket]>();
  let accepted = 0;
  let refusing = false;
  const server = createServer((client) => {
    if (refusing) return void client.resetAndDestroy();
    accepted += 1;
    const upstream = connect({host: targetHost, port: options.target.port});
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    get open() {
      return pairs.size;
    },
    get accepted() {
      return accepted;
    },
    cut(how = 'reset') {
      const n = pairs.size;
      for (const [client, upstream] of [...pairs]) {
        pairs.delete([client, upstream]);
        if (how === 'reset') {
          client.resetAndDestroy();
          upstream.resetAndDestroy();
        } else {
          client.end();
          upstream.end();
        }
      }
      pairs.clear();
      return n;
    },
    refuse() {
      refusing = true;
    },
    accept() {
      refusing = false;
    },
    async stop() {
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
