// The database from the operator's side, through the real launcher: the `database` section and
// its refusals, `db migrate`, and `db import` moving a single node's files (ledger, revocations,
// KRL version, rotated CA keyring, TOTP enrolment, audit trail) into PostgreSQL, after which a
// replica on the database serves what the files held.
import {execFileSync} from 'node:child_process';
import {chmodSync, existsSync, readFileSync, writeFileSync} from 'node:fs';
import {request as httpsRequest} from 'node:https';
import {join} from 'node:path';
import {
  createOpensslPki,
  type CsshAuthz,
  type IssuedX509,
  type OpensslPki,
  type PostgresServer,
  repoRoot,
  runCli,
  serveCsshAuthz,
  startCsshAuthz,
  startPostgres,
  startTcpProxy,
  tempDir,
  waitFor,
} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

const bin = join(repoRoot, 'bin', 'cssh-authz');
const RULES = 'groups:\n  sre: [ann@example.com]\nhostGroups:\n  all: ["*"]\ngrants:\n  - {group: sre, hosts: all, principals: [ops]}\nadmins: [sre]\n';

let pg: PostgresServer;
let pki: OpensslPki;
let ann: IssuedX509;
let single: CsshAuthz;
const work = tempDir('cssh-db-cli-');
const APP_PASSWORD = 'app-password-never-shown';

beforeAll(async () => {
  [pg, pki] = await Promise.all([startPostgres(), createOpensslPki('DB CLI PKI')]);
  ann = await pki.issueClient({email: 'ann@example.com'});
  single = await startCsshAuthz({pki, rules: RULES, secretsKey: true});
  await pg.psql("create database cssh; create database cssh_fresh; create role cssh_run login password 'x'");
}, 120_000);

afterAll(async () => {
  await single?.stop();
  await pg?.stop();
  pki?.remove();
  work.remove();
});

const urlOf = (db: string, role = `postgres:${encodeURIComponent(pg.password)}`) => `postgres://${role}@127.0.0.1:${pg.port}/${db}`;

/** A configuration beside the single node's (same CA key, rules, TLS, secrets key), on a database. */
function databaseConfig(name: string, database: string[]): string {
  const text = readFileSync(single.configFile, 'utf8').replace('stateDir: state\nauditLog: audit.jsonl\n', `${database.join('\n')}\n`);
  const file = join(single.dir, name);
  writeFileSync(file, text);
  return file;
}
const cli = (args: string[], env: Record<string, string> = {}) => runCli(bin, args, {env: {...process.env, ...env} as Record<string, string>, timeoutMs: 60_000});

describe('the database section', () => {
  it('refuses, with exit 3 naming the key, a database section that is ambiguous or beside a state directory, a readable URL file and an unset variable', async () => {
    const both = join(single.dir, 'both.yaml');
    writeFileSync(both, `${readFileSync(single.configFile, 'utf8')}database:\n  urlEnv: CSSH_DB\n`);
    const mixed = await cli(['check', '--config', both]);
    expect(mixed.exitCode).toBe(3);
    expect(mixed.stderr).toMatch(/both\.yaml:\d+:\d+: stateDir: not used with database/);
    expect(mixed.stderr).toMatch(/auditLog: not used with database/);

    const two = databaseConfig('two.yaml', ['database:', '  urlEnv: CSSH_DB', '  urlFile: db-url']);
    expect((await cli(['check', '--config', two])).stderr).toMatch(/two\.yaml:\d+:\d+: database: give exactly one of urlFile .* or urlEnv/);

    writeFileSync(join(single.dir, 'db-url'), `${urlOf('cssh')}\n`, {mode: 0o644});
    chmodSync(join(single.dir, 'db-url'), 0o644);
    const readable = await cli(['check', '--config', databaseConfig('readable.yaml', ['database:', '  urlFile: db-url'])]);
    expect(readable.exitCode).toBe(3);
    expect(readable.stderr).toContain('database.urlFile: ');
    expect(readable.stderr).toContain('holds a password and must not be readable by others (mode 644); chmod 600 it');
    expect(readable.stderr).not.toContain(pg.password);

    // A single node's check reads its state directory and creates nothing.
    const fresh = join(single.dir, 'fresh.yaml');
    writeFileSync(fresh, readFileSync(single.configFile, 'utf8').replace('stateDir: state\n', 'stateDir: not-yet\n'));
    const files = await cli(['check', '--config', fresh]);
    expect(files.exitCode, files.stderr).toBe(0);
    expect(files.stdout).toContain(`  state: state directory ${join(single.dir, 'not-yet')}\n`);
    expect(existsSync(join(single.dir, 'not-yet'))).toBe(false);

    const unset = await cli(['check', '--config', databaseConfig('env.yaml', ['database:', '  urlEnv: CSSH_TEST_UNSET_DB'])]);
    expect(unset.exitCode).toBe(3);
    expect(unset.stderr).toContain('database.urlEnv: the environment variable CSSH_TEST_UNSET_DB is not set');
  });

  it('serve refuses a database without the schema (exit 6, naming db migrate) and one it cannot reach (exit 5), never showing the password', async () => {
    const file = databaseConfig('env.yaml', ['database:', '  urlEnv: CSSH_TEST_DB']);
    const fresh = await cli(['serve', '--config', file], {CSSH_TEST_DB: urlOf('cssh_fresh')});
    expect(fresh.exitCode).toBe(6);
    expect(fresh.stderr).toContain(`database postgres://postgres@127.0.0.1:${pg.port}/cssh_fresh: has no cssh-authz schema yet; run cssh-authz db migrate --config <file> first`);
    const down = await cli(['serve', '--config', file], {CSSH_TEST_DB: `postgres://cssh:${APP_PASSWORD}@127.0.0.1:1/cssh`});
    expect(down.exitCode).toBe(5);
    expect(down.stderr).toMatch(/database postgres:\/\/cssh@127\.0\.0\.1:1\/cssh: cannot connect/);
    expect(down.stderr).not.toContain(APP_PASSWORD);
    const notUrl = await cli(['check', '--config', file], {CSSH_TEST_DB: 'host=127.0.0.1 password=hunter2'});
    expect(notUrl.exitCode).toBe(3);
    expect(notUrl.stderr).toContain('expected a connection string postgres://user:password@host:port/database (the value is not shown');
    expect(notUrl.stderr).not.toContain('hunter2');
  });
});

