import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {isolatedHome, type IsolatedHome, runCli} from '@bcl/testkit';

// dbctl validate checks a spec as plan and provision do, without a server or terraform.
let home: IsolatedHome;
let specFile: string;
beforeEach(() => {
  home = isolatedHome();
  specFile = join(home.home, 'db.yaml');
});
afterEach(() => home.remove());

const dbctl = (args: string[]) => runCli('dbctl', args, {env: home.env, cwd: home.home});

const spec = `name: shop
engine: postgres
provider: local
connection: local
databases:
  - name: shop
    schemas: [public, reporting]
access:
  - {role: app, profile: owner, databases: [shop]}
  - {role: analyst, profile: readonly, databases: [shop], schemas: [reporting]}
environments:
  prod:
    provider: gcp
    region: europe-west1
    tier: db-custom-2-7680
    version: "16"
    project: shop-prod
`;

describe('dbctl validate', () => {
  it('checks the base spec and every environment', async () => {
    writeFileSync(specFile, spec);
    const res = await dbctl(['validate', '-f', specFile, '--json']);
    expect(res.exitCode, res.stdout).toBe(0);
    expect(res.json().result).toEqual({
      file: specFile,
      name: 'shop',
      engine: 'postgres',
      environments: [
        {name: null, provider: 'local', databases: 1, roles: 2},
        {name: 'prod', provider: 'gcp', databases: 1, roles: 2},
      ],
    });
    const human = await dbctl(['validate', '-f', specFile]);
    expect(human.stdout).toBe(`✓ ${specFile}: shop (postgres) is valid: base (local, 1 database, 2 roles), prod (gcp, 1 database, 2 roles)\n`);
  });

  it('names a problem of an environment with file, line and key (exit 3)', async () => {
    writeFileSync(specFile, spec.replace('    project: shop-prod\n', '    storage: {sizeGb: 5}\n'));
    const res = await dbctl(['validate', '-f', specFile, '--json']);
    expect(res.exitCode).toBe(3);
    expect(res.json().error!.message).toContain(`${specFile}:17:23: environments.prod.storage.sizeGb: at least 10 (GiB)`);
  });

  it('refuses an environment the spec does not define, and a missing file (exit 3)', async () => {
    writeFileSync(specFile, spec);
    const unknown = await dbctl(['validate', '-f', specFile, '--env', 'staging', '--json']);
    expect(unknown.exitCode).toBe(3);
    expect(unknown.json().error).toMatchObject({code: 'dbctl.unknown_env'});
    const missing = await dbctl(['validate', '-f', join(home.home, 'nope.yaml'), '--json']);
    expect(missing.exitCode).toBe(3);
    expect(missing.json().error).toMatchObject({code: 'dbctl.spec_not_found'});
  });
});
