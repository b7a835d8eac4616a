// sshd holds a login while its AuthorizedPrincipalsCommand runs: `csshctl principals` must give
// up within its one overall deadline (5 s) when cssh-authz hangs, failing closed. Real servers
// on loopback that hang at each stage: after accepting TCP, and after the TLS handshake.
import {createServer as createTcpServer, type Server, type Socket} from 'node:net';
import {createServer as createHttpsServer} from 'node:https';
import {readFileSync} from 'node:fs';
import {createOpensslPki, freePort, type IsolatedHome, isolatedHome, type OpensslPki, runCli} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

let pki: OpensslPki;
let home: IsolatedHome;
const servers: Server[] = [];
const sockets: Socket[] = [];

async function listen(server: Server): Promise<number> {
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  server.on('connection', (s: Socket) => sockets.push(s));
  servers.push(server);
  return port;
}

beforeAll(async () => {
  pki = await createOpensslPki('Deadline PKI');
  home = isolatedHome();
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  pki?.remove();
  home?.remove();
});

/** Runs the principals command as sshd would, timing it from outside. */
async function principals(server: string, extraEnv: Record<string, string> = {}) {
  const started = Date.now();
  const res = await runCli('csshctl', ['principals', 'ops', '--host', 'web1.example.com', '--server', server], {env: {...home.env, ...extraEnv}, timeoutMs: 60_000});
  return {...res, seconds: (Date.now() - started) / 1000};
}

describe('csshctl principals when cssh-authz hangs', () => {
  it('gives up within its deadline when the server accepts TCP and never speaks TLS, printing nothing', async () => {
    // Accepts, reads nothing, answers nothing: the client waits in the TLS handshake.
    const port = await listen(createTcpServer(() => undefined));
    const res = await principals(`https://127.0.0.1:${port}`);
    expect(res.stdout).toBe('');
    expect(res.exitCode).toBe(5);
    expect(res.stderr).toContain(`asking https://127.0.0.1:${port} for the principals of ops did not finish within 5s`);
    // 5 s deadline plus the start of a Node process; it was about 22 s (two connect timeouts and a backoff).
    expect(res.seconds).toBeLessThan(10);
  });

  it('gives up within its deadline when the TLS handshake completes but no HTTP answer comes', async () => {
    const cert = await pki.issueServer({dns: ['localhost'], ip: ['127.0.0.1']});
    const silent = createHttpsServer({cert: readFileSync(cert.cert), key: readFileSync(cert.key)}, () => undefined);
    const port = await listen(silent);
    const res = await principals(`https://127.0.0.1:${port}`, {BCL_CSSHCTL_SERVER_CA: pki.caCert});
    expect(res.stdout).toBe('');
    expect(res.exitCode).toBe(5);
    expect(res.stderr).toContain('did not finish within 5s');
    expect(res.seconds).toBeLessThan(10);
  });
});
