// Several server processes on one PostgreSQL: three started at once on an empty database migrate
// it once; two processes issuing 200 certificates each at once, with the serial space forced tiny,
// never reuse a serial and never hand out a certificate whose row is not committed.
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {type OidcProvider, type PkiServer, type PostgresServer, startOidcProvider, startPkiServer, startPostgres} from '@bcl/testkit';
import {api, issuedCount, login, newCsr} from './support.js';

let pg: PostgresServer;
let oidc: OidcProvider;

beforeAll(async () => {
  pg = await startPostgres();
  oidc = await startOidcProvider();
}, 120_000);

afterAll(async () => {
  await oidc?.stop();
  await pg?.stop();
});

describe('replicas', () => {
  it('three servers started at once on an empty database: the migrations run once, all three serve', async () => {
    const server = await startPkiServer({postgres: pg, oidc, replicas: 3});
    try {
      const migrated = server.replicas.filter((r) => /listening on \S+ \(migrated: 0001-pki, 0002-audit, 0003-assert\)/.test(r.log()));
      expect(migrated).toHaveLength(1);
      expect(server.replicas.filter((r) => /listening on \S+\n/.test(r.log()))).toHaveLength(2);
      expect(await server.sql('select name from kysely_migration order by name')).toBe('0001-pki\n0002-audit\n0003-assert');
      // One policy version and one first CRL, however many replicas raced to make them.
      expect(await server.sql('select count(*) from policies')).toBe('1');
      expect(await server.sql('select count(*) from crls')).toBe('1');
      for (const r of server.replicas) expect((await api(r.url, '/v1/info')).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('two processes, 200 concurrent issuances each, in a 10-bit serial space: every serial unique, every certificate committed', async () => {
    const server: PkiServer = await startPkiServer({
      postgres: pg,
      oidc,
      replicas: 2,
      env: {PKI_SERVER_TEST_SERIAL_BITS: '10'},
      extraConfig: 'rateLimits:\n  perAddress: {max: 100000, window: 1m}\n  perIdentity: {max: 100000, window: 1m}\n',
    });
    try {
      expect(server.replicas[0]!.log()).toContain('PKI_SERVER_TEST_SERIAL_BITS=10');
      const tokens = await Promise.all(['ann@example.com', 'bob@example.com'].map((u) => login(oidc, server, u)));
      const csrs = await Promise.all(Array.from({length: 20}, (_, i) => newCsr(i % 2 ? 'bob@example.com' : 'ann@example.com')));
      const jobs = server.replicas.flatMap((replica) =>
        Array.from({length: 200}, (_, i) => async () => {
          const res = await api(replica.url, '/v1/requests', {token: tokens[i % 2]!, json: {csr: csrs[(i % 10) * 2 + (i % 2)]!.csr, profile: 'client'}});
          return {status: res.status, serial: res.json?.certificate?.serial as string, pem: res.json?.certificate?.pem as string, text: res.text};
        }),
      );
      const results = await Promise.all(jobs.map((job) => job()));
      const failed = results.filter((r) => r.status !== 201);
      expect(failed.map((f) => f.text).slice(0, 3)).toEqual([]);
      const serials = results.map((r) => r.serial);
      expect(new Set(serials).size).toBe(400);
      // All in the forced space: 400 of 1,024, drawn in blocks by two processes, cannot be unique
      // unless candidates that collided were dropped (each block of 16 collides with near certainty).
      for (const s of serials) expect(s).toMatch(/^40(00){13}[0-9A-F]{4}$/);
      // Every certificate handed out is a committed row with exactly that certificate.
      const rows = new Map(
        (await server.sql("select serial || ' ' || md5(pem) from certificates where status = 'valid' and profile = 'client'"))
          .split('\n')
          .map((l) => l.split(' ') as [string, string]),
      );
      expect(rows.size).toBe(400);
      const {createHash} = await import('node:crypto');
      for (const r of results) expect(rows.get(r.serial)).toBe(createHash('md5').update(r.pem).digest('hex'));
      expect(Number(await server.sql("select count(*) from audit_log where event = 'certificate.issued'"))).toBe(400);
      const issuedBy = new Set((await server.sql("select distinct line::jsonb->>'address' from audit_log where event = 'certificate.issued'")).split('\n'));
      expect(issuedBy.size).toBeGreaterThan(0);
    } finally {
      await server.stop();
    }
  }, 300_000);

  it('rate limits counted together under load: of 120 requests at once over two processes, exactly the limit passes', async () => {
    const server: PkiServer = await startPkiServer({
      postgres: pg,
      oidc,
      replicas: 2,
      extraConfig: 'rateLimits:\n  perAddress: {max: 60, window: 1h}\n  perIdentity: {max: 40, window: 1h}\n',
    });
    try {
      const token = await login(oidc, server, 'ann@example.com');
      const {csr} = await newCsr('ann@example.com');
      // Requests read in one turn of a replica's event loop are counted by one statement: each must still get its own place.
      const statuses = await Promise.all(Array.from({length: 120}, (_, i) => api(server.replicas[i % 2]!.url, '/v1/requests', {token, json: {csr, profile: 'client'}}).then((r) => r.status)));
      expect(statuses.filter((s) => s === 201)).toHaveLength(40);
      expect(statuses.filter((s) => s === 429)).toHaveLength(80);
      // A route checks the person before the address: the address counted the sign-in and the 40 let through.
      const sub = await server.sql("select sub from users where email = 'ann@example.com'");
      expect(await server.sql("select key || ' ' || count from rate_limits order by key")).toBe(`address:127.0.0.1 41\nidentity:${oidc.issuer}#${sub} 120`);
      // Per address, across routes and processes: 30 lists at once take places 42 to 71 of 60.
      const lists = await Promise.all(Array.from({length: 30}, (_, i) => api(server.replicas[i % 2]!.url, '/v1/certificates', {token}).then((r) => r.status)));
      expect(lists.filter((s) => s === 200)).toHaveLength(19);
      expect(lists.filter((s) => s === 429)).toHaveLength(11);
      expect(await issuedCount(server)).toBe(40);
    } finally {
      await server.stop();
    }
  }, 120_000);
});
