// The PostgreSQL store against a real PostgreSQL: the AuthzStore contract every store passes,
// then what only replicas need, with two stores on one database as two replicas would have
// them (each with its own pool and LISTEN connection), connected as the restricted role.
import {PostgresAuditLog} from '@bcl/audit';
import {openDatabase, sql} from '@bcl/postgres';
import {type PostgresServer, startPostgres, waitFor} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {CHANGE_POLL_MS, DatabaseError, PostgresStore} from '../src/store/postgres-store.js';
import {migrateDatabase} from '../src/store/schema.js';
import type {AuditEvent, IssuedRecord} from '../src/store/types.js';
import {storeContract} from './store-contract.js';

let pg: PostgresServer;
let databases = 0;

beforeAll(async () => {
  pg = await startPostgres();
}, 120_000);

afterAll(async () => {
  await pg?.stop();
});

/** A new database, migrated by the owner, and the URL of the role cssh-authz runs as. */
async function newDatabase(): Promise<{name: string; ownerUrl: string; appUrl: string}> {
  const name = `cssh_${++databases}`;
  await pg.psql(`create database ${name}`);
  const ownerUrl = pg.url.replace(/\/postgres$/, `/${name}`);
  const appUrl = ownerUrl.replace(`postgres:${encodeURIComponent(pg.password)}@`, 'cssh_app:app-secret@');
  await migrateDatabase({ownerUrl, applicationUrl: appUrl});
  return {name, ownerUrl, appUrl};
}

const auditLines = async (url: string) => {
  const database = openDatabase({url});
  try {
    const {rows} = await sql<{line: string}>`select line from cssh_audit order by seq`.execute(database.db);
    return rows.map((r) => JSON.parse(r.line) as AuditEvent);
  } finally {
    await database.close();
  }
};

storeContract('the PostgreSQL database', async () => {
  const {name, appUrl} = await newDatabase();
  return {
    store: await PostgresStore.open({url: appUrl}),
    reopen: () => PostgresStore.open({url: appUrl}),
    auditOf: () => auditLines(appUrl),
    async remove() {
      await pg.psql(`drop database ${name} with (force)`);
    },
  };
});

const NOW = new Date('2030-06-01T12:00:00Z');
const record = (serial: bigint, email = 'ann@example.com'): IssuedRecord => ({
  serial: serial.toString(),
  keyId: `${email}/${serial}`,
  email,
  principals: ['ops'],
  validAfter: NOW.toISOString(),
  validBefore: new Date(NOW.getTime() + 3600_000).toISOString(),
  issuedAt: NOW.toISOString(),
});
const event = (name: string, extra: Record<string, unknown> = {}): AuditEvent => ({time: NOW.toISOString(), event: name, ...extra});