describe('moving a single node into the database', () => {
  it('db migrate as the owner sets up the schema and the role; db import moves every part of the state; a replica serves it', async () => {
    // The single node's history: certificates, a revocation, a CA rotation, a TOTP enrolment.
    const keys = [0, 1, 2].map((i) => {
      const path = join(work.path, `id-${i}`);
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path]);
      return readFileSync(`${path}.pub`, 'utf8').trim();
    });
    const issued = [];
    for (const publicKey of keys) {
      const res = await single.request('/v1/certificates', {json: {publicKey, ttl: '1h'}, client: ann});
      expect(res.status, res.text).toBe(201);
      issued.push(res.json as {serial: string});
    }
    expect((await single.request('/v1/revoke', {json: {serial: issued[0]!.serial}, client: ann})).json.krlVersion).toBe(1);
    const rotated = await cli(['ca', 'rotate', '--config', single.configFile, '--overlap', '1h']);
    expect(rotated.exitCode, rotated.stderr).toBe(0);
    const enrolled = await single.request('/v1/mfa/totp', {json: {}, client: ann});
    expect(enrolled.status, enrolled.text).toBe(201);
    const caBefore = (await single.get('/v1/ca.pub')).body.toString();
    expect(caBefore.trim().split('\n')).toHaveLength(2);
    const fileAudit = single.audit();
    await single.replicas[0]!.stop();

    // The database: migrated by its owner, used by a role of its own.
    writeFileSync(join(single.dir, 'owner-url'), `${urlOf('cssh')}\n`, {mode: 0o600});
    writeFileSync(join(single.dir, 'app-url'), `${urlOf('cssh', `cssh_run:${APP_PASSWORD}`)}\n`, {mode: 0o600});
    const config = databaseConfig('replicas.yaml', ['database:', '  urlFile: app-url']);
    const migrated = await cli(['db', 'migrate', '--config', config, '--owner-url-file', join(single.dir, 'owner-url'), '--json']);
    expect(migrated.exitCode, migrated.stderr).toBe(0);
    expect(JSON.parse(migrated.stdout)).toEqual({database: `postgres://cssh_run@127.0.0.1:${pg.port}/cssh`, applied: ['0001-state', '0002-audit', '0003-crl-numbers'], applicationRole: 'cssh_run'});
    expect((await cli(['db', 'migrate', '--config', config, '--owner-url-file', join(single.dir, 'owner-url')])).stdout).toBe(`postgres://cssh_run@127.0.0.1:${pg.port}/cssh: the schema is current; role cssh_run may use exactly what cssh-authz needs\n`);

    const checked = await cli(['check', '--config', config]);
    expect(checked.exitCode, checked.stderr).toBe(0);
    expect(checked.stdout).toContain(`  state: database postgres://cssh_run@127.0.0.1:${pg.port}/cssh\n`);

    const moved = await cli(['db', 'import', '--config', config, '--from-state', single.stateDir, '--from-audit-log', single.auditLog, '--json']);
    expect(moved.exitCode, moved.stderr).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({certificates: 3, revocations: 1, krlVersion: 1, keyringVersion: 1, totpEnrolments: 1, crlIssuers: 1, auditEvents: fileAudit.length + 1});
    const again = await cli(['db', 'import', '--config', config, '--from-state', single.stateDir, '--from-audit-log', single.auditLog]);
    expect(again.exitCode).toBe(6);
    expect(again.stderr).toMatch(/already holds cssh-authz state \(krl: 1, keyring: 1, serials: 3, totp: 1, audit: \d+\); import into a database that no replica has used yet/);

    const replica = await serveCsshAuthz(config);
    try {
      // The harness's request() goes to the stopped node: these go to the replica.
      const base = replica.url;
      const req = async (path: string, json?: unknown) => {
        const {request} = await import('node:https');
        return new Promise<{status: number; body: Buffer}>((resolve, reject) => {
          const r = request(`${base}${path}`, {method: json ? 'POST' : 'GET', ca: readFileSync(pki.caCert), cert: readFileSync(ann.cert), key: readFileSync(ann.key), agent: false, headers: json ? {'content-type': 'application/json'} : {}}, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({status: res.statusCode ?? 0, body: Buffer.concat(chunks)}));
          });
          r.on('error', reject);
          r.end(json ? JSON.stringify(json) : undefined);
        });
      };
      // The same CA keys (the rotated one signs), the same KRL, the same ledger.
      expect((await req('/v1/ca.pub')).body.toString()).toBe(caBefore);
      const krl = join(work.path, 'krl');
      writeFileSync(krl, (await req('/v1/krl')).body);
      expect(execFileSync('ssh-keygen', ['-Q', '-l', '-f', krl], {encoding: 'utf8'})).toMatch(new RegExp(`KRL version 1\\b[\\s\\S]*serial: ${issued[0]!.serial}`));
      const revoked = JSON.parse((await req('/v1/revoke', {serial: issued[1]!.serial})).body.toString());
      expect(revoked).toEqual({revoked: [issued[1]!.serial], alreadyRevoked: [], krlVersion: 2});
      expect(JSON.parse((await req('/v1/revoke', {serial: issued[0]!.serial})).body.toString())).toMatchObject({alreadyRevoked: [issued[0]!.serial]});
      // The TOTP secret moved sealed and still opens: oathtool's code confirms the enrolment.
      const secret = (enrolled.json as {secret: string}).secret;
      const code = execFileSync('oathtool', ['--totp', '--base32', secret], {encoding: 'utf8'}).trim();
      const confirmed = await req('/v1/mfa/totp/confirm', {code});
      expect(confirmed.status, confirmed.body.toString()).toBe(200);
      // The audit trail: the file's events in their order, then the import, then the replica's own.
      const out = await pg.psql('select line from cssh_audit order by seq', {user: pg.user, password: pg.password, database: 'cssh'});
      const lines = out.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.slice(0, fileAudit.length).map((l) => [l.event, l.time])).toEqual(fileAudit.map((l) => [l.event, l.time]));
      expect(lines[fileAudit.length]).toMatchObject({event: 'state.imported', stateDir: single.stateDir, certificates: 3});
      expect(lines.slice(fileAudit.length + 1).map((l) => l.event)).toEqual(['certificate.revoked', 'certificate.revoked', 'totp.confirmed']);
    } finally {
      await replica.stop();
    }
  });
});

