// Client certificates end to end: a real openssl PKI, a real HTTPS listener (Fastify through
// @bcl/http-api), node's TLS client; CRL reloads and rollbacks.
import {readFileSync, renameSync, writeFileSync} from 'node:fs';
import {request as httpsRequest} from 'node:https';
import type {AddressInfo} from 'node:net';
import {join} from 'node:path';
import {type ApiApp, createApp} from '@bcl/http-api';
import {createOpensslPki, type IssuedX509, type OpensslPki, tempDir} from '@bcl/testkit';
import {z} from 'zod';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {CrlRollbackError, FileCrlNumberStore, loadTlsMaterial, MemoryCrlNumberStore, type Refusal, type TlsFiles, type TlsReloader, TlsMaterialError, watchTlsMaterial} from '../src/index.js';
import {useClientCertificates} from '../src/fastify.js';

let pki: OpensslPki;
let other: OpensslPki;
let files: TlsFiles;
let ann: IssuedX509;
let ci: IssuedX509;
let host: IssuedX509;
let nobody: IssuedX509;
let stranger: IssuedX509;
let app: ApiApp;
let url: string;
let reloader: TlsReloader;
const refusals: Refusal[] = [];
const logLines: string[] = [];
const dir = tempDir('bcl-mtls-test-');
const store = new FileCrlNumberStore(join(dir.path, 'state', 'crl-numbers.json'));

beforeAll(async () => {
  pki = await createOpensslPki('Company PKI');
  other = await createOpensslPki('Someone Else');
  const server = await pki.issueServer({dns: ['localhost'], ip: ['127.0.0.1']});
  [ann, ci, host, nobody, stranger] = await Promise.all([
    pki.issueClient({email: 'Ann@Example.com'}),
    pki.issueClient({email: 'unused', name: 'jenkins', san: 'URI:urn:bcl:ci:jenkins'}),
    pki.issueClient({email: 'unused', name: 'web1', san: 'DNS:web1.example.com'}),
    pki.issueClient({email: 'unused', name: 'nobody', san: 'IP:10.1.2.3'}),
    other.issueClient({email: 'eve@example.com'}),
  ]);
  files = {cert: server.cert, key: server.key, clientCa: pki.caCert, crl: [pki.crl]};
  const material = await loadTlsMaterial(files, {crlNumbers: store});
  app = await createApp({title: 'mtls-test', version: '1.0.0', log: false, https: material.serverOptions});
  const {requireIdentity} = useClientCertificates(app, {realm: 'mtls-test', onRefused: (_request, refusal) => void refusals.push(refusal)});
  const identity = z.object({kind: z.string(), name: z.string(), email: z.string().optional()});
  app.get('/v1/whoami', {onRequest: requireIdentity(), schema: {response: {200: identity}}}, async (request) => request.identity!);
  app.get('/v1/people-only', {onRequest: requireIdentity('person'), schema: {response: {200: identity}}}, async (request) => request.identity!);
  app.get('/v1/public', {schema: {response: {200: z.object({verified: z.boolean()})}}}, async (request) => ({verified: request.peer?.ok ?? false}));
  await app.listen({host: '127.0.0.1', port: 0});
  url = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  reloader = watchTlsMaterial(app.server, files, material, {crlNumbers: store, log: {info: (m) => logLines.push(m), error: (m) => logLines.push(m)}, intervalMs: 100});
});

afterAll(async () => {
  reloader?.stop();
  await app?.close();
  pki?.remove();
  other?.remove();
  dir.remove();
});