describe('two replicas on one database', () => {
  let db: {name: string; ownerUrl: string; appUrl: string};
  let a: PostgresStore;
  let b: PostgresStore;

  beforeAll(async () => {
    db = await newDatabase();
    [a, b] = await Promise.all([PostgresStore.open({url: db.appUrl}), PostgresStore.open({url: db.appUrl})]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('issue under unique serials at once, each with its ledger row and one unbroken audit chain', async () => {
    const issue = (store: PostgresStore) => store.issue(async (serial) => ({record: record(serial), audit: event('certificate.issued', {serial: serial.toString()}), result: serial.toString()}));
    const serials = await Promise.all(Array.from({length: 300}, (_, i) => issue(i % 2 ? a : b)));
    expect(new Set(serials).size).toBe(300);
    expect(await a.countValid(NOW)).toBe(300);
    expect(await b.findIssued(serials[0]!, NOW)).toMatchObject({serial: serials[0]});
    const owner = openDatabase({url: db.ownerUrl});
    try {
      const verified = await new PostgresAuditLog({table: 'cssh_audit'}).verify(owner.db);
      expect(verified).toMatchObject({ok: true, count: 300});
    } finally {
      await owner.close();
    }
  });

  it('revoke in turn: KRL versions go up by one per change whichever replica writes, and the other serves it at once', async () => {
    const issued = await Promise.all(Array.from({length: 10}, () => a.issue(async (serial) => ({record: record(serial, 'bob@example.com'), audit: event('certificate.issued'), result: record(serial, 'bob@example.com')}))));
    const before = await b.krlVersion();
    const by = {email: 'admin@example.com', reason: 'test', at: NOW};
    const outcomes = await Promise.all(issued.map((r, i) => (i % 2 ? a : b).revoke([r], by, (o) => event('certificate.revoked', {...o}))));
    expect(outcomes.map((o) => o.krlVersion).sort((x, y) => x - y)).toEqual(Array.from({length: 10}, (_, i) => before + 1 + i));
    // The notification wakes the other replica long before its poll would.
    const last = Math.max(...outcomes.map((o) => o.krlVersion));
    const t0 = Date.now();
    await waitFor('replica B to serve the last KRL version', async () => (await b.krlVersion()) === last && (await a.krlVersion()) === last, {timeoutMs: CHANGE_POLL_MS + 500, intervalMs: 10});
    expect(Date.now() - t0).toBeLessThanOrEqual(CHANGE_POLL_MS + 500);
    const {version, revocations} = await a.revocations(NOW);
    expect(version).toBe(last);
    expect(revocations.filter((r) => r.email === 'bob@example.com')).toHaveLength(10);
    expect(await b.isRevoked(issued[3]!.serial)).toBe(true);
  });

  it('accept a TOTP step on one replica only, and change the keyring from one version only', async () => {
    const email = 'carl@example.com';
    await a.saveTotpEnrolment({email, sealedSecret: 'v1.a.b.c', state: 'active', createdAt: NOW.toISOString(), confirmedAt: NOW.toISOString(), lastStep: 10}, event('totp.enrolled'));
    for (const step of [11, 12, 13]) {
      const wins = await Promise.all([a, b, a, b].map((s) => s.useTotpStep(email, step, {activate: false, at: NOW}, event('totp.accepted', {step}))));
      expect(wins.filter(Boolean)).toHaveLength(1);
    }
    const {version} = await a.caKeyring();
    const key = {id: 'SHA256:x', publicKey: 'ssh-ed25519 AAAA', activatedAt: NOW.toISOString(), retiresAt: null, sealedPrivateKey: null};
    const replaced = await Promise.all([a.replaceCaKeyring(version, [key], event('ca.rotated')), b.replaceCaKeyring(version, [], event('ca.rotated'))]);
    expect(replaced.filter(Boolean)).toHaveLength(1);
    await waitFor('both replicas to read the new keyring', async () => (await a.caKeyring()).version === version + 1 && (await b.caKeyring()).version === version + 1, {timeoutMs: CHANGE_POLL_MS + 500, intervalMs: 10});
  });

  it('serve a revocation within the poll bound while notifications are lost, and listen again', async () => {
    const warnings: string[] = [];
    const c = await PostgresStore.open({url: db.appUrl, onWarning: (m) => warnings.push(m)});
    try {
      const issued = await a.issue(async (serial) => ({record: record(serial, 'dana@example.com'), audit: event('certificate.issued'), result: record(serial, 'dana@example.com')}));
      expect(await c.krlVersion()).toBe(await a.krlVersion());
      // The database ends every LISTEN connection (as a restart or a network cut would).
      await pg.psql(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'bcl-listen' and datname = '${db.name}'`);
      await waitFor('the lost connection to be noticed', () => warnings.some((w) => w.includes('learns of revocations by polling')), {timeoutMs: 5000});
      const {krlVersion} = await a.revoke([issued], {email: 'admin@example.com', reason: 'lost', at: NOW}, (o) => event('certificate.revoked', {...o}));
      const t0 = Date.now();
      await waitFor('replica C to serve the revocation by polling', async () => (await c.krlVersion()) === krlVersion, {timeoutMs: CHANGE_POLL_MS + 500, intervalMs: 20});
      expect(Date.now() - t0).toBeLessThanOrEqual(CHANGE_POLL_MS + 500);
      await waitFor('listening again', () => warnings.some((w) => w.includes('again')), {timeoutMs: 10_000});
    } finally {
      await c.close();
    }
  });

  it('run as a role that can only append to the ledger, the revocations and the audit trail', async () => {
    const app = openDatabase({url: db.appUrl});
    try {
      await expect(sql`update cssh_issued set email = 'mallory@example.com'`.execute(app.db)).rejects.toThrow(/permission denied/);
      await expect(sql`delete from cssh_revocation`.execute(app.db)).rejects.toThrow(/permission denied/);
      await expect(sql`delete from cssh_audit`.execute(app.db)).rejects.toThrow(/permission denied/);
      await expect(sql`create table mine (x int)`.execute(app.db)).rejects.toThrow(/permission denied/);
    } finally {
      await app.close();
    }
  });
});

describe('a database that is not ready', () => {
  it('refuses a schema that lacks migrations, naming the command; reports an unreachable server without its password', async () => {
    await pg.psql('create database cssh_empty');
    const url = pg.url.replace(/\/postgres$/, '/cssh_empty');
    const refused = await PostgresStore.open({url}).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DatabaseError);
    expect(refused).toMatchObject({kind: 'schema', message: expect.stringContaining('has no cssh-authz schema yet; run cssh-authz db migrate --config <file> first')});
    const down = await PostgresStore.open({url: `postgres://cssh_app:very-secret@127.0.0.1:1/cssh`}).catch((e: unknown) => e);
    expect(down).toMatchObject({kind: 'unavailable', message: expect.stringMatching(/^database postgres:\/\/cssh_app@127\.0\.0\.1:1\/cssh: cannot connect/)});
    expect((down as Error).message).not.toContain('very-secret');
  });
});
