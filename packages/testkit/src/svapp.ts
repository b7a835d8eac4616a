import {type ChildProcess, spawn} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {mkdirSync, renameSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {repoRoot} from './cli.js';
import type {OpensslPki} from './openssl-pki.js';
import type {PostgresServer} from './postgres.js';
import {terminate} from './run.js';
import {tempDir} from './temp.js';
import {waitFor} from './wait.js';

/**
 * A svapp site for tests: its configuration, deploy policy and service catalog in a temp dir, a
 * database of its own on the given PostgreSQL (svapp migrates it as the owner and runs as a
 * restricted role), a server certificate from the given PKI (whose CA and CRL also check the
 * clients), and any number of replicas: real `bin/svapp serve` processes on free ports of
 * 127.0.0.1 sharing it all, as replicas behind one address do.
 */
export interface SvappSite {
  dir: string;
  configFile: string;
  policyFile: string;
  catalogDir: string;
  /** The PEM file that signs the replicas' TLS certificate (svctl.server.ca). */
  serverCa: string;
  /** Replaces the policy file atomically (svapp re-reads it within a second). */
  writePolicy(yaml: string): void;
  writeCatalog(name: string, spec: string): void;
  startReplica(name: string, options?: {env?: Record<string, string>; extraConfig?: string}): Promise<SvappReplica>;
  /** The audit log's entries, in order (from the database). */
  audit(): Promise<Record<string, unknown>[]>;
  /** SQL as the database owner (unaligned output). */
  sql(query: string): Promise<string>;
  stop(): Promise<void>;
}

export interface SvappReplica {
  name: string;
  url: string;
  pid: number;
  /** stderr so far (JSON log lines). */
  log(): string;
  /** stdout so far (the audit log as JSON lines). */
  stdout(): string;
  /** Sends a signal (SIGKILL: kill -9; SIGSTOP/SIGCONT: a replica frozen and resumed). */
  kill(signal: NodeJS.Signals): void;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export interface SvappSiteOptions {
  pg: PostgresServer;
  pki: OpensslPki;
  policy: string;
  /** The service catalog: name -> service.yaml text. */
  catalog?: Record<string, string>;
  /** clusters: name -> svapp's own kubeconfig for it (and the rest of svapp's cluster settings). */
  clusters?: Record<string, {kubeconfig: string; context?: string; [key: string]: unknown}>;
  /** More top-level configuration (YAML lines), e.g. "clients: {minVersion: 0.2.0}". */
  extraConfig?: string;
}

export async function createSvappSite(options: SvappSiteOptions): Promise<SvappSite> {
  const tmp = tempDir('bcl-svapp-');
  const dir = tmp.path;
  const file = (name: string) => join(dir, name);
  const suffix = randomBytes(4).toString('hex');
  const database = `svapp_${suffix}`;
  const role = `svapp_app_${suffix}`;
  const rolePassword = randomBytes(12).toString('hex');
  await options.pg.psql(`create database ${database}`);
  await options.pg.psql(`create role ${role} login password '${rolePassword}'`);
  const ownerUrl = options.pg.url.replace(/\/postgres$/, `/${database}`);
  const appUrl = ownerUrl.replace(`${options.pg.user}:${encodeURIComponent(options.pg.password)}@`, `${role}:${rolePassword}@`);
  const server = await options.pki.issueServer({dns: ['localhost'], ip: ['127.0.0.1']});
  mkdirSync(file('services'));
  writeFileSync(file('deploy-policy.yaml'), options.policy);
  for (const [name, spec] of Object.entries(options.catalog ?? {})) writeFileSync(join(file('services'), `${name}.yaml`), spec);
  const clusters = Object.entries(options.clusters ?? {}).map(([name, c]) => `  ${name}: ${JSON.stringify(c)}`);
  writeFileSync(
    file('svapp.yaml'),
    [
      'listen: 127.0.0.1:0',
      `tls: {cert: ${server.cert}, key: ${server.key}, clientCa: ${options.pki.caCert}, crl: ${options.pki.crl}}`,
      'database:',
      '  url: {env: SVAPP_DATABASE_URL}',
      '  migrateUrl: {env: SVAPP_MIGRATE_URL}',
      'policy: deploy-policy.yaml',
      'catalog: services',
      ...(clusters.length ? ['clusters:', ...clusters] : []),
      'operations: {leaseSeconds: 6, sweepSeconds: 1}',
      options.extraConfig ?? '',
      '',
    ].join('\n'),
  );
  const replicas: SvappReplica[] = [];
  const bin = join(repoRoot, 'bin', 'svapp');
  const site: SvappSite = {
    dir,
    configFile: file('svapp.yaml'),
    policyFile: file('deploy-policy.yaml'),
    catalogDir: file('services'),
    serverCa: options.pki.caCert,
    writePolicy(yaml) {
      writeFileSync(file('deploy-policy.yaml.new'), yaml);
      renameSync(file('deploy-policy.yaml.new'), file('deploy-policy.yaml'));
    },
    writeCatalog(name, spec) {
      writeFileSync(join(file('services'), `${name}.yaml`), spec);
    },
    async startReplica(name, o = {}) {
      let config = file('svapp.yaml');
      if (o.extraConfig) {
        config = file(`svapp-${name}.yaml`);
        const {readFileSync} = await import('node:fs');
        writeFileSync(config, `${readFileSync(file('svapp.yaml'), 'utf8')}${o.extraConfig}\n`);
      }
      const child: ChildProcess = spawn(bin, ['serve', '--config', config], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {PATH: process.env.PATH, LANG: 'C.UTF-8', HOME: dir, SVAPP_DATABASE_URL: appUrl, SVAPP_MIGRATE_URL: ownerUrl, POD_NAME: name, ...o.env},
      });
      let log = '';
      let out = '';
      child.stderr!.on('data', (d) => (log += d));
      child.stdout!.on('data', (d) => (out += d));
      let exitedFlag = false;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => ((exitedFlag = true), resolve(code))));
      const url = await waitFor(
        `svapp replica ${name} to listen`,
        () => {
          if (exitedFlag) throw new Error(`svapp ${name} exited:\n${log}`);
          return /svapp listening on (https:\/\/[^"\s]+)/.exec(log)?.[1];
        },
        {timeoutMs: 60_000},
      ).catch((error: Error) => {
        child.kill('SIGKILL');
        throw error;
      });
      const replica: SvappReplica = {
        name,
        url,
        pid: child.pid!,
        log: () => log,
        stdout: () => out,
        kill: (signal) => void child.kill(signal),
        exited,
        stop: () => terminate(child, exited.then(() => undefined), exitedFlag),
      };
      replicas.push(replica);
      return replica;
    },
    async audit() {
      const text = await site.sql('select line from audit_log order by seq');
      return text
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    sql: (query) => options.pg.psql(query, {user: options.pg.user, password: options.pg.password, database}),
    async stop() {
      for (const r of replicas) await r.stop().catch(() => undefined);
      tmp.remove();
    },
  };
  return site;
}

/** Everyone may do everything in environment test: for tests about deploys, not the policy. */
export const OPEN_POLICY = `environments:\n  test: {}\nrules:\n  - id: everyone\n    allow: ['*']\n    who: '*'\n    services: '*'\n    environments: '*'\n`;

export interface ClusterSvapp {
  pg: PostgresServer;
  pki: OpensslPki;
  site: SvappSite;
  /** svapp's own kubeconfig (a ServiceAccount token) for the local cluster, as cluster "test". */
  kubeconfig: string;
  replicas: SvappReplica[];
  stop(): Promise<void>;
}

/**
 * svapp on the local cluster for one test file: a PostgreSQL, a PKI, a ServiceAccount of its own
 * (the local cluster under each name of `clusters`, default "test"), and `replicas` real
 * processes sharing them.
 */
export async function startSvappOnCluster(adminKubeconfig: string, options: {policy?: string; extraConfig?: string; catalog?: Record<string, string>; replicas?: number; clusters?: string[]} = {}): Promise<ClusterSvapp> {
  const {createOpensslPki} = await import('./openssl-pki.js');
  const {startPostgres} = await import('./postgres.js');
  const {serviceAccountKubeconfig} = await import('./k8s.js');
  const [pg, pki] = await Promise.all([startPostgres(), createOpensslPki('Company PKI')]);
  const creds = tempDir('svapp-sa-');
  const name = `svapp-${randomBytes(3).toString('hex')}`;
  // svapp's own role, as its deploy/rbac.yaml gives it in every cluster: no more than that.
  const {kubectl} = await import('./k8s.js');
  await kubectl(adminKubeconfig, ['apply', '-f', join(repoRoot, 'packages/svapp/deploy/rbac.yaml')]);
  const kubeconfig = await serviceAccountKubeconfig(adminKubeconfig, {name, file: join(creds.path, 'kubeconfig'), context: 'svapp', clusterRole: 'svapp-deployer'});
  const clusters = Object.fromEntries((options.clusters ?? ['test']).map((c) => [c, {kubeconfig, context: 'svapp'}]));
  const site = await createSvappSite({pg, pki, policy: options.policy ?? OPEN_POLICY, clusters, ...(options.extraConfig ? {extraConfig: options.extraConfig} : {}), ...(options.catalog ? {catalog: options.catalog} : {})});
  const replicas: SvappReplica[] = [];
  for (let i = 0; i < (options.replicas ?? 1); i++) replicas.push(await site.startReplica(`svapp-${i}`));
  return {
    pg,
    pki,
    site,
    kubeconfig,
    replicas,
    async stop() {
      await site.stop();
      await pg.stop();
      pki.remove();
      creds.remove();
    },
  };
}

/**
 * An isolated HOME whose svctl goes through svapp at `url` as `email` (a client certificate from
 * the PKI, as files), with no kubeconfig and no clusters configured.
 */
export async function svctlServerHome(svapp: {pki: OpensslPki; site: SvappSite}, url: string, options: {email?: string; extra?: string} = {}): Promise<{cliEnv: Record<string, string>; configFile: string; cert: {cert: string; key: string}; remove(): void}> {
  const {isolatedHome} = await import('./temp.js');
  const home = isolatedHome();
  const client = await svapp.pki.issueClient({email: options.email ?? 'tester@example.com'});
  mkdirSync(join(home.xdg.config, 'bcl'), {recursive: true});
  const configFile = join(home.xdg.config, 'bcl', 'config.yaml');
  writeFileSync(configFile, `svctl:\n  server:\n    url: ${url}\n    ca: ${svapp.site.serverCa}\n    certificate: {cert: ${client.cert}, key: ${client.key}}\n${options.extra ?? ''}`);
  return {cliEnv: {...home.env, USER: 'tester'}, configFile, cert: client, remove: home.remove};
}
