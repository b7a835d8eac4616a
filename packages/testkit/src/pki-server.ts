import {type ChildProcess, spawn} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {defaultPolicyYaml} from '@bcl/pki-ca/policy';
import {repoRoot} from './cli.js';
import type {OidcProvider} from './oidc.js';
import {freePort} from './ports.js';
import type {PostgresServer} from './postgres.js';
import {run, terminate} from './run.js';
import {tempDir} from './temp.js';
import {waitFor} from './wait.js';

/**
 * The real PKI server (bin/pki-server serve) on free ports of 127.0.0.1: one or several replicas
 * on one new database of the given PostgreSQL, trusting the given OIDC provider, with a CA made
 * by openssl (or the one given, e.g. a pkictl store's). The replicas migrate the database as
 * its owner and serve as a restricted application role; revocation URLs point at the first.
 */
export interface PkiServerReplica {
  url: string;
  port: number;
  pid: number;
  log(): string;
  stop(): Promise<void>;
}

export interface PkiServer {
  /** The first replica's URL (also the revocation base URL written into certificates). */
  url: string;
  replicas: PkiServerReplica[];
  dir: string;
  /** The CA chain (PEM): what relying parties trust. */
  caCert: string;
  caKey: string;
  /** The root's SHA-256 fingerprint (what pkictl pins). */
  caFingerprint: string;
  database: string;
  /** The owner's connection string for the server's database (tests inspect the tables with it). */
  ownerUrl: string;
  /** SQL on the server's database as its owner (psql, unaligned). */
  sql(query: string): Promise<string>;
  /** Audit entries written as JSON lines (the same as the table). */
  audit(): Record<string, unknown>[];
  /** Starts one more replica on the same database and configuration. */
  addReplica(extraEnv?: Record<string, string>): Promise<PkiServerReplica>;
  stop(): Promise<void>;
}

export interface PkiServerOptions {
  postgres: PostgresServer;
  oidc: OidcProvider;
  /** Replicas started at once (default 1). */
  replicas?: number;
  /** The CA (default: a new P-256 root made with openssl). */
  ca?: {certificate: string; key: string; passphrase?: string};
  /** The policy YAML (default: client and vpn issued at once, server waiting for an admin, domain example.com). */
  policy?: string | false;
  /** pkictl's client id (default: the provider's first client). */
  cliClientId?: string;
  /** A confidential web client of the provider for browser sign-in. */
  web?: {clientId: string; clientSecret: string};
  allowedDomains?: string[];
  /** Extra configuration (YAML lines appended), e.g. rate limits or admins. */
  extraConfig?: string;
  /** Extra lines of the oidc mapping (indented by the harness), e.g. "acceptSchemelessIssuer: true". */
  oidcConfig?: string[];
  env?: Record<string, string>;
  /** A public URL other than the first replica (e.g. a proxy in front). */
  publicUrl?: string;
  /** The replicas' ports (default: free ones), e.g. to register the browser redirect URI first. */
  ports?: number[];
}

/** pkictl's default policy for example.com: client and vpn issued at once, server certificates waiting for an admin. */
export const DEFAULT_SERVER_POLICY = defaultPolicyYaml(['example.com']);

async function opensslCa(dir: string): Promise<{certificate: string; key: string; passphrase?: string}> {
  const key = join(dir, 'ca.key');
  const cert = join(dir, 'ca.pem');
  const ext = join(dir, 'ca.ext');
  writeFileSync(ext, '[v3]\nbasicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\n');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc', '-keyout', key, '-out', cert, '-days', '3650', '-subj', '/O=Example Corp/CN=Example Corp PKI Server CA', '-config', '/dev/null', '-extensions', 'v3', '-extfile', ext]).catch(async () =>
    run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc', '-keyout', key, '-out', cert, '-days', '3650', '-subj', '/O=Example Corp/CN=Example Corp PKI Server CA', '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']),
  );
  return {certificate: cert, key};
}

