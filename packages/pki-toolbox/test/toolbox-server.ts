/**
 * A test server for the Toolbox's pages: Fastify with registerToolbox mounted, answering the PKI
 * server's API calls the pages make (same paths, bodies and error envelope as packages/pki-server)
 * by really issuing with @bcl/pki-ca from an openssl-made CA: real certificates and a real CRL, so
 * what the pages hand out can be checked with openssl and openvpn. Sign-in is a test hook: the
 * next GET /v1/auth/login signs in whoever `signInNext` names, or comes back refused.
 */
import {createPrivateKey, randomBytes, randomUUID, X509Certificate} from 'node:crypto';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import Fastify, {type FastifyReply, type FastifyRequest} from 'fastify';
import {buildCrl, buildLeafCertificate, type CrlReason, parseCsr, type Profile, verifyRenewal} from '@bcl/pki-ca';
import {freePort, run, tempDir} from '@bcl/testkit';
import {registerToolbox} from '../src/index.js';
import {ApiError, type CertificateRequest, type CertificateSummary, type VpnServer} from '../src/web/api.js';

export interface TestUser {
  email: string;
  name: string;
  admin?: boolean;
}

export interface TestCa {
  dir: string;
  certFile: string;
  certPem: string;
  keyPem: string;
  /** A server certificate for 127.0.0.1/localhost (the openvpn server's), signed by the CA. */
  server: {cert: string; key: string};
}

/** A CA made by openssl (P-256, 10 years) and a server certificate for the VPN server on loopback. */
export async function makeTestCa(): Promise<TestCa & {remove(): void}> {
  const dir = tempDir('bcl-toolbox-ca-');
  const d = dir.path;
  const f = (name: string) => join(d, name);
  writeFileSync(f('ca.cnf'), '[req]\ndistinguished_name=dn\n[dn]\n[ca]\nbasicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-subj', '/O=Example/CN=Example Test CA', '-days', '3650', '-config', f('ca.cnf'), '-extensions', 'ca']);
  const server = await vpnServerCertificate(d, f('ca.pem'), f('ca.key'));
  return {dir: d, certFile: f('ca.pem'), certPem: readFileSync(f('ca.pem'), 'utf8'), keyPem: readFileSync(f('ca.key'), 'utf8'), server, remove: dir.remove};
}

/** The VPN server's certificate (localhost, 127.0.0.1, serverAuth) signed by a CA's files with openssl. */
export async function vpnServerCertificate(dir: string, caCert: string, caKey: string): Promise<{cert: string; key: string}> {
  const f = (name: string) => join(dir, name);
  writeFileSync(f('server.ext'), 'basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost']);
  await run('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', caCert, '-CAkey', caKey, '-CAserial', f('server.srl'), '-CAcreateserial', '-days', '30', '-extfile', f('server.ext'), '-out', f('server.pem')]);
  return {cert: f('server.pem'), key: f('server.key')};
}

export type VpnServerEntry = VpnServer;

/** A certificate as the server keeps it: the API's summary, its PEM, and a revocation reason for the CRL. */
type Row = Omit<CertificateSummary, 'status' | 'reason'> & {status: 'valid' | 'revoked'; reason: CrlReason | null; pem: string};

/** A request as the server keeps it: the API's view and the certificate request it carries. */
type PendingRequest = CertificateRequest & {csr: string};

const PROFILES: Record<string, Profile & {approval: 'automatic' | 'admin'}> = {
  vpn: {keyUsage: ['digitalSignature'], extendedKeyUsage: ['clientAuth'], maxLifetimeDays: 90, sans: ['email'], allowedDnsSuffixes: [], groups: [], approval: 'automatic'},
  client: {keyUsage: ['digitalSignature'], extendedKeyUsage: ['clientAuth'], maxLifetimeDays: 365, sans: ['email'], allowedDnsSuffixes: [], groups: [], approval: 'automatic'},
  server: {keyUsage: ['digitalSignature', 'keyAgreement'], extendedKeyUsage: ['serverAuth'], maxLifetimeDays: 90, sans: ['dns'], allowedDnsSuffixes: ['.example.com'], groups: [], approval: 'admin'},
};

const ISSUER = 'https://accounts.example.test';
const DAY = 86_400_000;

