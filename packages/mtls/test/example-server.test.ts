// The four server pieces together, as svapp, the PKI server and cssh-authz use them: two
// replicas of a small server on one PostgreSQL, behind mutual TLS, with audited writes and an
// event stream that one replica writes and the other serves.
import {readFileSync} from 'node:fs';
import {request as httpsRequest} from 'node:https';
import type {AddressInfo} from 'node:net';
import {PostgresAuditLog} from '@bcl/audit';
import {parseEventStream} from '@bcl/http-api/sse-client';
import {ensureApplicationRole, migrateToLatest, openDatabase, type Database} from '@bcl/postgres';
import {createOpensslPki, type IssuedX509, type OpensslPki, type PostgresServer, startPostgres} from '@bcl/testkit';
import {afterAll, beforeAll, expect, it} from 'vitest';
import {loadTlsMaterial, MemoryCrlNumberStore} from '../src/index.js';
import {buildServer, grantApp, migrations, type NotesDb} from './example/notes-server.js';

let pg: PostgresServer;
let pki: OpensslPki;
let ann: IssuedX509;
const replicas: {url: string; close(): Promise<void>}[] = [];
const databases: Database<any>[] = [];
const policy = {server: 'notes', protocol: {min: 1, current: 2}, minClientVersion: '1.0.0', upgradeCommand: (n: string) => `${n} update`};

beforeAll(async () => {
  [pg, pki] = await Promise.all([startPostgres(), createOpensslPki('Company PKI')]);
  ann = await pki.issueClient({email: 'ann@example.com'});
  const serverCert = await pki.issueServer({});
  await pg.psql('create database notes');
  const ownerUrl = pg.url.replace(/\/postgres$/, '/notes');
  const owner = openDatabase({url: ownerUrl});
  databases.push(owner);
  // Both replicas start at once; the migrations run once.
  await Promise.all([migrateToLatest(owner.db, {migrations}), migrateToLatest(openDatabase({url: ownerUrl}).db, {migrations})]);
  await ensureApplicationRole(owner.db, {role: 'notes_app', password: 'notes-app-password'});
  await grantApp(owner.db, 'notes_app');
  const appUrl = ownerUrl.replace(`postgres:${encodeURIComponent(pg.password)}@`, 'notes_app:notes-app-password@');
  for (let i = 0; i < 2; i++) {
    const database = openDatabase<NotesDb>({url: appUrl, applicationName: `notes-${i}`});
    databases.push(database);
    const tls = await loadTlsMaterial({cert: serverCert.cert, key: serverCert.key, clientCa: pki.caCert, crl: [pki.crl]}, {crlNumbers: new MemoryCrlNumberStore()});
    const app = await buildServer({db: database.db, databaseUrl: appUrl, tls, policy, audit: new PostgresAuditLog()});
    await app.listen({host: '127.0.0.1', port: 0});
    replicas.push({url: `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: async () => (await app.stopListening(), await app.close())});
  }
}, 120_000);

afterAll(async () => {
  for (const r of replicas) await r.close();
  for (const d of databases) await d.close();
  await pg?.stop();
  pki?.remove();
});

function call(base: string, method: string, path: string, options: {json?: unknown; client?: IssuedX509; headers?: Record<string, string>} = {}) {
  return new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    const req = httpsRequest(`${base}${path}`, {
      method,
      ca: readFileSync(pki.caCert),
      agent: false,
      ...(options.client ? {cert: readFileSync(options.client.cert), key: readFileSync(options.client.key)} : {}),
      headers: {'bcl-client': 'notectl/1.2.0', 'bcl-protocol': '1-2', ...(options.json ? {'content-type': 'application/json'} : {}), ...options.headers},
    }, resolve);
    req.on('error', reject);
    req.end(options.json ? JSON.stringify(options.json) : undefined);
  });
}
const json = async (res: import('node:http').IncomingMessage) => ({status: res.statusCode, body: JSON.parse(await new Response(res as unknown as ReadableStream).text())});

it('writes on one replica, streams from the other, audits every change, and refuses what it should', async () => {
  const [a, b] = [replicas[0]!, replicas[1]!];
  const created = await json(await call(a.url, 'PUT', '/v1/notes/n-1', {json: {text: 'hello'}, client: ann}));
  expect(created).toEqual({status: 201, body: {id: 'n-1', text: 'hello', owner: 'ann@example.com'}});
  // The same request again (a retry) is the same note.
  expect((await json(await call(b.url, 'PUT', '/v1/notes/n-1', {json: {text: 'hello'}, client: ann}))).status).toBe(200);
  expect((await json(await call(b.url, 'PUT', '/v1/notes/n-1', {json: {text: 'other'}, client: ann}))).body.error.code).toBe('note_exists');
  // The other replica serves the stream, resuming after what the client saw.
  const events = [];
  for await (const e of parseEventStream(await call(b.url, 'GET', '/v1/notes/n-1/events', {client: ann, headers: {'last-event-id': '1'}}))) events.push(e);
  expect(events).toEqual([{id: '2', event: 'result', data: '{"ok":true}'}]);
  // Refusals: no certificate, an unknown field, a too old client; nothing was written for them.
  expect((await json(await call(a.url, 'PUT', '/v1/notes/n-2', {json: {text: 'x'}}))).body.error.code).toBe('no_client_certificate');
  expect((await json(await call(a.url, 'PUT', '/v1/notes/n-2', {json: {text: 'x', colour: 'red'}, client: ann}))).body.error.message).toBe('body.colour: unknown field');
  expect((await json(await call(a.url, 'PUT', '/v1/notes/n-2', {json: {text: 'x'}, client: ann, headers: {'bcl-client': 'notectl/0.9.0'}}))).body.error).toMatchObject({code: 'client_too_old', hint: 'upgrade with: notectl update'});
  const audit = new PostgresAuditLog();
  const verified = await audit.verify(databases[1]!.db);
  expect(verified).toMatchObject({ok: true, count: 2});
  const rows = await databases[0]!.db.selectFrom('audit_log' as never).select(['event' as never]).execute();
  expect(rows).toEqual([{event: 'note.created'}, {event: 'request.refused'}]);
});
