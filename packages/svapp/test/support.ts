// The svapp stack for tests that run the server in this process (buildServer with its deps): a
// real PostgreSQL, a real openssl PKI, real mutual TLS on a loopback socket, the real deploy
// policy watch and catalog files. Tests against the local cluster use real svapp processes
// (@bcl/testkit's startSvapp) instead.
import {mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs';
import {request as httpsRequest} from 'node:https';
import type {AddressInfo} from 'node:net';
import {join} from 'node:path';
import {PostgresAuditLog} from '@bcl/audit';
import {Redactor} from '@bcl/core/process';
import {watchPolicy, type PolicyWatch} from '@bcl/deploy-policy';
import {type ReceivedEvent, parseEventStream} from '@bcl/http-api/sse-client';
import {loadTlsMaterial, MemoryCrlNumberStore} from '@bcl/mtls';
import {type Database, ensureApplicationRole, migrateToLatest, openDatabase} from '@bcl/postgres';
import {createOpensslPki, type IssuedX509, type OpensslPki, type PostgresServer, startPostgres, tempDir} from '@bcl/testkit';
import {ServiceCatalog} from '../src/catalog.js';
import type {SvappDb} from '../src/db/schema.js';
import {grantSvapp, migrations} from '../src/db/migrations.js';
import type {DeployEngine} from '../src/engine.js';
import {silentLog} from '../src/log.js';
import {buildServer, type SvappServer} from '../src/server.js';

export interface Reply {
  status: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

export interface Replica {
  url: string;
  app: SvappServer;
  call(who: string | undefined, method: string, path: string, options?: {json?: unknown; headers?: Record<string, string>}): Promise<Reply>;
  /** The whole event stream of an operation (until its terminal event). */
  events(who: string, id: string, lastEventId?: number): Promise<ReceivedEvent[]>;
  close(): Promise<void>;
}

export interface Stack {
  pg: PostgresServer;
  pki: OpensslPki;
  dir: string;
  policyFile: string;
  catalogDir: string;
  owner: Database<SvappDb>;
  appUrl: string;
  writePolicy(yaml: string): void;
  writeCatalog(name: string, spec: string): void;
  /** A client certificate: an email, or ci:<name>. */
  identity(who: string): Promise<IssuedX509>;
  start(options: {engine: DeployEngine; now?: () => Date; protocol?: number; minVersion?: string; deprecations?: {clientBelow?: string; protocolBelow?: number; sunset?: string; message: string}[]; replica?: string; leaseMs?: number; sweepMs?: number; sweep?: boolean}): Promise<Replica>;
  audit(): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

export const CLIENT_HEADERS = {'bcl-client': 'svctl/0.1.0', 'bcl-protocol': '1-2'};

export async function startStack(policy: string): Promise<Stack> {
  const [pg, pki] = await Promise.all([startPostgres(), createOpensslPki('Company PKI')]);
  const tmp = tempDir('svapp-test-');
  const dir = tmp.path;
  const policyFile = join(dir, 'deploy-policy.yaml');
  const catalogDir = join(dir, 'services');
  mkdirSync(catalogDir);
  writeFileSync(policyFile, policy);
  await pg.psql('create database svapp');
  const ownerUrl = pg.url.replace(/\/postgres$/, '/svapp');
  const owner = openDatabase<SvappDb>({url: ownerUrl});
  await migrateToLatest(owner.db, {migrations});
  await ensureApplicationRole(owner.db, {role: 'svapp_app', password: 'svapp-app-password'});
  await grantSvapp(owner.db, 'svapp_app');
  const appUrl = ownerUrl.replace(`postgres:${encodeURIComponent(pg.password)}@`, 'svapp_app:svapp-app-password@');
  const serverCert = await pki.issueServer({});
  const identities = new Map<string, Promise<IssuedX509>>();
  const replicas: Replica[] = [];
  const databases: Database<SvappDb>[] = [];
  const watches: PolicyWatch[] = [];
  const ca = readFileSync(pki.caCert);
  const stack: Stack = {
    pg,
    pki,
    dir,
    policyFile,
    catalogDir,
    owner,
    appUrl,
    writePolicy(yaml) {
      writeFileSync(`${policyFile}.new`, yaml);
      renameSync(`${policyFile}.new`, policyFile);
    },
    writeCatalog(name, spec) {
      writeFileSync(join(catalogDir, `${name}.yaml`), spec);
    },
    identity(who) {
      if (!identities.has(who)) identities.set(who, who.startsWith('ci:') ? pki.issueClient({email: `${who.slice(3)}@ci.example.com`, san: `URI:urn:bcl:ci:${who.slice(3)}`}) : pki.issueClient({email: who}));
      return identities.get(who)!;
    },
    async start(options) {
      const database = openDatabase<SvappDb>({url: appUrl, applicationName: 'svapp-test'});
      databases.push(database);
      const tls = await loadTlsMaterial({cert: serverCert.cert, key: serverCert.key, clientCa: pki.caCert, crl: [pki.crl]}, {crlNumbers: new MemoryCrlNumberStore()});
      const watch = watchPolicy(policyFile, {intervalMs: 100});
      watches.push(watch);
      const app = await buildServer({
        db: database.db,
        databaseUrl: appUrl,
        tls,
        policy: watch,
        catalog: new ServiceCatalog(catalogDir),
        engine: options.engine,
        audit: new PostgresAuditLog(),
        redactor: new Redactor(),
        replica: options.replica ?? `replica-${replicas.length}`,
        version: '0.1.0',
        ...(options.protocol ? {protocol: options.protocol} : {}),
        clients: {...(options.minVersion ? {minVersion: options.minVersion} : {}), deprecations: options.deprecations ?? []},
        operations: {leaseMs: options.leaseMs ?? 10_000, sweepMs: options.sweepMs ?? 500},
        log: silentLog,
        ...(options.now ? {now: options.now} : {}),
        ...(options.sweep === false ? {sweep: false} : {}),
      });
      await app.listen({host: '127.0.0.1', port: 0});
      const url = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      const raw = async (who: string | undefined, method: string, path: string, headers: Record<string, string>, body?: string) => {
        const client = who ? await stack.identity(who) : undefined;
        return new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
          const req = httpsRequest(`${url}${path}`, {method, ca, agent: false, ...(client ? {cert: readFileSync(client.cert), key: readFileSync(client.key)} : {}), headers: {...CLIENT_HEADERS, ...(body !== undefined ? {'content-type': 'application/json'} : {}), ...headers}}, resolve);
          req.on('error', reject);
          req.end(body);
        });
      };
      const replica: Replica = {
        url,
        app,
        async call(who, method, path, o = {}) {
          const res = await raw(who, method, path, o.headers ?? {}, o.json === undefined ? undefined : JSON.stringify(o.json));
          const text = await new Response(res as unknown as ReadableStream).text();
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON
          }
          return {status: res.statusCode ?? 0, body, headers: res.headers};
        },
        async events(who, id, lastEventId) {
          const res = await raw(who, 'GET', `/v1/operations/${id}/events`, lastEventId === undefined ? {} : {'last-event-id': String(lastEventId)});
          if (res.statusCode !== 200) throw new Error(`events of ${id}: ${res.statusCode} ${await new Response(res as unknown as ReadableStream).text()}`);
          const out: ReceivedEvent[] = [];
          for await (const e of parseEventStream(res)) out.push(e);
          return out;
        },
        async close() {
          watch.close();
          await app.shutdown();
          await database.close();
        },
      };
      replicas.push(replica);
      return replica;
    },
    async audit() {
      const rows = await owner.db.selectFrom('audit_log' as never).select(['line' as never]).orderBy('seq' as never).execute();
      return rows.map((r) => JSON.parse((r as {line: string}).line) as Record<string, unknown>);
    },
    async stop() {
      for (const r of replicas) await r.close().catch(() => undefined);
      for (const w of watches) w.close();
      for (const d of databases) await d.close().catch(() => undefined);
      await owner.close();
      await pg.stop();
      pki.remove();
      tmp.remove();
    },
  };
  return stack;
}

/** A catalog or request spec: small, team and namespace as given. */
export function spec(name: string, team: string, extra = ''): string {
  return `name: ${name}\nteam: ${team}\nimage: registry.example.com/${team}/${name}\nruntime: node\nport: 3000\nmetrics: {enabled: false}\n${extra}`;
}

export function deployBody(id: string, environment: string, specs: {text: string; tag?: string}[], extra: Record<string, unknown> = {}) {
  return {id, environment, services: specs.map((s, i) => ({spec: s.text, file: `/home/ann/src/svc${i}/service.yaml`, imageTag: s.tag ?? 'v1'})), ...extra};
}
