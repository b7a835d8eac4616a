import {join} from 'node:path';
import {kubectl, type PostgresServer, startPostgres, testKubeconfig, testNamespace, type TestNamespace} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {dbctlRunner, homeWithConfig, Transcript} from '../support.js';

// Passwords in Kubernetes Secrets, on the local control plane: --to-secret writes one, and a
// connection profile's passwordSecret reads the administrator's password from one.
let pg: PostgresServer;
let ns: TestNamespace;
let kubeconfig: string;
let home: ReturnType<typeof homeWithConfig>;
const transcript = new Transcript();
let dbctl: ReturnType<typeof dbctlRunner>;

async function secretData(name: string): Promise<Record<string, string>> {
  const out = await kubectl(kubeconfig, ['get', 'secret', name, '-n', ns.name, '-o', 'json']);
  const data = (JSON.parse(out.stdout) as {data: Record<string, string>}).data;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

beforeAll(async () => {
  kubeconfig = testKubeconfig();
  ns = await testNamespace(kubeconfig, 'dbctl');
  pg = await startPostgres();
  transcript.remember(pg.password);
  // The administrator's password lives only in a Secret.
  const manifest = {apiVersion: 'v1', kind: 'Secret', metadata: {name: 'pg-admin', namespace: ns.name}, stringData: {password: pg.password}};
  await kubectl(kubeconfig, ['apply', '-f', '-'], {input: JSON.stringify(manifest)});
  home = homeWithConfig(
    {connections: {k8s: {engine: 'postgres', host: pg.host, port: pg.port, user: pg.user, passwordSecret: `${ns.name}/pg-admin#password`, tls: 'disable'}}, defaultConnection: 'k8s'},
    {KUBECONFIG: kubeconfig},
  );
  dbctl = dbctlRunner(home, transcript);
});

afterAll(async () => {
  const leaks = transcript.leakedSecrets([home && join(home.xdg.state, 'bcl'), pg?.logFile].filter(Boolean) as string[]);
  await pg?.stop();
  await ns?.remove();
  home?.remove();
  expect(leaks).toEqual([]);
});

describe('dbctl with Kubernetes Secrets', () => {
  it('reads the admin password from passwordSecret and writes a new user to --to-secret', async () => {
    expect((await dbctl(['db', 'create', 'shop'])).exitCode).toBe(0);
    const res = await dbctl(['user', 'create', 'app', '--profile', 'readwrite', '--database', 'shop', '--to-secret', `${ns.name}/db-app`, '--json']);
    expect(res.exitCode, res.stdout).toBe(0);
    expect(res.json().result).toMatchObject({user: 'app', secret: `${ns.name}/db-app`});
    expect(res.json<{result: Record<string, unknown>}>().result).not.toHaveProperty('password');
    const data = await secretData('db-app');
    transcript.remember(data.password);
    expect(data).toMatchObject({username: 'app', host: pg.host, port: String(pg.port), database: 'shop', engine: 'postgres'});
    expect(await pg.psql('SELECT current_user', {user: 'app', password: data.password!, database: 'shop'})).toBe('app');
  });

  it('rotation replaces the Secret\'s password; the old one stops working', async () => {
    const old = (await secretData('db-app')).password!;
    const res = await dbctl(['password', 'rotate', 'app', '--to-secret', `${ns.name}/db-app`]);
    expect(res.exitCode, res.stderr).toBe(0);
    const fresh = (await secretData('db-app')).password!;
    transcript.remember(fresh);
    expect(fresh).not.toBe(old);
    await expect(pg.psql('SELECT 1', {user: 'app', password: old, database: 'shop'})).rejects.toThrow(/password authentication failed/);
    expect(await pg.psql('SELECT 1', {user: 'app', password: fresh, database: 'shop'})).toBe('1');
  });

  it('names a missing Secret (exit 3)', async () => {
    await kubectl(kubeconfig, ['delete', 'secret', 'pg-admin', '-n', ns.name]);
    const missing = await dbctl(['access', 'list']);
    expect(missing.exitCode).toBe(3);
    expect(missing.stderr).toContain(`Secret ${ns.name}/pg-admin`);
  });
});
