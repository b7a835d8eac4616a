import {type ChildProcess, spawn} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {freePort} from './ports.js';
import {waitFor} from './wait.js';

/** A real OpenVPN process (Debian's openvpn), its log so far, and a stop that waits for it. */
export interface OpenvpnProcess {
  proc: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

export function openvpn(args: string[]): OpenvpnProcess {
  let log = '';
  const proc = spawn('openvpn', args, {stdio: ['ignore', 'pipe', 'pipe']});
  proc.stdout!.on('data', (d) => (log += d));
  proc.stderr!.on('data', (d) => (log += d));
  return {
    proc,
    log: () => log,
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/**
 * A TLS handshake between a real OpenVPN server (loopback TCP on a free port, `--dev null`: no
 * tun device, `--crl-verify` with the given CRL) and a client running the given .ovpn profile
 * (its `remote` line pointed at that port). Returns both logs once the handshake finished or failed.
 */
export async function openvpnHandshake(o: {profile: string; crl: string; server: {ca: string; cert: string; key: string}; dir: string}): Promise<{server: string; client: string}> {
  const port = await freePort();
  const srv = openvpn([
    '--dev', 'null', '--proto', 'tcp-server', '--local', '127.0.0.1', '--lport', String(port),
    '--tls-server', '--dh', 'none', '--ca', o.server.ca, '--cert', o.server.cert, '--key', o.server.key,
    '--remote-cert-tls', 'client', '--crl-verify', o.crl, '--verb', '3',
  ]);
  let cli: OpenvpnProcess | undefined;
  try {
    await waitFor('openvpn server listening', () => /Listening for incoming TCP connection/.test(srv.log()), {timeoutMs: 20_000});
    const local = join(o.dir, `local-${port}.ovpn`);
    writeFileSync(local, readFileSync(o.profile, 'utf8').replace(/^remote .*$/m, `remote 127.0.0.1 ${port}`), {mode: 0o600});
    cli = openvpn(['--config', local, '--dev', 'null', '--verb', '3', '--connect-retry-max', '1']);
    const c = cli;
    await waitFor(
      'the TLS handshake to finish or fail',
      () => (/Peer Connection Initiated/.test(srv.log()) && /Peer Connection Initiated/.test(c.log())) || /TLS Error|VERIFY ERROR|CRL CHECK FAILED|certificate revoked|Fatal TLS error/i.test(srv.log() + c.log()),
      {timeoutMs: 30_000},
    ).catch(() => undefined);
  } finally {
    await Promise.all([cli?.stop(), srv.stop()]);
  }
  return {server: srv.log(), client: cli?.log() ?? ''};
}