export interface ToolboxTestServer {
  url: string;
  ca: TestCa;
  /** Who the next sign-in is: a user, or the code of a refusal as the PKI server gives it. */
  signInNext(who: TestUser | {refuse: string; message: string}): void;
  /** The current CRL (PEM), as relying parties fetch it from /crl.pem. */
  crlPem(): string;
  /** Every request body the server received, with its path. */
  bodies: {method: string; url: string; body: string}[];
  inventory(): Row[];
  /** A certificate issued directly (not through the pages), e.g. one made long ago that is about to expire. */
  seedCertificate(p: {user: TestUser; profile: string; deviceLabel: string; issuedDaysAgo: number; csr: string}): Promise<Row>;
  seedPendingRequest(p: {user: TestUser; profile: string; dns: string[]; csr: string}): PendingRequest;
  /** Ends every session, as their expiry or a sign-out elsewhere does. */
  endSessions(): void;
  stop(): Promise<void>;
}

export async function startToolboxTestServer(o: {ca: TestCa; vpnServers: VpnServerEntry[]; prefix?: string}): Promise<ToolboxTestServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const caKey = createPrivateKey(o.ca.keyPem);
  const issuer = {certPem: o.ca.certPem, key: caKey};
  const sessions = new Map<string, {user: TestUser; csrf: string; sub: string}>();
  const subs = new Map<string, string>();
  const rows: Row[] = [];
  const requests: PendingRequest[] = [];
  const audit: Record<string, unknown>[] = [];
  const bodies: ToolboxTestServer['bodies'] = [];
  let next: TestUser | {refuse: string; message: string} | undefined;
  let crl = {number: 0, pem: '', thisUpdate: new Date(), nextUpdate: new Date()};

  const record = (event: string, facts: Record<string, unknown>) => audit.push({seq: audit.length + 1, at: new Date().toISOString(), event, ...facts});
  const publishCrl = async () => {
    const now = new Date();
    const revoked = rows.filter((r) => r.status === 'revoked');
    crl = {
      number: crl.number + 1,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + DAY),
      pem: await buildCrl({issuer, number: crl.number + 1, thisUpdate: now, nextUpdate: new Date(now.getTime() + DAY), entries: revoked.map((r) => ({serial: r.serial, revokedAt: new Date(r.revokedAt!), reason: r.reason!}))}),
    };
  };
  const crlStatus = () => ({number: String(crl.number), thisUpdate: crl.thisUpdate.toISOString(), nextUpdate: crl.nextUpdate.toISOString(), revoked: rows.filter((r) => r.status === 'revoked').length});
  await publishCrl();

  const subOf = (email: string) => {
    if (!subs.has(email)) subs.set(email, String(100_000 + subs.size));
    return subs.get(email)!;
  };

  async function issue(p: {user: TestUser; csr: string; profile: string; deviceLabel: string | null; requestId: string | null; approvedBy: string; now?: Date; renews?: string | null}): Promise<Row> {
    const profile = PROFILES[p.profile];
    if (!profile) throw new ApiError(400, 'profile_unknown', `there is no profile ${p.profile}`);
    const csr = await parseCsr(p.csr, 'body.csr').catch((error: Error) => {
      throw new ApiError(400, 'csr_invalid', error.message);
    });
    const now = p.now ?? new Date();
    const leaf = await buildLeafCertificate({
      issuer,
      publicKey: csr.publicKey,
      profile,
      identity: {name: p.user.email, sans: [{type: 'email', value: p.user.email}, {type: 'uri', value: `${ISSUER}#${subOf(p.user.email)}`}]},
      revocation: {crlUrl: `${url}/crl.pem`},
      now,
    });
    const row: Row = {
      serial: leaf.serial,
      email: p.user.email,
      name: p.user.name,
      profile: p.profile,
      status: 'valid',
      notBefore: leaf.notBefore.toISOString(),
      notAfter: leaf.notAfter.toISOString(),
      issuedAt: now.toISOString(),
      requestId: p.requestId,
      deviceLabel: p.deviceLabel,
      approvedBy: p.approvedBy,
      revokedAt: null,
      reason: null,
      renews: p.renews ?? null,
      supersededBy: null,
      pem: leaf.pem,
    };
    rows.push(row);
    record('certificate_issued', {serial: row.serial, email: row.email, profile: row.profile, deviceLabel: row.deviceLabel});
    return row;
  }

  const view = (r: Row) => {
    const {pem: _pem, ...summary} = r;
    return {...summary, status: r.status === 'valid' && new Date(r.notAfter) < new Date() ? 'expired' : r.status};
  };
  const full = (r: Row) => ({...view(r), pem: r.pem, chainPem: o.ca.certPem, sha256Fingerprint: new X509Certificate(r.pem).fingerprint256});
  const requestView = (q: PendingRequest) => {
    const {csr: _csr, ...rest} = q;
    return rest;
  };

  const app = Fastify({logger: false, bodyLimit: 1024 * 1024});
  app.addHook('preHandler', async (request) => {
    if (request.method !== 'GET') bodies.push({method: request.method, url: request.url, body: typeof request.body === 'string' ? request.body : JSON.stringify(request.body ?? null)});
  });
  app.setErrorHandler((error: Error & {statusCode?: number}, _request, reply) => {
    if (error instanceof ApiError) return reply.code(error.status).send({error: {code: error.code, message: error.message, ...(error.hint ? {hint: error.hint} : {})}});
    return reply.code(error.statusCode ?? 500).send({error: {code: 'internal', message: error.message}});
  });

  const cookieOf = (request: FastifyRequest) => /(?:^|;\s*)pki_session=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
  const caller = (request: FastifyRequest) => {
    const token = cookieOf(request);
    const session = token ? sessions.get(token) : undefined;
    if (!session) throw new ApiError(401, 'not_signed_in', 'sign in first: run `pkictl login`, or open the PKI Toolbox');
    if (request.method !== 'GET' && request.headers['x-csrf-token'] !== session.csrf) {
      throw new ApiError(403, 'csrf_token_invalid', 'this change must carry the X-CSRF-Token of your session (GET /v1/session)', 'Reload the page and try again.');
    }
    if (request.method !== 'GET' && request.headers.origin !== undefined && request.headers.origin !== url) throw new ApiError(403, 'origin_refused', `requests from ${request.headers.origin} may not change anything here`);
    return session.user;
  };
  const adminOnly = (request: FastifyRequest) => {
    const user = caller(request);
    if (!user.admin) throw new ApiError(403, 'not_admin', `${user.email} is not a PKI admin`);
    return user;
  };
  const owned = (request: FastifyRequest, serial: string) => {
    const user = caller(request);
    const row = rows.find((r) => r.serial === serial.replace(/:/g, '').toUpperCase());
    if (!row || (row.email !== user.email && !user.admin)) throw new ApiError(404, 'certificate_unknown', `no certificate ${serial} of yours`);
    return {user, row};
  };

  await registerToolbox(app, o.prefix ? {prefix: o.prefix} : {});

  app.get('/v1/auth/login', async (request: FastifyRequest<{Querystring: {returnTo?: string}}>, reply: FastifyReply) => {
    const returnTo = /^\/(?![/\\])/.test(request.query.returnTo ?? '') ? request.query.returnTo! : '/';
    const who = next;
    next = undefined;
    if (!who) return reply.redirect(`${returnTo}?${new URLSearchParams({loginError: 'provider_refused', loginMessage: 'Sign-in was cancelled or refused.'})}`, 302);
    if ('refuse' in who) {
      record('login_refused', {code: who.refuse});
      return reply.redirect(`${returnTo}?${new URLSearchParams({loginError: who.refuse, loginMessage: who.message})}`, 302);
    }
    const token = randomBytes(24).toString('base64url');
    sessions.set(token, {user: who, csrf: randomBytes(24).toString('base64url'), sub: subOf(who.email)});
    record('login', {email: who.email, kind: 'web'});
    return reply.header('set-cookie', `pki_session=${token}; Path=/; HttpOnly; SameSite=Lax`).redirect(returnTo, 302);
  });
  app.get('/v1/session', async (request) => {
    const user = caller(request);
    const token = cookieOf(request)!;
    return {user: {email: user.email, name: user.name, iss: ISSUER, sub: subOf(user.email), admin: user.admin ?? false, groups: []}, kind: 'web', expiresAt: new Date(Date.now() + 8 * 3600_000).toISOString(), csrfToken: sessions.get(token)!.csrf};
  });
  app.delete('/v1/session', async (request, reply) => {
    caller(request);
    sessions.delete(cookieOf(request)!);
    return reply.header('set-cookie', 'pki_session=; Path=/; Max-Age=0').code(204).send();
  });
  app.get('/v1/vpn-servers', async () => ({servers: o.vpnServers}));
  app.get('/crl.pem', async (_request, reply) => reply.type('application/pkix-crl').send(crl.pem));

  app.post('/v1/requests', async (request: FastifyRequest<{Body: {csr?: string; profile?: string; deviceLabel?: string}}>, reply) => {
    const user = caller(request);
    const body = request.body ?? {};
    const unknown = Object.keys(body).filter((k) => !['csr', 'profile', 'deviceLabel', 'lifetimeDays', 'dns', 'ip'].includes(k));
    if (unknown.length) throw new ApiError(400, 'invalid_request', `body.${unknown[0]}: unknown field`);
    if (typeof body.csr !== 'string' || !body.csr.includes('-----BEGIN CERTIFICATE REQUEST-----')) throw new ApiError(400, 'invalid_request', 'body.csr: expected a PEM certificate request');
    const profile = body.profile ?? 'client';
    const id = randomUUID().slice(0, 8);
    if (PROFILES[profile]?.approval === 'admin') {
      const pending = pendingOf({user, profile, dns: [], csr: body.csr, id, deviceLabel: body.deviceLabel ?? null});
      return reply.code(202).send({request: requestView(pending), certificate: null});
    }
    const row = await issue({user, csr: body.csr, profile, deviceLabel: body.deviceLabel ?? null, requestId: id, approvedBy: 'automatic'});
    return reply.code(201).send({request: {id, status: 'issued', email: user.email, name: user.name, profile, keyType: 'ecdsa-p256', requestedAt: row.issuedAt, lifetimeDays: null, sans: [], deviceLabel: row.deviceLabel, renews: null, serial: row.serial, decidedBy: 'automatic', decidedAt: row.issuedAt, reason: null}, certificate: full(row)});
  });

  const pendingOf = (p: {user: TestUser; profile: string; dns: string[]; csr: string; id?: string; deviceLabel?: string | null}): PendingRequest => {
    const q: PendingRequest = {
      id: p.id ?? randomUUID().slice(0, 8),
      status: 'pending',
      email: p.user.email,
      name: p.user.name,
      profile: p.profile,
      keyType: 'ecdsa-p256',
      requestedAt: new Date().toISOString(),
      lifetimeDays: null,
      sans: p.dns.map((d) => `dns:${d}`),
      deviceLabel: p.deviceLabel ?? null,
      renews: null,
      serial: null,
      decidedBy: null,
      decidedAt: null,
      reason: null,
      csr: p.csr,
    };
    requests.push(q);
    record('request_waiting', {id: q.id, email: q.email, profile: q.profile});
    return q;
  };

  app.get('/v1/certificates', async (request: FastifyRequest<{Querystring: {email?: string; status?: string}}>) => {
    const user = caller(request);
    const list = rows.map(view).filter((r) => (user.admin || r.email === user.email) && (!request.query.email || r.email === request.query.email) && (!request.query.status || r.status === request.query.status));
    return {certificates: list};
  });
  app.get('/v1/certificates/:serial', async (request: FastifyRequest<{Params: {serial: string}}>) => full(owned(request, request.params.serial).row));

  app.post('/v1/certificates/:serial/revoke', async (request: FastifyRequest<{Params: {serial: string}; Body: {reason?: CrlReason}}>) => {
    const {user, row} = owned(request, request.params.serial);
    if (row.status === 'revoked') throw new ApiError(409, 'already_revoked', `certificate ${row.serial} is already revoked`);
    row.status = 'revoked';
    row.revokedAt = new Date().toISOString();
    row.reason = request.body?.reason ?? 'unspecified';
    record('certificate_revoked', {serial: row.serial, by: user.email, reason: row.reason});
    await publishCrl();
    return {certificate: view(row), crl: crlStatus()};
  });

  app.post('/v1/certificates/:serial/renew', async (request: FastifyRequest<{Params: {serial: string}; Body: {csr: string; signature: string; deviceLabel?: string}}>, reply) => {
    const {user, row} = owned(request, request.params.serial);
    if (row.status !== 'valid') throw new ApiError(409, 'certificate_unusable', `certificate ${row.serial} is ${row.status}: it cannot be renewed`);
    const body = request.body;
    try {
      verifyRenewal({
        certificatePem: row.pem,
        claim: {renews: row.serial, csrPem: body.csr, request: {server: 'pki-server', profile: row.profile, ...(body.deviceLabel ? {deviceLabel: body.deviceLabel} : {})}},
        signature: body.signature,
        where: `the renewal of ${row.serial}`,
      });
    } catch (error) {
      throw new ApiError(403, (error as {code?: string}).code ?? 'renewal_signature_invalid', (error as Error).message);
    }
    const renewed = await issue({user: {email: row.email, name: row.name}, csr: body.csr, profile: row.profile, deviceLabel: body.deviceLabel ?? row.deviceLabel, requestId: null, approvedBy: 'automatic', renews: row.serial});
    row.status = 'revoked';
    row.reason = 'superseded';
    row.revokedAt = new Date().toISOString();
    row.supersededBy = renewed.serial;
    await publishCrl();
    return reply.code(201).send({request: {id: randomUUID().slice(0, 8), status: 'issued', email: row.email, name: row.name, profile: row.profile, keyType: 'ecdsa-p256', requestedAt: renewed.issuedAt, lifetimeDays: null, sans: [], deviceLabel: renewed.deviceLabel, renews: row.serial, serial: renewed.serial, decidedBy: 'automatic', decidedAt: renewed.issuedAt, reason: null}, certificate: full(renewed)});
  });

  app.get('/v1/requests', async (request: FastifyRequest<{Querystring: {status?: string}}>) => {
    const user = caller(request);
    const status = request.query.status ?? 'pending';
    return {requests: requests.filter((q) => (user.admin || q.email === user.email) && (status === 'all' || q.status === status)).map(requestView)};
  });
  app.post('/v1/requests/:id/approve', async (request: FastifyRequest<{Params: {id: string}}>) => {
    const admin = adminOnly(request);
    const q = requests.find((r) => r.id === request.params.id && r.status === 'pending');
    if (!q) throw new ApiError(404, 'request_unknown', `no waiting request ${request.params.id}`);
    const row = await issue({user: {email: q.email, name: q.name}, csr: q.csr, profile: q.profile, deviceLabel: q.deviceLabel, requestId: q.id, approvedBy: admin.email});
    Object.assign(q, {status: 'issued', serial: row.serial, decidedBy: admin.email, decidedAt: new Date().toISOString()});
    record('request_approved', {id: q.id, by: admin.email, serial: row.serial});
    return {request: requestView(q), certificate: full(row)};
  });
  app.post('/v1/requests/:id/reject', async (request: FastifyRequest<{Params: {id: string}; Body: {reason: string}}>) => {
    const admin = adminOnly(request);
    const q = requests.find((r) => r.id === request.params.id && r.status === 'pending');
    if (!q) throw new ApiError(404, 'request_unknown', `no waiting request ${request.params.id}`);
    Object.assign(q, {status: 'rejected', decidedBy: admin.email, decidedAt: new Date().toISOString(), reason: request.body.reason});
    record('request_rejected', {id: q.id, by: admin.email, reason: q.reason});
    return {request: requestView(q)};
  });
  app.get('/v1/admin/status', async (request) => {
    adminOnly(request);
    const views = rows.map(view);
    return {
      crl: crlStatus(),
      ocsp: null,
      policy: {version: 1, sha256: '0'.repeat(64), setAt: new Date(Date.now() - 30 * DAY).toISOString(), setBy: 'ann@example.com', source: 'test'},
      counts: {valid: views.filter((r) => r.status === 'valid').length, revoked: views.filter((r) => r.status === 'revoked').length, expired: views.filter((r) => r.status === 'expired').length, pending: requests.filter((q) => q.status === 'pending').length},
    };
  });
  app.get('/v1/admin/audit', async (request: FastifyRequest<{Querystring: {after?: string; limit?: string}}>) => {
    adminOnly(request);
    const after = Number(request.query.after ?? 0);
    const limit = Number(request.query.limit ?? 100);
    const page = audit.filter((e) => (e.seq as number) > after).slice(0, limit);
    const last = page.at(-1)?.seq as number | undefined;
    return {entries: page, next: last !== undefined && audit.some((e) => (e.seq as number) > last) ? last : null};
  });

  await app.listen({host: '127.0.0.1', port});
  return {
    url,
    ca: o.ca,
    signInNext: (who) => void (next = who),
    crlPem: () => crl.pem,
    bodies,
    inventory: () => rows,
    seedCertificate: async (p) => issue({user: p.user, csr: p.csr, profile: p.profile, deviceLabel: p.deviceLabel, requestId: null, approvedBy: 'automatic', now: new Date(Date.now() - p.issuedDaysAgo * DAY)}),
    seedPendingRequest: (p) => pendingOf(p),
    endSessions: () => sessions.clear(),
    stop: () => app.close(),
  };
}
