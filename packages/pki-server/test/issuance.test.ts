// Issuance through two real server replicas on one PostgreSQL: what a CSR asks for beyond its
// key is never issued; weak keys and broken CSRs are refused; privileged profiles wait for an
// admin; renewal needs the old key; revocation on one replica shows in the other's CRL and OCSP,
// as openssl sees them.
import {generateKeyPairSync} from 'node:crypto';
import {readFileSync, writeFileSync} from 'node:fs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {signRenewal} from '@bcl/pki-ca/keys';
import {type OidcProvider, type PkiServer, type PostgresServer, startOidcProvider, startPkiServer, startPostgres, tempDir} from '@bcl/testkit';
import {api, auditCount, issuedCount, login, newCsr, openssl, writeTemp} from './support.js';

let pg: PostgresServer;
let oidc: OidcProvider;
let server: PkiServer;
let dir: {path: string; remove(): void};
let ann: string;
let bob: string;
let admin: string;

beforeAll(async () => {
  dir = tempDir('pki-server-issuance-');
  pg = await startPostgres();
  oidc = await startOidcProvider({
    users: [
      {sub: '100000000000000000001', email: 'ann@example.com', hd: 'example.com', name: 'Ann Example'},
      {sub: '100000000000000000002', email: 'bob@example.com', hd: 'example.com', name: 'Bob Example'},
      {sub: '100000000000000000009', email: 'pki-admin@example.com', hd: 'example.com', name: 'PKI Admin'},
    ],
  });
  server = await startPkiServer({
    postgres: pg,
    oidc,
    replicas: 2,
    extraConfig: 'admins: {emails: [pki-admin@example.com]}\nrateLimits:\n  perIdentity: {max: 25, window: 1m}\n',
  });
  ann = await login(oidc, server, 'ann@example.com');
  bob = await login(oidc, server, 'bob@example.com');
  admin = await login(oidc, server, 'pki-admin@example.com');
}, 180_000);

afterAll(async () => {
  await server?.stop();
  await oidc?.stop();
  await pg?.stop();
  dir?.remove();
});

const [first, second] = [() => server.replicas[0]!.url, () => server.replicas[1]!.url];
const pemFile = (name: string, text: string) => writeTemp(dir.path, name, text);

