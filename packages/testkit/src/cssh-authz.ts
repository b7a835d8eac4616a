import {spawn} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import {request as httpsRequest} from 'node:https';
import {join} from 'node:path';
import {writeFileAtomicSync} from '@bcl/files';
import {repoRoot} from './cli.js';
import type {IssuedX509, OpensslPki} from './openssl-pki.js';
import {run, terminate} from './run.js';
import {tempDir} from './temp.js';
import {waitFor} from './wait.js';

/**
 * The real cssh-authz service, started through its launcher (bin/cssh-authz serve) on a free
 * port of 127.0.0.1, with a new SSH CA key, a server certificate from the given PKI, the PKI's
 * CA and CRL for client certificates (or another CA's, e.g. pkictl's), and the given access rules.
 */
export interface CsshAuthz {
  url: string;
  dir: string;
  configFile: string;
  rulesFile: string;
  auditLog: string;
  stateDir: string;
  caKeyFile: string;
  /** The SSH user CA public key line (for TrustedUserCAKeys). */
  caPublicKey: string;
  /** The PEM file that signs the server's TLS certificate (the PKI CA). */
  serverCa: string;
  pid: number;
  /** The service's log so far. */
  log(): string;
  /** Audit log records. */
  audit(): Record<string, unknown>[];
  /** Replaces the rules file atomically (the service reloads it by itself). */
  writeRules(yaml: string): void;
  /** Sends SIGHUP (reload rules and TLS files). */
  hup(): void;
  /** GET a path as anyone (no client certificate), e.g. /v1/ca.pub. */
  get(path: string): Promise<{status: number; body: Buffer; headers: Record<string, string | string[] | undefined>}>;
  /** A request with a client certificate (or none). */
  request(path: string, options: {method?: string; json?: unknown; body?: string; contentType?: string; headers?: Record<string, string>; client?: IssuedX509 | undefined}): Promise<{status: number; json: any; text: string; headers: Record<string, string | string[] | undefined>}>;
  stop(): Promise<void>;
}

export interface CsshAuthzOptions {
  pki: OpensslPki;
  rules: string;
  /** Extra top-level configuration (YAML lines), e.g. "certificates: {defaultTtl: 1h}". */
  extraConfig?: string;
  /** The CA key type (cssh-authz keygen --type). */
  caKeyType?: 'ed25519' | 'ecdsa-p256' | 'rsa-4096';
  /** The CRL file to check clients against (default: the PKI's; false: none). */
  crl?: string | false;
  /** The CA bundle client certificates must chain to (default: the PKI's CA), e.g. a pkictl CA. */
  clientCa?: string;
  /** Create a secrets key (cssh-authz secrets-key) and configure it: TOTP and CA rotation need it. */
  secretsKey?: boolean;
}

export async function startCsshAuthz(options: CsshAuthzOptions): Promise<CsshAuthz> {
  const dir = tempDir('bcl-cssh-authz-');
  const file = (name: string) => join(dir.path, name);
  const bin = join(repoRoot, 'bin', 'cssh-authz');
  const server = await options.pki.issueServer({dns: ['localhost'], ip: ['127.0.0.1']});
  await run(bin, ['keygen', '--out', file('ssh_user_ca'), '--type', options.caKeyType ?? 'ed25519']);
  if (options.secretsKey) await run(bin, ['secrets-key', '--out', file('secrets.key')]);
  writeFileSync(file('rules.yaml'), options.rules);
  writeFileSync(
    file('config.yaml'),
    [
      'listen: 127.0.0.1:0',
      'tls:',
      `  cert: ${server.cert}`,
      `  key: ${server.key}`,
      `  clientCa: ${options.clientCa ?? options.pki.caCert}`,
      ...(options.crl === false ? [] : [`  crl: ${options.crl ?? options.pki.crl}`]),
      'ca:',
      '  key: ssh_user_ca',
      'rules: rules.yaml',
      'stateDir: state',
      'auditLog: audit.jsonl',
      ...(options.secretsKey ? ['secretsKey: secrets.key'] : []),
      options.extraConfig ?? '',
      '',
    ].join('\n'),
  );
  const child = spawn(bin, ['serve', '--config', file('config.yaml')], {stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, LANG: 'C.UTF-8'}});
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const url = await waitFor(
    'cssh-authz to listen',
    () => {
      if (exited) throw new Error(`cssh-authz exited:\n${log}`);
      return /listening on (https:\/\/\S+)/.exec(log)?.[1];
    },
    {timeoutMs: 30_000},
  ).catch((error: Error) => {
    child.kill('SIGKILL');
    dir.remove();
    throw error;
  });
  const ca = readFileSync(options.pki.caCert);
  const call = (path: string, o: {method?: string; body?: string; contentType?: string; headers?: Record<string, string>; client?: IssuedX509 | undefined}) =>
    new Promise<{status: number; body: Buffer; headers: Record<string, string | string[] | undefined>}>((resolve, reject) => {
      const req = httpsRequest(
        `${url}${path}`,
        {
          method: o.method ?? 'GET',
          ca,
          agent: false,
          ...(o.client ? {cert: readFileSync(o.client.cert), key: readFileSync(o.client.key)} : {}),
          headers: {...(o.body !== undefined ? {'content-type': o.contentType ?? 'application/json'} : {}), ...o.headers},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers}));
        },
      );
      req.on('error', reject);
      req.end(o.body);
    });
  return {
    url,
    dir: dir.path,
    configFile: file('config.yaml'),
    rulesFile: file('rules.yaml'),
    auditLog: file('audit.jsonl'),
    stateDir: file('state'),
    caKeyFile: file('ssh_user_ca'),
    caPublicKey: readFileSync(file('ssh_user_ca.pub'), 'utf8').trim(),
    serverCa: options.pki.caCert,
    pid: child.pid!,
    log: () => log,
    audit: () =>
      readFileSync(file('audit.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    writeRules(yaml) {
      // Atomic (a rename): the watcher sees a new inode and never a half-written file.
      writeFileAtomicSync(file('rules.yaml'), yaml, {mode: 0o644});
    },
    hup: () => child.kill('SIGHUP'),
    get: (path) => call(path, {}),
    async request(path, o) {
      const body = o.body ?? (o.json === undefined ? undefined : JSON.stringify(o.json));
      const res = await call(path, {method: o.method ?? (body === undefined ? 'GET' : 'POST'), ...(body !== undefined ? {body} : {}), ...(o.contentType ? {contentType: o.contentType} : {}), ...(o.headers ? {headers: o.headers} : {}), client: o.client});
      const text = res.body.toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return {status: res.status, json, text, headers: res.headers};
    },
    async stop() {
      await terminate(child, exit, exited);
      dir.remove();
    },
  };
}
