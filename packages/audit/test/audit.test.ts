// The audit log against a real PostgreSQL and real files, with two writer processes at once.
import {spawn} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {type Database, ensureApplicationRole, escapeLiteral, grantTables, migrateToLatest, openDatabase, sql} from '@bcl/postgres';
import {type PostgresServer, startPostgres, tempDir} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {auditMigration, canonicalJson, FileAuditLog, grantAuditAccess, PostgresAuditLog} from '../src/index.js';

const child = fileURLToPath(new URL('./audit-child.mjs', import.meta.url));
const dir = tempDir('bcl-audit-test-');
let pg: PostgresServer;
let owner: Database<any>;
let app: Database<any>;
let appUrl: string;

function writer(args: string[]): Promise<{code: number; lines: string[]; err: string}> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [child, ...args], {stdio: ['ignore', 'pipe', 'pipe']});
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({code: code ?? 1, lines: out.split('\n').filter(Boolean), err}));
  });
}

beforeAll(async () => {
  pg = await startPostgres();
  await pg.psql('create database audited');
  const ownerUrl = pg.url.replace(/\/postgres$/, '/audited');
  owner = openDatabase({url: ownerUrl});
  await migrateToLatest(owner.db, {
    migrations: {
      '0001-changes': {up: async (db) => void (await sql`create table changes (writer text not null, i int not null)`.execute(db))},
      '0002-audit': auditMigration(),
    },
  });
  await ensureApplicationRole(owner.db, {role: 'app', password: 'app-password'});
  await grantAuditAccess(owner.db, 'app');
  await grantTables(owner.db, 'app', {changes: ['SELECT', 'INSERT']});
  appUrl = ownerUrl.replace(`postgres:${encodeURIComponent(pg.password)}@`, 'app:app-password@');
  app = openDatabase({url: appUrl});
});

afterAll(async () => {
  await app?.close();
  await owner?.close();
  await pg?.stop();
  dir.remove();
});