describe('a replica whose database goes away', () => {
  it('answers 503 and issues nothing while the database cannot be reached, and issues again once it is back', async () => {
    // After the import above: the schema and the role exist. The replica reaches PostgreSQL through a proxy the test can cut.
    const proxy = await startTcpProxy({target: {port: pg.port}});
    writeFileSync(join(single.dir, 'proxied-url'), `${urlOf('cssh', `cssh_run:${APP_PASSWORD}`).replace(`:${pg.port}/`, `:${proxy.port}/`)}\n`, {mode: 0o600});
    const replica = await serveCsshAuthz(databaseConfig('proxied.yaml', ['database:', '  urlFile: proxied-url']));
    const key = join(work.path, 'id-proxied');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const publicKey = readFileSync(`${key}.pub`, 'utf8').trim();
    const issue = () =>
      new Promise<{status: number; body: {error?: {code: string; message: string}; serial?: string}}>((resolve, reject) => {
        const r = httpsRequest(`${replica.url}/v1/certificates`, {method: 'POST', ca: readFileSync(pki.caCert), cert: readFileSync(ann.cert), key: readFileSync(ann.key), agent: false, headers: {'content-type': 'application/json'}}, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({status: res.statusCode ?? 0, body: JSON.parse(text)}));
        });
        r.on('error', reject);
        r.end(JSON.stringify({publicKey, ttl: '1h'}));
      });
    const ledger = async () => Number(await pg.psql('select count(*) from cssh_issued', {user: pg.user, password: pg.password, database: 'cssh'}));
    try {
      expect((await issue()).status).toBe(201);
      const before = await ledger();
      proxy.refuse();
      proxy.cut();
      const refused = await issue();
      expect(refused).toEqual({status: 503, body: {error: {code: 'unavailable', message: 'the service cannot reach its database right now; try again shortly'}}});
      expect(replica.log()).not.toContain(APP_PASSWORD);
      proxy.accept();
      await waitFor('issuance to work again', async () => (await issue()).status === 201, {timeoutMs: 20_000, intervalMs: 500});
      expect(await ledger()).toBe(before + 1);
    } finally {
      await replica.stop();
      await proxy.stop();
    }
  });
});