export async function startPkiServer(options: PkiServerOptions): Promise<PkiServer> {
  const dir = tempDir('bcl-pki-server-');
  const file = (name: string) => join(dir.path, name);
  const database = `pki_${randomBytes(4).toString('hex')}`;
  const appPassword = randomBytes(18).toString('base64url');
  const appRole = `${database}_app`;
  await options.postgres.psql(`create database ${database};`);
  const ownerUrl = options.postgres.url.replace(/\/[^/]*$/, `/${database}`);
  const appUrl = `postgres://${appRole}:${appPassword}@${options.postgres.host}:${options.postgres.port}/${database}`;
  writeFileSync(file('owner-url'), `${ownerUrl}\n`, {mode: 0o600});
  writeFileSync(file('app-url'), `${appUrl}\n`, {mode: 0o600});
  const ca = options.ca ?? (await opensslCa(dir.path));
  if (ca.passphrase) writeFileSync(file('ca-passphrase'), `${ca.passphrase}\n`, {mode: 0o600});
  if (options.policy !== false) writeFileSync(file('policy.yaml'), options.policy ?? DEFAULT_SERVER_POLICY);
  if (options.web) writeFileSync(file('web-secret'), `${options.web.clientSecret}\n`, {mode: 0o600});
  const count = options.replicas ?? 1;
  const ports = options.ports ?? (await Promise.all(Array.from({length: count}, () => freePort())));
  const first = `http://127.0.0.1:${ports[0]}`;
  const publicUrl = options.publicUrl ?? first;
  const config = (port: number) =>
    [
      `listen: 127.0.0.1:${port}`,
      `publicUrl: ${publicUrl}`,
      `revocationBaseUrl: ${first}`,
      'database:',
      '  url: {file: app-url}',
      '  ownerUrl: {file: owner-url}',
      '  poolSize: 10',
      'ca:',
      `  certificate: ${ca.certificate}`,
      `  key: ${ca.key}`,
      ...(ca.passphrase ? ['  passphrase: {file: ca-passphrase}'] : []),
      ...(options.policy !== false ? ['policy: policy.yaml'] : []),
      'oidc:',
      `  issuer: ${options.oidc.issuer}`,
      `  allowedDomains: [${(options.allowedDomains ?? ['example.com']).join(', ')}]`,
      `  cli: {clientId: ${options.cliClientId ?? options.oidc.clients[0]!.clientId}}`,
      ...(options.web ? [`  web: {clientId: ${options.web.clientId}, clientSecret: {file: web-secret}}`] : []),
      ...(options.oidcConfig ?? []).map((l) => `  ${l}`),
      'sessions: {secureCookie: false}',
      'auditLog: audit.jsonl',
      options.extraConfig ?? '',
      '',
    ].join('\n');
  const bin = join(repoRoot, 'bin', 'pki-server');
  const replicas: PkiServerReplica[] = [];

  const startReplica = async (port: number, extraEnv: Record<string, string> = {}): Promise<PkiServerReplica> => {
    const configFile = file(`config-${port}.yaml`);
    writeFileSync(configFile, config(port));
    const child: ChildProcess = spawn(bin, ['serve', '--config', configFile], {stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, ...options.env, ...extraEnv, LANG: 'C.UTF-8'}});
    let log = '';
    child.stderr!.on('data', (d) => (log += d));
    let exited = false;
    const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
    const url = await waitFor(`pki-server on port ${port} to listen`, () => (exited ? 'exited' : /listening on (http\S+)/.exec(log)?.[1]), {timeoutMs: 60_000}).catch((error: Error) => {
      child.kill('SIGKILL');
      throw error;
    });
    if (url === 'exited') throw new Error(`pki-server exited:\n${log}`);
    const replica: PkiServerReplica = {url, port, pid: child.pid!, log: () => log, stop: () => terminate(child, exit, exited)};
    replicas.push(replica);
    return replica;
  };

  try {
    await Promise.all(ports.map((p) => startReplica(p)));
  } catch (error) {
    await Promise.all(replicas.map((r) => r.stop()));
    dir.remove();
    throw error;
  }
  replicas.sort((a, b) => ports.indexOf(a.port) - ports.indexOf(b.port));
  const {X509Certificate, createHash} = await import('node:crypto');
  const pems = readFileSync(ca.certificate, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!;
  const root = new X509Certificate(pems.at(-1)!);
  const caFingerprint = createHash('sha256').update(root.raw).digest('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');
  const chainFile = file('chain.pem');
  writeFileSync(chainFile, `${pems.join('\n')}\n`);
  return {
    url: replicas[0]!.url,
    replicas,
    dir: dir.path,
    caCert: chainFile,
    caKey: ca.key,
    caFingerprint,
    database,
    ownerUrl,
    sql: (query) => options.postgres.psql(query, {user: options.postgres.user, password: options.postgres.password, database}),
    audit: () =>
      existsSync(file('audit.jsonl'))
        ? readFileSync(file('audit.jsonl'), 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Record<string, unknown>)
        : [],
    addReplica: async (extraEnv) => startReplica(await freePort(), extraEnv),
    async stop() {
      await Promise.all(replicas.map((r) => r.stop()));
      dir.remove();
    },
  };
}
