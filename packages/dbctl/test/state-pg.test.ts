import {spawn} from 'node:child_process';
import {existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {type PostgresServer, repoRoot, runCli, startPostgres, tempDir, type TerraformEngine, terraformEngines, type TerraformKit, terraformKit, waitFor} from '@bcl/testkit';
import pgDriver from 'pg';
import {stringify} from 'yaml';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {dbctlRunner, homeWithConfig, shopSpec, Transcript, writeConfig} from './support.js';

// A team of DBAs on one instance: the state in Terraform's pg backend on a real PostgreSQL, two
// people (two HOMEs, so two work directories) sharing it, concurrent runs, a run killed mid-apply,
// and a state moved from local to pg. Every case runs once with terraform and once with OpenTofu.

interface PlanJson {
  noChanges: boolean;
  changes: {address: string; action: string}[];
}

const baseSpec = shopSpec;

describe.each(terraformEngines())('with $name', (engine: TerraformEngine) => {
  let pg: PostgresServer;
  let kit: TerraformKit;
  const transcript = new Transcript();
  const dir = tempDir('dbctl-pg-state-');
  const specFile = join(dir.path, 'db.yaml');
  let alice: ReturnType<typeof homeWithConfig>;
  let bob: ReturnType<typeof homeWithConfig>;
  let asAlice: ReturnType<typeof dbctlRunner>;
  let asBob: ReturnType<typeof dbctlRunner>;
  const pgBackend = {type: 'pg', connStrEnv: 'DBCTL_STATE_PG'};
  const settings = (backend: Record<string, unknown>) => ({
    terraform: {binary: engine.binary},
    backend,
    connections: {local: {engine: 'postgres', host: pg.host, port: pg.port, user: pg.user, passwordEnv: 'LOCAL_PG_PASSWORD', tls: 'disable'}},
  });
  const workDir = (home: {xdg: {state: string}}) => join(home.xdg.state, 'bcl', 'dbctl', 'work', 'shop');
  const roles = async (names: string[]) => pg.psql(`SELECT count(*) FROM pg_roles WHERE rolname IN (${names.map((n) => `'${n}'`).join(', ')})`);
  const writeSpec = (spec: object) => writeFileSync(specFile, stringify(spec));

  beforeAll(async () => {
    pg = await startPostgres();
    kit = await terraformKit(engine);
    transcript.remember(pg.password);
    await pg.psql('CREATE DATABASE tfstate');
    const env = {
      LOCAL_PG_PASSWORD: pg.password,
      // The state database's connection string: a secret, handed over by environment only.
      DBCTL_STATE_PG: `postgres://postgres:${encodeURIComponent(pg.password)}@127.0.0.1:${pg.port}/tfstate?sslmode=disable`,
      ...kit.env,
    };
    alice = homeWithConfig(settings({type: 'local'}), env);
    bob = homeWithConfig(settings(pgBackend), env);
    asAlice = dbctlRunner(alice, transcript);
    asBob = dbctlRunner(bob, transcript);
    writeSpec(baseSpec);
  });

  afterAll(async () => {
    const leaks = transcript.leakedSecrets([alice && join(alice.xdg.state, 'bcl'), bob && join(bob.xdg.state, 'bcl'), pg?.logFile].filter(Boolean) as string[]);
    await pg?.stop();
    alice?.remove();
    bob?.remove();
    dir.remove();
    expect(leaks).toEqual([]);
  });

  it('moves a state from local to pg with every resource; a plan afterwards shows no changes, for both DBAs', async () => {
    expect((await asAlice(['provision', '-f', specFile, '--yes'])).exitCode).toBe(0);
    const before = (await asAlice(['state', 'list', '-f', specFile, '--json'])).json<{result: {resources: {address: string; object: string}[]}}>().result.resources;
    expect(before.map((r) => r.object)).toEqual(expect.arrayContaining(['database shop', 'role app', 'role reporting', 'schema reporting']));

    writeConfig(alice.configFile, settings(pgBackend));
    const moved = await asAlice(['plan', '-f', specFile, '--json']);
    expect(moved.exitCode).toBe(6);
    expect(moved.json().error).toMatchObject({code: 'dbctl.backend_changed', hint: `Move the state first: dbctl state migrate -f ${specFile} --to pg`});
    const wrongTo = await asAlice(['state', 'migrate', '-f', specFile, '--to', 'gcs']);
    expect(wrongTo.exitCode).toBe(3);
    expect(wrongTo.stderr).toContain('--to gcs: dbctl.backend is pg');

    const res = await asAlice(['state', 'migrate', '-f', specFile, '--to', 'pg', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.json().result).toMatchObject({instance: 'shop', from: 'local', to: 'pg', migrated: true, resources: before.length, state: `pg: postgres://127.0.0.1:${pg.port}/tfstate, schema dbctl_shop`});
    expect(existsSync(join(workDir(alice), 'terraform.tfstate'))).toBe(false);
    expect(existsSync(join(workDir(alice), 'terraform.tfstate.migrated-to-pg'))).toBe(true);
    expect(await pg.psql(`SELECT count(*) FROM dbctl_shop.states WHERE name = 'default'`, {user: 'postgres', password: pg.password, database: 'tfstate'})).toBe('1');

    const after = (await asAlice(['state', 'list', '-f', specFile, '--json'])).json<{result: {resources: {address: string}[]}}>().result.resources;
    expect(after.map((r) => r.address).sort()).toEqual(before.map((r) => r.address).sort());
    expect((await asAlice(['plan', '-f', specFile, '--json'])).json<{result: PlanJson}>().result.noChanges).toBe(true);
    // Bob has never run dbctl on this machine: the shared state is all he needs.
    const bobPlan = await asBob(['plan', '-f', specFile, '--json']);
    expect(bobPlan.exitCode, bobPlan.stderr).toBe(0);
    expect(bobPlan.json<{result: PlanJson}>().result.noChanges).toBe(true);
    const main = JSON.parse(readFileSync(join(workDir(bob), 'main.tf.json'), 'utf8'));
    expect(main.terraform.backend).toEqual({pg: {schema_name: 'dbctl_shop'}});
    const show = await asBob(['state', 'show', '-f', specFile, 'postgresql_role.app', '--json']);
    expect(show.json().result).toMatchObject({address: 'postgresql_role.app', object: 'role app', values: {name: 'app', login: true}});
  });

  it('two provision --yes at once: exactly one applies, the other exits 6 naming the holder; the state stays whole', async () => {
    writeSpec({...baseSpec, access: [...baseSpec.access, {role: 'analyst', profile: 'readonly', databases: ['shop']}]});
    // An uncommitted CREATE ROLE analyst of our own: whichever run takes the lock first blocks on
    // its own CREATE ROLE behind it, holding the lock until we roll back, so the other always finds
    // the lock held, however late it starts (on a fast machine the winner's apply used to end
    // within the other's second of waiting, and both succeeded).
    const blocker = new pgDriver.Client({connectionString: pg.url});
    await blocker.connect();
    let a: Awaited<ReturnType<typeof asAlice>>;
    let b: Awaited<ReturnType<typeof asBob>>;
    try {
      await blocker.query('BEGIN');
      await blocker.query('CREATE ROLE analyst');
      const runs = [
        asAlice(['provision', '-f', specFile, '--yes', '--lock-timeout', '1s', '--json']),
        asBob(['provision', '-f', specFile, '--yes', '--lock-timeout', '1s', '--json']),
      ] as const;
      // The refused run ends first: the other is still waiting behind our CREATE ROLE.
      const bound = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('neither run ended within 60 s: did both take a lock?')), 60_000).unref());
      expect((await Promise.race([...runs, bound])).exitCode).toBe(6);
      await blocker.query('ROLLBACK');
      [a, b] = await Promise.all(runs);
    } finally {
      await blocker.end();
    }
    expect([a.exitCode, b.exitCode].sort(), `${a.stderr}\n${b.stderr}`).toEqual([0, 6]);
    const [winner, loser] = a.exitCode === 0 ? [a, b] : [b, a];
    expect(winner.json<{result: {applied: boolean}}>().result.applied).toBe(true);
    const error = loser.json().error!;
    expect(error.code).toBe('dbctl.state_locked');
    expect(error.message).toMatch(/^shop is locked by \S+@\S+ \(provision, since \d{4}-\d\d-\d\dT[\d:.]+Z, lock id [0-9a-f-]{36}\); waited 1s$/);
    expect(error.hint).toContain('--lock-timeout');
    expect(await roles(['analyst'])).toBe('1');
    const third = await asAlice(['plan', '-f', specFile, '--json']);
    expect(third.json<{result: PlanJson}>().result.noChanges).toBe(true);
  });

  it('kill -9 mid-apply: the next run reports the stale lock with the unlock command; after dbctl unlock the apply converges', async () => {
    const extra = Array.from({length: 8}, (_, i) => `batch_${i}`);
    writeSpec({...baseSpec, databases: [...baseSpec.databases, {name: 'shop2'}], access: [...baseSpec.access, {role: 'analyst', profile: 'readonly', databases: ['shop']}, ...extra.map((role) => ({role, profile: 'readwrite', databases: ['shop', 'shop2']}))]});
    const log = join(workDir(alice), 'apply.log');
    rmSync(log, {force: true}); // the log of an earlier apply
    const child = spawn(process.execPath, [join(repoRoot, 'packages', 'dbctl', 'bin', 'run.js'), 'provision', '-f', specFile, '--yes'], {env: {PATH: process.env.PATH, LANG: 'C.UTF-8', ...alice.env}, stdio: ['ignore', 'ignore', 'pipe']});
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<string | null>((r) => child.once('exit', (_code, signal) => r(signal)));
    await waitFor('terraform apply to start creating objects', () => {
      if (child.exitCode !== null) throw new Error(`dbctl provision ended (${child.exitCode}) before applying: ${stderr}`);
      return existsSync(log) && readFileSync(log, 'utf8').includes('"type":"apply_start"');
    }, {timeoutMs: 90_000});
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const stale = await asBob(['plan', '-f', specFile, '--json']);
    expect(stale.exitCode).toBe(6);
    const error = stale.json().error!;
    expect(error.code).toBe('dbctl.lock_stale');
    expect(error.message).toMatch(/^shop is still locked by a run that ended without releasing its lock: \S+@\S+ \(provision, since /);
    const id = (error.details as {lock: {id: string}}).lock.id;
    expect(error.hint).toContain(`dbctl unlock shop --lock-id ${id}`);

    const wrongId = await asBob(['unlock', 'shop', '--lock-id', '00000000-0000-4000-8000-000000000000', '--yes', '--json']);
    expect(wrongId.exitCode).toBe(6);
    expect(wrongId.json().error?.code).toBe('dbctl.lock_id_mismatch');
    const unconfirmed = await asBob(['unlock', 'shop', '--lock-id', id]);
    expect(unconfirmed.exitCode).toBe(6);
    expect(unconfirmed.stderr).toContain('--yes');
    const unlocked = await asBob(['unlock', 'shop', '--lock-id', id, '--yes', '--json']);
    expect(unlocked.exitCode, unlocked.stderr).toBe(0);
    expect(unlocked.json().result).toMatchObject({instance: 'shop', lockId: id, released: true, lock: {operation: 'provision'}});

    // The killed run's terraform was not killed with it: it finishes its apply and saves the state
    // (the plan waits for its Terraform lock), so what is left is planned from a whole state.
    const left = await asBob(['plan', '-f', specFile, '--json']);
    expect(left.exitCode, left.stderr).toBe(0);
    const converge = await asBob(['provision', '-f', specFile, '--yes', '--json']);
    expect(converge.exitCode, converge.stderr).toBe(0);
    expect((await asBob(['plan', '-f', specFile, '--json'])).json<{result: PlanJson}>().result.noChanges).toBe(true);
    expect(await roles(extra)).toBe(String(extra.length));
    expect(readFileSync(log, 'utf8').split('\n').some((l) => l.includes('"type":"change_summary"') && l.includes('"operation":"apply"'))).toBe(true);
    const audit = (await asBob(['audit', 'list', '--json'])).json<{result: {operation: string; outcome: string}[]}>().result;
    expect(audit.map((e) => `${e.operation}:${e.outcome}`)).toContain('unlock:ok');
  });

  it('bcl doctor checks the pg backend without showing its connection string', async () => {
    const res = transcript.record(['bcl doctor'], await runCli('bcl', ['doctor', '--json'], {env: bob.env}));
    const envelope = res.json<{result?: {checks: {name: string; status: string; message: string}[]}; error?: {details: {checks: {name: string; status: string; message: string}[]}}}>();
    const checks = envelope.result?.checks ?? envelope.error!.details.checks;
    expect(checks.find((c) => c.name === 'dbctl.backend')).toMatchObject({status: 'ok', message: expect.stringMatching(new RegExp(`^pg: postgres://127\\.0\\.0\\.1:${pg.port}/tfstate answers \\(PostgreSQL \\d+`))});
  });
});
