import {spawn} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {readFileSync, writeFileSync} from 'node:fs';
import {request as httpsRequest} from 'node:https';
import {join} from 'node:path';
import {writeFileAtomicSync} from '@bcl/files';
import {repoRoot} from './cli.js';
import type {IssuedX509, OpensslPki} from './openssl-pki.js';
import type {PostgresServer} from './postgres.js';
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
  /** Every running replica (one unless `replicas` or startReplica); `url` and `pid` are the first's. */
  replicas: CsshAuthzReplica[];
  /** Another replica on the same configuration (and database). */
  startReplica(): Promise<CsshAuthzReplica>;
  /** With `database`: the owner's connection string of the service's database (a test secret). */
  databaseUrl?: string;
  /** The service's log so far (of the first replica). */
  log(): string;
  /** Audit log records (state directory only; auditRecords reads either). */
  audit(): Record<string, unknown>[];
  /** Audit records, from the audit log file or the database's audit table, in order. */
  auditRecords(): Promise<Record<string, unknown>[]>;
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

/** One cssh-authz process. */
export interface CsshAuthzReplica {
  url: string;
  pid: number;
  log(): string;
  /** Sends a signal (SIGKILL: dies at once, mid-request). */
  kill(signal: NodeJS.Signals): void;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
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
  /**
   * Keep the state in a new database of this PostgreSQL (created, migrated with `cssh-authz db
   * migrate` as the owner, used through a role of its own; dropped by stop) instead of files.
   */
  database?: PostgresServer;
  /** Replicas to start on the same configuration (default 1). */
  replicas?: number;
}

export async function startCsshAuthz(options: CsshAuthzOptions): Promise<CsshAuthz> {
  const dir = tempDir('bcl-cssh-authz-');
  const file = (name: string) => join(dir.path, name);
  const bin = join(repoRoot, 'bin', 'cssh-authz');
  const server = await options.pki.issueServer({dns: ['localhost'], ip: ['127.0.0.1']});
  await run(bin, ['keygen', '--out', file('ssh_user_ca'), '--type', options.caKeyType ?? 'ed25519']);
  if (options.secretsKey) await run(bin, ['secrets-key', '--out', file('secrets.key')]);
  writeFileSync(file('rules.yaml'), options.rules);
  let database: {name: string; role: string; ownerUrl: string} | undefined;
  if (options.database) {
    const pg = options.database;
    const id = randomBytes(4).toString('hex');
    database = {name: `cssh_authz_${id}`, role: `cssh_authz_${id}`, ownerUrl: ''};
    await pg.psql(`create database ${database.name}`);
    database.ownerUrl = pg.url.replace(/\/postgres$/, `/${database.name}`);
    const appUrl = `postgres://${database.role}:${randomBytes(12).toString('hex')}@${pg.host}:${pg.port}/${database.name}`;
    // Connection strings hold passwords: files of mode 0600, never arguments.
    writeFileSync(file('database-url'), `${appUrl}\n`, {mode: 0o600});
    writeFileSync(file('owner-url'), `${database.ownerUrl}\n`, {mode: 0o600});
  }
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
      ...(database ? ['database:', '  urlFile: database-url'] : ['stateDir: state', 'auditLog: audit.jsonl']),
      ...(options.secretsKey ? ['secretsKey: secrets.key'] : []),
      options.extraConfig ?? '',
      '',
    ].join('\n'),
  );
  const dropDatabase = async () => {
    if (!database || !options.database) return;
    await options.database.psql(`drop database if exists ${database.name} with (force); drop role if exists ${database.role};`).catch(() => undefined);
  };
  const replicas: CsshAuthzReplica[] = [];
  const startReplica = async () => {
    const replica = await serveCsshAuthz(file('config.yaml'));
    replicas.push(replica);
    return replica;
  };
  try {
    if (database) await run(bin, ['db', 'migrate', '--config', file('config.yaml'), '--owner-url-file', file('owner-url')]);
    await Promise.all(Array.from({length: options.replicas ?? 1}, startReplica));
  } catch (error) {
    await Promise.all(replicas.map((r) => r.stop()));
    await dropDatabase();
    dir.remove();
    throw error;
  }
  const url = replicas[0]!.url;
  const fileAudit = () => {
    if (database) throw new Error('the audit trail is in the database: use auditRecords()');
    return readFileSync(file('audit.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  };
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
    pid: replicas[0]!.pid,
    replicas,
    startReplica,
    ...(database ? {databaseUrl: database.ownerUrl} : {}),
    log: () => replicas[0]!.log(),
    audit: fileAudit,
    async auditRecords() {
      if (!database || !options.database) return fileAudit();
      const pg = options.database;
      const out = await pg.psql('select line from cssh_audit order by seq', {user: pg.user, password: pg.password, database: database.name});
      return out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    writeRules(yaml) {
      // Atomic (a rename): the watcher sees a new inode and never a half-written file.
      writeFileAtomicSync(file('rules.yaml'), yaml, {mode: 0o644});
    },
    hup: () => replicas.forEach((r) => r.kill('SIGHUP')),
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
      await Promise.all(replicas.map((r) => r.stop()));
      await dropDatabase();
      dir.remove();
    },
  };
}

/** `cssh-authz serve --config <file>` (a configuration of one's own), once it says where it listens. */
export async function serveCsshAuthz(configFile: string): Promise<CsshAuthzReplica> {
  const child = spawn(join(repoRoot, 'bin', 'cssh-authz'), ['serve', '--config', configFile], {stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, LANG: 'C.UTF-8'}});
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
    throw error;
  });
  return {
    url,
    pid: child.pid!,
    log: () => log,
    kill: (signal) => void child.kill(signal),
    exited: exit,
    stop: () => terminate(child, exit, exited),
  };
}