function get(path: string, client?: IssuedX509): Promise<{status: number; json: any; headers: Record<string, unknown>}> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${url}${path}`, {ca: readFileSync(pki.caCert), agent: false, ...(client ? {cert: readFileSync(client.cert), key: readFileSync(client.key)} : {})}, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()), headers: res.headers}));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('identities from client certificates', () => {
  it('names a person by email, CI by its urn:bcl:ci: URI, a host by its DNS name', async () => {
    expect((await get('/v1/whoami', ann)).json).toEqual({kind: 'person', name: 'ann@example.com', email: 'ann@example.com'});
    expect((await get('/v1/whoami', ci)).json).toEqual({kind: 'ci', name: 'jenkins'});
    expect((await get('/v1/whoami', host)).json).toEqual({kind: 'host', name: 'web1.example.com'});
  });

  it('answers 401 with the reason for no certificate or one from another CA, 403 for an identity the route does not take', async () => {
    refusals.length = 0;
    const none = await get('/v1/whoami');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('MutualTLS realm="mtls-test"');
    expect(none.json.error).toMatchObject({code: 'no_client_certificate', message: 'no client certificate: authenticate with the certificate pkictl issued you'});
    const foreign = await get('/v1/whoami', stranger);
    expect(foreign.json.error).toMatchObject({code: 'client_certificate_rejected', message: expect.stringContaining('not issued by the PKI this service trusts')});
    const ciOnPeople = await get('/v1/people-only', ci);
    expect(ciOnPeople.status).toBe(403);
    expect(ciOnPeople.json.error).toMatchObject({code: 'no_email'});
    const unnamed = await get('/v1/whoami', nobody);
    expect(unnamed.status).toBe(403);
    expect(unnamed.json.error.code).toBe('no_identity');
    expect(refusals.map((r) => r.code)).toEqual(['no_client_certificate', 'client_certificate_rejected', 'no_email', 'no_identity']);
    // Public routes answer anyone, and still see whether the caller was verified.
    expect((await get('/v1/public')).json).toEqual({verified: false});
    expect((await get('/v1/public', ann)).json).toEqual({verified: true});
  });
});

describe('CRLs', () => {
  it('applies a new CRL without a restart, and refuses an older one put back, keeping the revocation', async () => {
    const before = readFileSync(pki.crl);
    const victim = await pki.issueClient({email: 'bob@example.com'});
    expect((await get('/v1/whoami', victim)).status).toBe(200);
    await pki.revoke(victim);
    await until('the revocation', async () => (await get('/v1/whoami', victim)).status === 401);
    expect((await get('/v1/whoami', victim)).json.error.message).toBe('the client certificate is revoked (PKI CRL) [CERT_REVOKED]');
    const number = reloader.status().crls[0]!.number;
    writeFileSync(`${pki.crl}.tmp`, before);
    renameSync(`${pki.crl}.tmp`, pki.crl);
    await until('the refusal', () => !reloader.status().ok);
    expect(reloader.status().problem).toMatch(/with CRL number \d+: CRL number \d+ was already loaded/);
    expect(logLines.at(-1)).toMatch(/^tls: CRL ROLLBACK REFUSED: .*; keeping the previous TLS material$/);
    expect(reloader.status().crls[0]!.number).toBe(number);
    expect((await get('/v1/whoami', victim)).status).toBe(401);
    // The number is remembered on disk: a fresh load (a restart) refuses the same file.
    await expect(loadTlsMaterial(files, {crlNumbers: new FileCrlNumberStore(store.path)})).rejects.toBeInstanceOf(CrlRollbackError);
    await pki.writeCrl();
    await until('the newer CRL', () => reloader.status().ok);
  });

  it('refuses at load a CRL that is not signed by a client CA, a missing file, and a damaged one', async () => {
    const base = {...files, crl: [other.crl]};
    await expect(loadTlsMaterial(base, {crlNumbers: new MemoryCrlNumberStore()})).rejects.toThrow(`${other.crl}: the CRL is issued by CN=Someone Else, which is not one of the client CAs`);
    await expect(loadTlsMaterial({...files, crl: [join(dir.path, 'nope.pem')]}, {crlNumbers: new MemoryCrlNumberStore()})).rejects.toThrow(`cannot read the CRL ${join(dir.path, 'nope.pem')}: no such file`);
    await expect(loadTlsMaterial({...files, crl: [pki.crl, pki.crl]}, {crlNumbers: new MemoryCrlNumberStore()})).rejects.toThrow(/two CRLs of CN=Company PKI are configured \(numbers \d+ in .* and \d+ in .*\); keep only the newest/);
    const damaged = join(dir.path, 'damaged.pem');
    writeFileSync(damaged, '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n');
    await expect(loadTlsMaterial({...files, crl: [damaged]}, {crlNumbers: new MemoryCrlNumberStore()})).rejects.toBeInstanceOf(TlsMaterialError);
  });

  it('a read-only load records nothing', async () => {
    const memory = new MemoryCrlNumberStore();
    const material = await loadTlsMaterial(files, {crlNumbers: memory, record: false});
    expect(await memory.highest(material.crls[0]!.issuerKey)).toBeUndefined();
    await loadTlsMaterial(files, {crlNumbers: memory});
    expect(await memory.highest(material.crls[0]!.issuerKey)).toBe(material.crls[0]!.number);
  });
});