describe('issuance', () => {
  it('a CSR asking for another CN, DNS and IP names, serverAuth and CA:TRUE gets only the token\'s identity, clientAuth and CA:FALSE', async () => {
    const key = pemFile('greedy.key', '');
    const csr = pemFile('greedy.csr', '');
    openssl([
      'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc', '-keyout', key, '-out', csr,
      '-subj', '/CN=ceo@example.com/O=Evil',
      '-addext', 'subjectAltName=DNS:evil.example.com,IP:10.0.0.1,email:ceo@example.com',
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'extendedKeyUsage=serverAuth',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    const res = await api(first(), '/v1/requests', {token: ann, json: {csr: openssl(['req', '-in', csr]).out, profile: 'client', lifetimeDays: 3650, deviceLabel: 'Ann\'s laptop'}});
    expect(res.status, res.text).toBe(201);
    const cert = res.json.certificate;
    expect(res.json.request).toMatchObject({status: 'issued', email: 'ann@example.com', profile: 'client', decidedBy: 'automatic', serial: cert.serial});
    expect(cert).toMatchObject({email: 'ann@example.com', status: 'valid', approvedBy: 'automatic', deviceLabel: 'Ann\'s laptop'});
    const text = openssl(['x509', '-noout', '-text'], {input: cert.pem}).out;
    expect(text).toContain('Subject: CN = ann@example.com\n');
    expect(text).toMatch(/X509v3 Subject Alternative Name: \n\s*email:ann@example\.com, URI:http:\/\/127\.0\.0\.1:\d+#100000000000000000001\n/);
    expect(text).not.toMatch(/evil|ceo@|10\.0\.0\.1|Evil/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\n\s*CA:FALSE/);
    expect(text).toMatch(/X509v3 Extended Key Usage: \n\s*TLS Web Client Authentication\n/);
    expect(text).toMatch(/X509v3 Key Usage: critical\n\s*Digital Signature\n/);
    expect(text).toContain(`URI:${server.url}/crl`);
    expect(text).toMatch(new RegExp(`OCSP - URI:${server.url}/ocsp\\n\\s*CA Issuers - URI:${server.url}/ca.crt`));
    // Capped by the profile (90 days), whatever was asked.
    expect(new Date(cert.notAfter).getTime() - new Date(cert.notBefore).getTime()).toBe(90 * 86_400_000 - 1000);
    expect(openssl(['verify', '-CAfile', server.caCert, pemFile('ann.pem', cert.pem)]).out).toContain('OK');
    expect(cert.chainPem).toBe((await api(second(), '/ca.pem')).text);
    // The certificate is returned only once its row is committed: the other replica sees it at once.
    expect((await api(second(), `/v1/certificates/${cert.serial}`, {token: ann})).json.pem).toBe(cert.pem);
  });

  it('refuses weak keys, a CSR whose signature does not verify, and unknown profiles, before any serial is used', async () => {
    const before = {issued: await issuedCount(server), reserved: await server.sql("select count(*) from certificates where status = 'reserved'"), refused: await auditCount(server, 'certificate.refused')};
    const weak = async (args: string[]) => {
      const k = pemFile('weak.key', '');
      const c = pemFile('weak.csr', '');
      openssl(['req', '-new', ...args, '-noenc', '-keyout', k, '-out', c, '-subj', '/CN=ann@example.com']);
      return api(first(), '/v1/requests', {token: ann, json: {csr: openssl(['req', '-in', c]).out}});
    };
    const rsa1024 = await weak(['-newkey', 'rsa:1024']);
    expect(rsa1024.status, rsa1024.text).toBe(403);
    expect(rsa1024.json.error).toMatchObject({code: 'key_refused', message: expect.stringContaining('weak RSA-1024 key')});
    const p192 = await weak(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime192v1']);
    expect(p192.status, p192.text).toBe(403);
    expect(p192.json.error).toMatchObject({code: 'key_refused', message: expect.stringContaining('weak EC prime192v1 key')});
    const {csr} = await newCsr('ann@example.com');
    const body = csr.split('\n');
    body[3] = body[3]!.replace(/[A-Za-z]/, (c) => (c === 'A' ? 'B' : 'A'));
    const tampered = await api(first(), '/v1/requests', {token: ann, json: {csr: body.join('\n')}});
    expect(tampered.status).toBe(400);
    expect(tampered.json.error.code).toBe('csr_invalid');
    const unknown = await api(first(), '/v1/requests', {token: ann, json: {csr, profile: 'nope'}});
    expect(unknown.json.error).toMatchObject({code: 'profile_unknown', message: expect.stringContaining('profiles: client, vpn, server')});
    const extra = await api(first(), '/v1/requests', {token: ann, json: {csr, surprise: true}});
    expect(extra.json.error.message).toBe('body.surprise: unknown field');
    expect(await issuedCount(server)).toBe(before.issued);
    expect(await server.sql("select count(*) from certificates where status = 'reserved'")).toBe(before.reserved);
    expect(await auditCount(server, 'certificate.refused')).toBe(before.refused + 4);
  });

  it('a server certificate waits for an admin; only an admin approves or rejects; the requester then fetches it', async () => {
    const {csr} = await newCsr('ann@example.com');
    const res = await api(first(), '/v1/requests', {token: ann, json: {csr, profile: 'server', dns: ['build.example.com'], ip: ['10.1.2.3']}});
    expect(res.status, res.text).toBe(202);
    expect(res.json).toMatchObject({request: {status: 'pending', sans: ['dns:build.example.com', 'ip:10.1.2.3']}, certificate: null});
    const id = res.json.request.id;
    expect((await api(second(), '/v1/requests?status=pending', {token: admin})).json.requests.map((r: {id: string}) => r.id)).toContain(id);
    expect((await api(second(), '/v1/requests?status=pending', {token: bob})).json.requests).toEqual([]);
    const byAnn = await api(second(), `/v1/requests/${id}/approve`, {token: ann, method: 'POST'});
    expect(byAnn.status).toBe(403);
    expect(byAnn.json.error.code).toBe('not_admin');
    const approved = await api(second(), `/v1/requests/${id}/approve`, {token: admin, method: 'POST'});
    expect(approved.status, approved.text).toBe(200);
    const text = openssl(['x509', '-noout', '-text'], {input: approved.json.certificate.pem}).out;
    expect(text).toContain('Subject: CN = build.example.com');
    expect(text).toMatch(/DNS:build\.example\.com, IP Address:10\.1\.2\.3/);
    expect(text).not.toContain('ann@example.com');
    expect(text).toContain('TLS Web Server Authentication');
    const fetched = await api(first(), `/v1/requests/${id}`, {token: ann});
    expect(fetched.json).toMatchObject({request: {status: 'issued', decidedBy: 'pki-admin@example.com'}, certificate: {pem: approved.json.certificate.pem}});
    expect((await api(first(), `/v1/requests/${id}/approve`, {token: admin, method: 'POST'})).status).toBe(409);
    expect((await api(first(), `/v1/requests/${id}`, {token: bob})).status).toBe(404);

    const other = await api(first(), '/v1/requests', {token: bob, json: {csr: (await newCsr('bob@example.com')).csr, profile: 'server', dns: ['bob.example.com']}});
    const rejected = await api(first(), `/v1/requests/${other.json.request.id}/reject`, {token: admin, json: {reason: 'use the shared build host'}});
    expect(rejected.json.request).toMatchObject({status: 'rejected', reason: 'use the shared build host', decidedBy: 'pki-admin@example.com'});
  });

  it('lists: a person sees their own certificates, an admin everyone\'s', async () => {
    const bobCert = await api(first(), '/v1/requests', {token: bob, json: {csr: (await newCsr('bob@example.com')).csr, profile: 'vpn'}});
    expect(bobCert.status).toBe(201);
    const mine = (await api(second(), '/v1/certificates', {token: bob})).json.certificates;
    expect(mine.map((c: {email: string}) => c.email)).toEqual(['bob@example.com']);
    const all = (await api(second(), '/v1/certificates', {token: admin})).json.certificates;
    expect(new Set(all.map((c: {email: string}) => c.email))).toEqual(new Set(['ann@example.com', 'bob@example.com']));
    expect((await api(second(), '/v1/certificates?email=ann@example.com', {token: bob})).status).toBe(403);
    expect((await api(second(), `/v1/certificates/${bobCert.json.certificate.serial}`, {token: ann})).status).toBe(404);
  });
});

describe('renewal', () => {
  it('needs the old key\'s signature; the old certificate is revoked as superseded; a revoked one never renews', async () => {
    const old = await newCsr('ann@example.com');
    const issued = (await api(first(), '/v1/requests', {token: ann, json: {csr: old.csr, profile: 'vpn'}})).json.certificate;
    const next = await newCsr('ann@example.com');
    const fields = {server: 'pki-server', profile: 'vpn'};
    const forged = signRenewal(generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey, {renews: issued.serial, csrPem: next.csr, request: fields});
    const refused = await api(first(), `/v1/certificates/${issued.serial}/renew`, {token: ann, json: {csr: next.csr, signature: forged}});
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('renewal_signature_invalid');
    const byBob = await api(first(), `/v1/certificates/${issued.serial}/renew`, {token: bob, json: {csr: next.csr, signature: forged}});
    expect(byBob.status).toBe(404);
    const signature = signRenewal(old.privateKey, {renews: issued.serial, csrPem: next.csr, request: fields});
    const renewed = await api(second(), `/v1/certificates/${issued.serial}/renew`, {token: ann, json: {csr: next.csr, signature}});
    expect(renewed.status, renewed.text).toBe(201);
    expect(renewed.json.certificate).toMatchObject({renews: issued.serial, profile: 'vpn', status: 'valid'});
    const before = (await api(first(), `/v1/certificates/${issued.serial}`, {token: ann})).json;
    expect(before).toMatchObject({status: 'revoked', reason: 'superseded', supersededBy: renewed.json.certificate.serial});
    const again = await api(first(), `/v1/certificates/${issued.serial}/renew`, {token: ann, json: {csr: next.csr, signature}});
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({code: 'not_renewable', message: expect.stringContaining('never renewed')});
    const crl = openssl(['crl', '-inform', 'DER', '-noout', '-text'], {input: Buffer.from(await (await fetch(`${second()}/crl`)).arrayBuffer())}).out;
    expect(crl).toMatch(new RegExp(`Serial Number: ${issued.serial}\\n\\s*Revocation Date: .*\\n\\s*CRL entry extensions:\\n\\s*X509v3 CRL Reason Code: \\n\\s*Superseded`));
  });
});

describe('revocation, CRL and OCSP across replicas', () => {
  let good: {serial: string; pem: string};
  let lost: {serial: string; pem: string};
  beforeAll(async () => {
    good = (await api(first(), '/v1/requests', {token: bob, json: {csr: (await newCsr('bob@example.com')).csr}})).json.certificate;
    lost = (await api(first(), '/v1/requests', {token: bob, json: {csr: (await newCsr('bob@example.com')).csr, deviceLabel: 'old phone'}})).json.certificate;
  });

  it('revoke on one replica (the owner: a lost device); the other replica\'s CRL lists it with its reason, and openssl agrees', async () => {
    const byAnn = await api(first(), `/v1/certificates/${lost.serial}/revoke`, {token: ann, json: {reason: 'keyCompromise'}});
    expect(byAnn.status).toBe(404);
    const admOnly = await api(first(), `/v1/certificates/${lost.serial}/revoke`, {token: bob, json: {reason: 'cACompromise'}});
    expect(admOnly.json.error.code).toBe('reason_admin_only');
    const revoked = await api(first(), `/v1/certificates/${lost.serial}/revoke`, {token: bob, json: {reason: 'keyCompromise'}});
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.json).toMatchObject({certificate: {serial: lost.serial, status: 'revoked', reason: 'keyCompromise'}, crl: {revoked: expect.any(Number)}});
    expect((await api(first(), `/v1/certificates/${lost.serial}/revoke`, {token: bob, json: {reason: 'keyCompromise'}})).json.error.code).toBe('already_revoked');

    const res = await fetch(`${second()}/crl`);
    expect(res.headers.get('content-type')).toBe('application/pkix-crl');
    const der = pemFile('crl.der', '');
    writeFileSync(der, Buffer.from(await res.arrayBuffer()));
    const crlText = openssl(['crl', '-inform', 'DER', '-in', der, '-CAfile', server.caCert, '-noout', '-text']).out;
    expect(crlText).toMatch(new RegExp(`Serial Number: ${lost.serial}\\n\\s*Revocation Date: .*\\n\\s*CRL entry extensions:\\n\\s*X509v3 CRL Reason Code: \\n\\s*Key Compromise`));
    expect(crlText).toContain(`CRL Number: \n                ${revoked.json.crl.number}`);
    const verified = openssl(['crl', '-inform', 'DER', '-in', der, '-CAfile', server.caCert, '-noout'], {allowFailure: true});
    expect(verified.out).toContain('verify OK');
    const crlPem = pemFile('crl.pem', (await api(second(), '/crl.pem')).text);
    const check = openssl(['verify', '-crl_check', '-CAfile', server.caCert, '-CRLfile', crlPem, pemFile('lost.pem', lost.pem)], {allowFailure: true});
    expect(check.code).not.toBe(0);
    expect(check.out).toContain('certificate revoked');
    expect(openssl(['verify', '-crl_check', '-CAfile', server.caCert, '-CRLfile', crlPem, pemFile('good.pem', good.pem)]).out).toContain('OK');
    expect(await auditCount(server, 'certificate.revoked')).toBeGreaterThanOrEqual(1);
  });

  it('CRL numbers strictly increase across replicas (one writer at a time)', async () => {
    const numbers: bigint[] = [];
    for (const url of [first(), second(), first(), second()]) {
      const c = (await api(url, '/v1/requests', {token: bob, json: {csr: (await newCsr('bob@example.com')).csr}})).json.certificate;
      const r = await api(url === first() ? second() : first(), `/v1/certificates/${c.serial}/revoke`, {token: admin, json: {reason: 'affiliationChanged'}});
      numbers.push(BigInt(r.json.crl.number));
    }
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]! > numbers[i - 1]!).toBe(true);
    const all = (await server.sql('select number from crls order by created_at, number')).split('\n').map(BigInt);
    expect([...all].sort((a, b) => (a < b ? -1 : 1))).toEqual(all);
    expect(new Set(all).size).toBe(all.length);
  });

  it('openssl ocsp: good, revoked (time and reason) and unknown, nonce echoed, Response verify OK; over POST and GET', async () => {
    // A certificate this CA never issued (same issuer name and key hash, a serial not in the inventory).
    const serialUnknown = '0x4A' + 'BC'.repeat(15);
    const ca = server.caCert;
    const ocsp = (certFile: string | undefined, extra: string[] = []) =>
      openssl(['ocsp', '-issuer', ca, ...(certFile ? ['-cert', certFile] : ['-serial', serialUnknown]), '-url', `${second()}/ocsp`, '-CAfile', ca, '-resp_text', ...extra], {allowFailure: true});
    const goodRes = ocsp(pemFile('good.pem', good.pem));
    expect(goodRes.out).toContain('Response verify OK');
    expect(goodRes.out).toMatch(/good\.pem: good/);
    expect(goodRes.out).toMatch(/OCSP Nonce: \n\s*0410[0-9A-F]{32}/);
    expect(goodRes.out).toContain('Responder Id: ');
    expect(goodRes.out).toContain('OCSP Signing');
    const revokedRes = ocsp(pemFile('lost.pem', lost.pem));
    expect(revokedRes.out).toContain('Response verify OK');
    expect(revokedRes.out).toMatch(/lost\.pem: revoked\n\s*This Update: .*\n\s*Next Update: .*\n\s*Reason: keyCompromise\n\s*Revocation Time: /);
    const unknownRes = ocsp(undefined);
    expect(unknownRes.out).toContain('Response verify OK');
    expect(unknownRes.out).toMatch(/: unknown/);
    // The request's nonce is echoed: openssl checks it (no "WARNING: no nonce in response").
    expect(goodRes.out).not.toContain('no nonce');
    // RFC 5019 GET, cacheable.
    const req = pemFile('ocsp.req', '');
    openssl(['ocsp', '-issuer', ca, '-cert', pemFile('good.pem', good.pem), '-no_nonce', '-reqout', req]);
    const encoded = encodeURIComponent(readFileSync(req).toString('base64'));
    const got = await fetch(`${first()}/ocsp/${encoded}`);
    expect(got.headers.get('content-type')).toBe('application/ocsp-response');
    expect(got.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const respFile = pemFile('ocsp.resp', '');
    writeFileSync(respFile, Buffer.from(await got.arrayBuffer()));
    const parsed = openssl(['ocsp', '-respin', respFile, '-issuer', ca, '-cert', pemFile('good.pem', good.pem), '-CAfile', ca], {allowFailure: true});
    expect(parsed.out).toContain('Response verify OK');
    expect(parsed.out).toContain('good.pem: good');
    const garbage = await fetch(`${first()}/ocsp`, {method: 'POST', headers: {'content-type': 'application/ocsp-request'}, body: 'not DER'});
    expect(Buffer.from(await garbage.arrayBuffer()).toString('hex')).toBe('30030a0101');
  });

  it('the audit trail pages through every entry in sequence order (the Toolbox\'s audit page reads it so)', async () => {
    // More than nine entries, so that an order by the text of the sequence number would show.
    for (let i = 0; i < 10; i++) await login(oidc, server, 'bob@example.com');
    const total = Number((await server.sql('select count(*) from audit_log')).split('\n').find((l) => /^\s*\d+\s*$/.test(l)));
    expect(total).toBeGreaterThan(12);
    const seqs: number[] = [];
    let after = 0;
    for (let page = 0; page < 100; page++) {
      const r = await api(server.url, `/v1/admin/audit?after=${after}&limit=5`, {token: admin});
      expect(r.status, r.text).toBe(200);
      seqs.push(...r.json.entries.map((e: {seq: number}) => e.seq));
      if (r.json.next === null) break;
      after = r.json.next;
    }
    expect(seqs).toHaveLength(total);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(total);
  });

  it('per-identity rate limits are shared by the replicas', async () => {
    const {csr} = await newCsr('pki-admin@example.com');
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await api(i % 2 ? first() : second(), '/v1/requests', {token: admin, json: {csr}})).status);
    expect(statuses.filter((s) => s === 201).length).toBeLessThanOrEqual(25);
    const limited = await api(first(), '/v1/requests', {token: admin, json: {csr}});
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await auditCount(server, 'rate_limited')).toBeGreaterThanOrEqual(1);
  });
});

describe('the API document', () => {
  it('matches the committed openapi.json (an incompatible change fails)', async () => {
    const {checkOpenApi} = await import('@bcl/http-api');
    const doc = (await api(first(), '/v1/openapi.json')).json;
    const result = checkOpenApi(doc, new URL('../openapi.json', import.meta.url).pathname);
    expect(result.ok, result.message).toBe(true);
  });
});