describe('the PostgreSQL audit log', () => {
  it('two processes writing at once (as the application role) keep one valid chain, each entry committed with its change', async () => {
    const [a, b] = await Promise.all([writer(['pg', appUrl, '120', 'a']), writer(['pg', appUrl, '120', 'b'])]);
    expect([a.code, a.err, b.code, b.err]).toEqual([0, '', 0, '']);
    const audit = new PostgresAuditLog();
    const result = await audit.verify(app.db);
    expect(result).toMatchObject({ok: true, count: 240, problems: []});
    const changes = await sql<{n: number}>`select count(*)::int as n from changes`.execute(app.db);
    expect(changes.rows[0]!.n).toBe(240);
    // Each process emitted exactly its committed entries as JSON lines, the same bytes as stored.
    const emitted = [...a.lines, ...b.lines];
    expect(emitted).toHaveLength(240);
    const stored = await sql<{line: string}>`select line from audit_log order by seq`.execute(app.db);
    expect(new Set(emitted)).toEqual(new Set(stored.rows.map((r) => r.line)));
    expect(JSON.parse(stored.rows[0]!.line)).toMatchObject({seq: 1, event: 'thing.changed', prev: '0'.repeat(64), hash: expect.stringMatching(/^[0-9a-f]{64}$/)});
    expect(result.head).toBe(JSON.parse(stored.rows.at(-1)!.line).hash);
  });

  it('writes nothing when the transaction fails: no change, no entry, nothing emitted', async () => {
    const lines: string[] = [];
    const audit = new PostgresAuditLog({stream: {write: (l) => lines.push(l)}});
    const before = (await audit.verify(app.db)).count;
    await expect(
      audit.transaction(app.db, async (trx, record) => {
        await sql`insert into changes values ('failing', 1)`.execute(trx);
        await record({event: 'thing.changed', actor: 'x@example.com'});
        throw new Error('the change failed after its audit entry');
      }),
    ).rejects.toThrow('the change failed after its audit entry');
    expect((await audit.verify(app.db)).count).toBe(before);
    expect(lines).toEqual([]);
    const entry = await audit.record(app.db, {event: 'login.refused', actor: 'y@example.com', reason: 'hd'});
    expect(entry.seq).toBe(before + 1);
    expect(lines).toEqual([`${canonicalJson(entry)}\n`]);
  });

  it('appends many entries in one transaction as one run of the chain, between single ones', async () => {
    const audit = new PostgresAuditLog();
    const before = (await audit.verify(app.db)).count;
    const entries = await audit.transaction(app.db, async (trx) => {
      const batch = await audit.appendAll(trx, Array.from({length: 30}, (_, i) => ({event: 'thing.changed', actor: 'batch@example.com', i})));
      return [...batch, await audit.append(trx, {event: 'thing.changed', actor: 'single@example.com'})];
    });
    expect(entries.map((e) => e.seq)).toEqual(Array.from({length: 31}, (_, i) => before + 1 + i));
    expect(entries[1]!.prev).toBe(entries[0]!.hash);
    expect(await audit.appendAll(app.db, [])).toEqual([]);
    expect(await audit.verify(app.db)).toMatchObject({ok: true, count: before + 31});
  });

  it('commits a batch of statements and entries in one transaction of its own, or nothing of it', async () => {
    const lines: string[] = [];
    const audit = new PostgresAuditLog({stream: {write: (l) => lines.push(l)}});
    const before = (await audit.verify(app.db)).count;
    const client = await app.pool.connect();
    try {
      // Single appends of another connection at the same time keep one chain.
      const [entries] = await Promise.all([
        audit.commitBatch(client, `insert into changes values (${escapeLiteral("batch's")}, 1), ('batch', 2)`, [{event: 'thing.changed', i: 1}, {event: 'thing.changed', i: 2, note: "it's \\ here"}]),
        audit.record(app.db, {event: 'thing.changed', actor: 'single@example.com'}),
      ]);
      expect(entries.map((e) => e.event)).toEqual(['thing.changed', 'thing.changed']);
      expect(entries[1]!.prev).toBe(entries[0]!.hash);
      expect(lines).toHaveLength(3);
      const failed = await audit.commitBatch(client, "insert into changes values ('failing', 'not a number')", [{event: 'thing.changed', i: 3}]).catch((e: unknown) => e);
      expect(failed).toMatchObject({code: '22P02'});
      // The connection is usable again, and nothing of the failed batch was kept or emitted.
      expect(await audit.commitBatch(client, '', [])).toEqual([]);
    } finally {
      client.release();
    }
    expect(lines).toHaveLength(3);
    const changes = await sql<{writer: string}>`select writer from changes where writer like 'batch%' or writer = 'failing' order by i`.execute(app.db);
    expect(changes.rows.map((r) => r.writer)).toEqual(["batch's", 'batch']);
    const verified = await audit.verify(app.db);
    expect(verified).toMatchObject({ok: true, count: before + 3});
    const stored = await sql<{line: string}>`select line from audit_log order by seq desc limit 3`.execute(app.db);
    expect(stored.rows.map((r) => JSON.parse(r.line).note).filter(Boolean)).toEqual(["it's \\ here"]);
  });

  it('refuses UPDATE and DELETE: to the application role by grants, to the owner by the trigger', async () => {
    await expect(sql`update audit_log set event = 'x' where seq = 1`.execute(app.db)).rejects.toThrow('permission denied for table audit_log');
    await expect(sql`delete from audit_log where seq = 1`.execute(app.db)).rejects.toThrow('permission denied for table audit_log');
    await expect(sql`update audit_log set event = 'x' where seq = 1`.execute(owner.db)).rejects.toThrow('audit_log is append-only: UPDATE refused');
    await expect(sql`delete from audit_log where seq = 1`.execute(owner.db)).rejects.toThrow('audit_log is append-only: DELETE refused');
    await expect(sql`truncate audit_log`.execute(owner.db)).rejects.toThrow('audit_log is append-only: TRUNCATE refused');
  });

  it('finds an edited entry, a deleted one and a cut-off tail, even when triggers were bypassed', async () => {
    const audit = new PostgresAuditLog();
    const {head} = await audit.verify(owner.db);
    // A superuser can bypass triggers; the chain still tells.
    const tamper = (statement: string) => pg.psql(`set session_replication_role = replica; ${statement}`, {user: 'postgres', password: pg.password, database: 'audited'});
    // Entry 10 is writer a's or b's, whichever came first: change either.
    await tamper(`update audit_log set line = replace(line, '@example.com"', '@mallory.example"') where seq = 10`);
    await tamper('delete from audit_log where seq = 20');
    const broken = await audit.verify(owner.db);
    expect(broken.ok).toBe(false);
    expect(broken.problems.map((p) => [p.seq, p.problem])).toEqual(
      expect.arrayContaining([
        [10, 'its content does not match its hash: it was changed'],
        [21, 'expected entry 20 here: entries 20..20 are missing'],
        [21, "it does not follow the previous entry's hash: an entry before it was changed or removed"],
      ]),
    );
    const maxSeq = Number(await pg.psql('select max(seq) from audit_log', {user: 'postgres', password: pg.password, database: 'audited'}));
    await tamper(`delete from audit_log where seq = ${maxSeq}`);
    const cut = await audit.verify(owner.db, {expectedHead: head});
    expect(cut.problems.at(-1)!.problem).toMatch(/entries at the end were removed/);
  });
});

describe('the JSON-lines file audit log', () => {
  it('two processes appending to one file at once keep one valid chain', async () => {
    const file = join(dir.path, 'audit.jsonl');
    const [a, b] = await Promise.all([writer(['file', file, '150', 'a']), writer(['file', file, '150', 'b'])]);
    expect([a.code, a.err, b.code, b.err]).toEqual([0, '', 0, '']);
    const log = new FileAuditLog(file);
    expect(await log.verify()).toMatchObject({ok: true, count: 300, problems: []});
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(lines.map((l) => JSON.parse(l).seq)).toEqual(Array.from({length: 300}, (_, i) => i + 1));
    const next = await log.append({event: 'after', actor: 'c@example.com'});
    expect(next.seq).toBe(301);
    // An edited line is found.
    const edited = readFileSync(file, 'utf8').split('\n');
    edited[6] = canonicalJson({...JSON.parse(edited[6]!), actor: 'mallory@example.com'});
    writeFileSync(file, edited.join('\n'));
    const verdict = await log.verify();
    expect(verdict.ok).toBe(false);
    expect(verdict.problems[0]).toEqual({seq: 7, problem: 'its content does not match its hash: it was changed'});
  });

  it('refuses records that try to set the chain fields', async () => {
    const log = new FileAuditLog(join(dir.path, 'other.jsonl'));
    await expect(log.append({event: 'x', seq: 5})).rejects.toThrow('audit: seq are set by the log, not by the record (x)');
    expect(canonicalJson({b: 1, a: {d: [1, {f: 2, e: 1}], c: null}})).toBe('{"a":{"c":null,"d":[1,{"e":1,"f":2}]},"b":1}');
  });
});
