import {type ChildProcess, spawn} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {type PostgresServer, startPostgres, tempDir, type TerraformEngine, terraformEngines, type TerraformKit, terraformKit, waitFor} from '@bcl/testkit';
import {stringify} from 'yaml';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {dbctlInteractive, dbctlRunner, homeWithConfig, shopSpec, Transcript} from './support.js';

// Local provisioning for real: a real terraform, and a real OpenTofu, apply the generated
// configuration with the cyrilgdn/postgresql provider (testkit's double, see docs/testing.md)
// against a real PostgreSQL. Every case runs once with each engine.
interface PlanJson {
  noChanges: boolean;
  counts: Record<string, number>;
  changes: {address: string; action: string; object: string; attributes: {attribute: string; before: string; after: string}[]}[];
  drift: {address: string}[];
  destructive: {address: string; object: string}[];
  applied?: boolean;
}

const EVIL = 'x"; DROP TABLE t; --';
const baseSpec = {
  ...shopSpec,
  access: [
    ...shopSpec.access,
    {role: 'etl', profile: 'readwrite', databases: ['shop'], schemas: ['reporting']},
    {role: EVIL, profile: 'readonly', databases: ['shop'], schemas: ['public']},
  ],
};

describe.each(terraformEngines())('with $name', (engine: TerraformEngine) => {
  let pg: PostgresServer;
  let kit: TerraformKit;
  let home: ReturnType<typeof homeWithConfig>;
  const transcript = new Transcript();
  let dbctl: ReturnType<typeof dbctlRunner>;
  const dir = tempDir('dbctl-provision-');
  const specFile = join(dir.path, 'db.yaml');
  const workDir = () => join(home.xdg.state, 'bcl', 'dbctl', 'work', 'shop');
  const superuser = () => ({user: 'postgres', password: pg.password, database: 'shop'});

  function writeSpec(spec: object): void {
    writeFileSync(specFile, stringify(spec));
  }

  beforeAll(async () => {
    pg = await startPostgres();
    kit = await terraformKit(engine);
    transcript.remember(pg.password);
    home = homeWithConfig(
      {terraform: {binary: engine.binary}, connections: {local: {engine: 'postgres', host: pg.host, port: pg.port, user: pg.user, passwordEnv: 'LOCAL_PG_PASSWORD', tls: 'disable'}}},
      {LOCAL_PG_PASSWORD: pg.password, ...kit.env},
    );
    dbctl = dbctlRunner(home, transcript);
    writeSpec(baseSpec);
  });

  afterAll(async () => {
    const leaks = transcript.leakedSecrets([home && join(home.xdg.state, 'bcl'), pg?.logFile].filter(Boolean) as string[]);
    await pg?.stop();
    home?.remove();
    dir.remove();
    expect(leaks).toEqual([]);
  });

  describe('dbctl plan, provision and destroy of a local spec', () => {
    it('plans the databases, roles and grants, with a readable summary', async () => {
      const res = await dbctl(['plan', '-f', specFile, '--json']);
      expect(res.exitCode, res.stderr).toBe(0);
      const plan = res.json<{result: PlanJson}>().result;
      expect(plan.noChanges).toBe(false);
      expect(plan.counts).toMatchObject({update: 0, replace: 0, delete: 0});
      const objects = plan.changes.map((c) => c.object);
      expect(objects).toEqual(expect.arrayContaining(['database shop', 'role app', 'role reporting', 'role etl', 'schema reporting']));
      const main = JSON.parse(readFileSync(join(workDir(), 'main.tf.json'), 'utf8'));
      expect(main.terraform.required_providers.postgresql).toEqual({source: 'cyrilgdn/postgresql', version: '1.25.0'});
      expect(JSON.stringify(main)).not.toContain(pg.password);
      const human = await dbctl(['plan', '-f', specFile]);
      expect(human.stdout).toMatch(/^Plan for shop \(local\): \d+ to create, 0 to update, 0 to replace, 0 to delete/);
      expect(human.stdout).toMatch(/\+\s+role reporting\s+postgresql_role\.reporting/);
    });

    it('provisions for real: databases, roles and grants exist and work', async () => {
      const res = await dbctl(['provision', '-f', specFile, '--yes', '--json']);
      expect(res.exitCode, res.stdout).toBe(0);
      expect(res.json<{result: PlanJson}>().result.applied).toBe(true);
      expect(await pg.psql(`SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolname IN ('app', 'reporting', 'etl')`)).toBe('app,etl,reporting');
      expect(await pg.psql(`SELECT has_database_privilege('public', 'shop', 'CONNECT')`)).toBe('f');
      // the injection-shaped role name is just a name, through Terraform too
      await pg.psql('CREATE TABLE public.t (id int)', superuser());
      expect(await pg.psql(`SELECT has_database_privilege('${EVIL}', 'shop', 'CONNECT'), has_table_privilege('${EVIL}', 'public.t', 'SELECT')`, superuser())).toBe('t|t');
      // passwords are set out of band, and Terraform leaves them alone
      const pwFile = join(dir.path, 'app.pw');
      expect((await dbctl(['password', 'rotate', 'app', '--url', `postgres://postgres@127.0.0.1:${pg.port}/postgres?sslmode=disable`, '--password-file', pwFile], {env: {PGPASSWORD: pg.password}})).exitCode).toBe(0);
      const appPw = readFileSync(pwFile, 'utf8').trim();
      transcript.remember(appPw);
      await pg.psql('CREATE TABLE reporting.sales (id int); INSERT INTO reporting.sales VALUES (1);', {user: 'app', password: appPw, database: 'shop'});
      // tables created later by the owner are readable by readonly (default privileges from Terraform)
      expect(await pg.psql(`SELECT has_table_privilege('reporting', 'reporting.sales', 'SELECT'), has_table_privilege('reporting', 'reporting.sales', 'INSERT')`, superuser())).toBe('t|f');
      expect(await pg.psql(`SELECT has_table_privilege('etl', 'reporting.sales', 'INSERT'), has_schema_privilege('etl', 'public', 'CREATE')`, superuser())).toBe('t|f');
    });

    it('plans zero changes on a second run, even after rotating a password and creating tables', async () => {
      const res = await dbctl(['plan', '-f', specFile, '--json']);
      expect(res.exitCode, res.stderr).toBe(0);
      const plan = res.json<{result: PlanJson}>().result;
      expect(plan.changes).toEqual([]);
      expect(plan.drift).toEqual([]);
      expect(plan.noChanges).toBe(true);
      const again = await dbctl(['provision', '-f', specFile, '--yes', '--json']);
      expect(again.json<{result: PlanJson}>().result).toMatchObject({applied: false, noChanges: true});
      expect(await pg.psql(`SELECT to_regclass('public.t') IS NOT NULL`, superuser())).toBe('t');
    });

    it('finds grant drift from the catalogs and puts it back', async () => {
      await pg.psql('GRANT INSERT ON reporting.sales TO reporting', superuser());
      const res = await dbctl(['plan', '-f', specFile, '--json']);
      const plan = res.json<{result: PlanJson}>().result;
      expect(plan.drift.map((d) => d.address)).toContain('postgresql_grant.reporting__shop__reporting__table');
      expect(plan.changes).toHaveLength(1);
      expect(plan.changes[0]).toMatchObject({action: 'update', attributes: [{attribute: 'privileges', before: '[]', after: '[SELECT]'}]});
      expect((await dbctl(['provision', '-f', specFile, '--yes'])).exitCode).toBe(0);
      expect(await pg.psql(`SELECT has_table_privilege('reporting', 'reporting.sales', 'INSERT')`, superuser())).toBe('f');
      expect((await dbctl(['plan', '-f', specFile, '--json'])).json<{result: PlanJson}>().result.noChanges).toBe(true);
    });

    it('refuses to remove a role without --allow-destroy (exit 6), destroying nothing', async () => {
      writeSpec({...baseSpec, access: baseSpec.access.filter((a) => a.role !== 'etl')});
      const res = await dbctl(['provision', '-f', specFile, '--yes', '--json']);
      expect(res.exitCode).toBe(6);
      const error = res.json().error!;
      expect(error.code).toBe('dbctl.destroy_not_confirmed');
      expect(error.message).toContain('delete role etl');
      expect((error.details as {destructive: {address: string}[]}).destructive).toContainEqual(expect.objectContaining({address: 'postgresql_role.etl'}));
      expect(await pg.psql(`SELECT count(*) FROM pg_roles WHERE rolname = 'etl'`)).toBe('1');
      expect(await pg.psql(`SELECT has_table_privilege('etl', 'reporting.sales', 'INSERT')`, superuser())).toBe('t');
      // At a terminal the person types the spec's name instead: a wrong name changes nothing.
      const wrong = await dbctlInteractive(home, ['provision', '-f', specFile], 'shoq', transcript);
      expect(wrong.exitCode, wrong.output).toBe(6);
      expect(wrong.output).toContain('This plan will delete role etl');
      expect(await pg.psql(`SELECT count(*) FROM pg_roles WHERE rolname = 'etl'`)).toBe('1');
      const typed = await dbctlInteractive(home, ['provision', '-f', specFile], 'shop', transcript);
      expect(typed.exitCode, typed.output).toBe(0);
      expect(await pg.psql(`SELECT count(*) FROM pg_roles WHERE rolname = 'etl'`)).toBe('0');
      // in CI, --allow-destroy is the confirmation (here with nothing left to destroy)
      const allowed = await dbctl(['provision', '-f', specFile, '--yes', '--allow-destroy', '--json']);
      expect(allowed.exitCode, allowed.stdout).toBe(0);
    });

    it('names the holder of a state lock (exit 6)', async () => {
      // Another run holds the lock: a terraform apply waiting for its approval (drift gives it something to do).
      await pg.psql('REVOKE SELECT ON reporting.sales FROM reporting', superuser());
      let holder: ChildProcess | undefined;
      let out = '';
      try {
        holder = spawn(kit.binary, ['apply', '-no-color'], {cwd: workDir(), env: {...process.env, ...home.env, PGPASSWORD: pg.password}, stdio: ['pipe', 'pipe', 'pipe']});
        holder.stdout!.on('data', (d) => (out += d));
        holder.stderr!.on('data', (d) => (out += d));
        await waitFor('terraform apply to wait for approval', () => out.includes('Enter a value'), {timeoutMs: 60_000});
        const res = await dbctl(['plan', '-f', specFile, '--json'], {env: {BCL_DBCTL_TERRAFORM_LOCK_TIMEOUT: '1s'}});
        expect(res.exitCode).toBe(6);
        const error = res.json().error!;
        expect(error.code).toBe('dbctl.state_locked');
        expect(error.message).toMatch(/locked by \S+@\S+ \(apply, since/);
        expect(error.hint).toMatch(/dbctl unlock shop --lock-id [0-9a-f-]{36}/);
      } finally {
        holder?.stdin?.end('no\n');
        if (holder && holder.exitCode === null) await new Promise((r) => holder!.once('exit', r));
      }
      expect((await dbctl(['provision', '-f', specFile, '--yes'])).exitCode).toBe(0);
    });

    it('destroys only when the spec turns deletion protection off, and confirmed', async () => {
      writeSpec({...baseSpec, deletionProtection: true});
      const protectedRun = await dbctl(['destroy', '-f', specFile, '--allow-destroy']);
      expect(protectedRun.exitCode).toBe(6);
      expect(protectedRun.stderr).toContain('deletionProtection is on');
      writeSpec({...baseSpec, access: baseSpec.access.filter((a) => a.role !== 'etl')});
      const unconfirmed = await dbctl(['destroy', '-f', specFile, '--json']);
      expect(unconfirmed.exitCode).toBe(6);
      expect(unconfirmed.json().error?.code).toBe('dbctl.destroy_not_confirmed');
      expect(await pg.psql(`SELECT count(*) FROM pg_database WHERE datname = 'shop'`)).toBe('1');
      const res = await dbctl(['destroy', '-f', specFile, '--allow-destroy', '--json']);
      expect(res.exitCode, res.stdout).toBe(0);
      expect(await pg.psql(`SELECT count(*) FROM pg_database WHERE datname = 'shop'`)).toBe('0');
      expect(await pg.psql(`SELECT count(*) FROM pg_roles WHERE rolname IN ('app', 'reporting')`)).toBe('0');
      const audit = await dbctl(['audit', 'list', '--json']);
      const ops = audit.json<{result: {operation: string; outcome: string}[]}>().result.map((e) => `${e.operation}:${e.outcome}`);
      expect(ops).toEqual(expect.arrayContaining(['provision:ok', 'provision:failed', 'destroy:failed', 'destroy:ok']));
    });

    it('names spec errors with file, line and key (exit 3)', async () => {
      writeFileSync(specFile, 'name: shop\nengine: postgres\nprovider: local\nconnection: local\naccess:\n  - role: app\n    profile: admin\n    databases: [shop]\n    colour: red\n');
      const res = await dbctl(['plan', '-f', specFile]);
      expect(res.exitCode).toBe(3);
      expect(res.stderr).toContain(`${specFile}:7:14: access[0].profile: one of readonly, readwrite, owner, got string "admin"`);
      expect(res.stderr).toContain('access[0].colour: unknown key');
    });

    it('counts a name in bytes: 32 two-byte letters are refused (exit 3) before anything is applied', async () => {
      // 32 characters, 64 bytes: PostgreSQL would keep 63 of them, and the apply failed half-way (exit 7).
      const wide = 'é'.repeat(32);
      writeSpec({...baseSpec, databases: [{name: 'shop'}], access: [{role: wide, profile: 'readonly', databases: ['shop']}]});
      const res = await dbctl(['provision', '-f', specFile, '--yes', '--json']);
      expect(res.exitCode, res.stdout).toBe(3);
      const message = res.json().error!.message;
      expect(message.startsWith(`${specFile}:`)).toBe(true);
      expect(message).toMatch(/:\d+:\d+: access\[0\]\.role: .*is 64 bytes long: PostgreSQL keeps only the first 63 bytes/);
      expect(await pg.psql(`SELECT count(*) FROM pg_roles WHERE rolname LIKE 'é%'`)).toBe('0');
      writeSpec(baseSpec);
    });
  });
});
