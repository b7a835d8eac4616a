import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import * as z from 'zod';
import {BclError} from '../errors.js';
import {bclPaths} from '../paths.js';
import {bclNamespace} from './bcl-namespace.js';
import {defineNamespace} from './namespace.js';
import {projectKey} from './trust.js';
import {loadConfig, type LoadConfigOptions} from './resolve.js';
import {isolatedHome, type IsolatedHome} from '@bcl/testkit';

// A project file may set every key of this test namespace (trust has its own tests).
const svctl = defineNamespace(
  'svctl',
  projectKey(z.strictObject({
    defaultEnv: z.string().optional(),
    replicas: z.number().int().default(1),
    dryRun: z.boolean().default(false),
    tags: z.array(z.string()).default([]),
    clusters: z.record(z.string(), z.strictObject({context: z.string(), namespace: z.string().optional()})).default({}),
  })),
  'test',
);

let home: IsolatedHome;
let project: string;

beforeEach(() => {
  home = isolatedHome();
  project = join(home.home, 'work', 'repo', 'sub');
  mkdirSync(project, {recursive: true});
});
afterEach(() => home.remove());

function write(path: string, text: string): string {
  mkdirSync(join(path, '..'), {recursive: true});
  writeFileSync(path, text);
  return path;
}

const userFile = () => join(home.xdg.config, 'bcl', 'config.yaml');
const systemFile = () => home.env.BCL_SYSTEM_CONFIG!;
const projectFile = () => join(home.home, 'work', 'repo', '.bcl.yaml');

function load(extra: Partial<LoadConfigOptions> = {}, env: Record<string, string> = {}) {
  const fullEnv = {...home.env, ...env};
  return loadConfig({namespaces: [bclNamespace, svctl], env: fullEnv, cwd: project, paths: bclPaths(fullEnv), ...extra});
}

function failure(fn: () => unknown): BclError {
  try {
    fn();
  } catch (error) {
    if (error instanceof BclError) return error;
    throw error;
  }
  throw new Error('expected a BclError');
}

describe('configuration layers', () => {
  it('gives schema defaults with the origin "default" when no file exists', () => {
    const config = load();
    expect(config.get('svctl.replicas')).toBe(1);
    expect(config.get('bcl.update.channel')).toBe('stable');
    expect(config.entry('svctl.replicas')?.origin.kind).toBe('default');
    expect(config.files).toEqual([]);
  });

  it('applies system < user < project < --config < env < flags, each with its origin', () => {
    write(systemFile(), 'svctl:\n  defaultEnv: sys\n  replicas: 2\n  tags: [a]\n');
    write(userFile(), 'svctl:\n  defaultEnv: user\n  replicas: 3\n');
    write(projectFile(), '# project\nsvctl:\n  defaultEnv: project\n');
    const explicit = write(join(home.home, 'extra.yaml'), 'svctl:\n  dryRun: true\n');
    const config = load(
      {explicitFile: explicit, flagValues: [{key: 'svctl.defaultEnv', value: 'flag', flag: '--env'}]},
      {BCL_SVCTL_REPLICAS: '5'},
    );
    expect(config.get('svctl.defaultEnv')).toBe('flag');
    expect(config.get('svctl.replicas')).toBe(5);
    expect(config.get('svctl.tags')).toEqual(['a']);
    expect(config.get('svctl.dryRun')).toBe(true);

    const env = config.entry('svctl.defaultEnv')!;
    expect(env.origin).toMatchObject({kind: 'flag', label: 'flag --env'});
    // Nothing is hidden: every lower value is listed, highest first, with file and line.
    expect(env.overridden.map((o) => [o.value, o.origin.kind, o.origin.line])).toEqual([
      ['project', 'project', 3],
      ['user', 'user', 2],
      ['sys', 'system', 2],
    ]);
    expect(config.entry('svctl.replicas')!.origin).toMatchObject({kind: 'env', env: 'BCL_SVCTL_REPLICAS'});
    expect(config.entry('svctl.tags')!.origin.label).toBe(`${systemFile()}:4`);
    expect(config.files.map((f) => f.kind)).toEqual(['system', 'user', 'project', 'explicit']);
  });

  it('finds the nearest .bcl.yaml walking up from the working directory', () => {
    write(join(home.home, 'work', '.bcl.yaml'), 'svctl:\n  defaultEnv: far\n');
    expect(load().get('svctl.defaultEnv')).toBe('far');
    write(projectFile(), 'svctl:\n  defaultEnv: near\n');
    expect(load().get('svctl.defaultEnv')).toBe('near');
  });

  it('merges mappings key by key and replaces lists whole', () => {
    write(userFile(), 'svctl:\n  tags: [a, b]\n  clusters:\n    prod: {context: p, namespace: web}\n    dev: {context: d}\n');
    write(projectFile(), 'svctl:\n  tags: [c]\n  clusters:\n    prod: {context: p2}\n');
    const config = load();
    expect(config.get('svctl.tags')).toEqual(['c']);
    expect(config.get('svctl.clusters')).toEqual({prod: {context: 'p2', namespace: 'web'}, dev: {context: 'd'}});
  });
});

describe('profiles', () => {
  it('overlays the selected profile of every file above all base values, below env', () => {
    write(userFile(), 'svctl:\n  defaultEnv: user\nprofiles:\n  prod:\n    svctl:\n      defaultEnv: user-prod\n      replicas: 4\n');
    write(projectFile(), 'svctl:\n  defaultEnv: project\n  replicas: 2\n');
    expect(load().get('svctl.defaultEnv')).toBe('project');
    const prod = load({profile: 'prod'});
    expect(prod.get('svctl.defaultEnv')).toBe('user-prod');
    expect(prod.get('svctl.replicas')).toBe(4);
    expect(prod.entry('svctl.defaultEnv')!.origin.label).toBe(`${userFile()}:6 (profile prod)`);
    expect(prod.profile).toBe('prod');
    expect(load({}, {BCL_PROFILE: 'prod', BCL_SVCTL_DEFAULT_ENV: 'env'}).get('svctl.defaultEnv')).toBe('env');
  });

  it('refuses a profile no file defines, naming the ones that exist', () => {
    write(userFile(), 'profiles:\n  prod: {}\n  dev: {}\n');
    const error = failure(() => load({profile: 'staging'}));
    expect(error.exitCode).toBe(3);
    expect(error.code).toBe('config.unknown_profile');
    expect(error.message).toContain('"staging"');
    expect(error.hint).toContain('prod, dev');
  });
});

describe('environment variables', () => {
  it('maps BCL_<NAMESPACE>_<KEY> through the schema, converting types', () => {
    const config = load(
      {},
      {
        BCL_SVCTL_DEFAULT_ENV: 'qa',
        BCL_SVCTL_DRY_RUN: 'yes',
        BCL_SVCTL_TAGS: 'x, y',
        BCL_SVCTL_CLUSTERS_PROD_EU_CONTEXT: 'eu',
        BCL_BCL_UPDATE_TRUSTED_KEYS: '["k1","k2"]',
        BCL_BCL_HTTP_TIMEOUT_SECONDS: '7',
      },
    );
    expect(config.get('svctl.defaultEnv')).toBe('qa');
    expect(config.get('svctl.dryRun')).toBe(true);
    expect(config.get('svctl.tags')).toEqual(['x', 'y']);
    expect(config.get('svctl.clusters')).toEqual({prod_eu: {context: 'eu'}});
    expect(config.get('bcl.update.trustedKeys')).toEqual(['k1', 'k2']);
    expect(config.get('bcl.http.timeoutSeconds')).toBe(7);
  });

  it('refuses a variable that names no key, and a value of the wrong type, naming the variable', () => {
    const unknown = failure(() => load({}, {BCL_SVCTL_NO_SUCH_KEY: '1'}));
    expect(unknown.exitCode).toBe(3);
    expect(unknown.message).toContain('BCL_SVCTL_NO_SUCH_KEY');
    const wrong = failure(() => load({}, {BCL_SVCTL_REPLICAS: 'many'}));
    expect(wrong.exitCode).toBe(3);
    expect(wrong.message).toContain('env BCL_SVCTL_REPLICAS');
    expect(wrong.message).toContain('svctl.replicas');
  });

  it('ignores reserved variables and namespaces this process does not know', () => {
    expect(() => load({}, {BCL_PROFILE: '', BCL_DISABLE_UPDATE_CHECK: '1', BCL_DBCTL_WHATEVER: 'x'})).not.toThrow();
  });
});

describe('invalid files', () => {
  it('names the file, line, key and what was expected for a wrong type', () => {
    write(projectFile(), 'svctl:\n  clusters:\n    prod:\n      context: 42\n');
    const error = failure(() => load());
    expect(error.exitCode).toBe(3);
    expect(error.message).toBe(`${projectFile()}:4:7: svctl.clusters.prod.context: expected a string, got number 42`);
  });

  it('names unknown keys and lists the keys that are allowed', () => {
    write(userFile(), 'svctl:\n  replicas: 2\n  replica: 3\n');
    const error = failure(() => load());
    expect(error.message).toBe(`${userFile()}:3:3: svctl.replica: unknown key (did you mean "replicas"?)`);
    write(userFile(), 'svctl:\n  replicas: 2\n  zzz: 3\n  dryRun: maybe\n');
    // Every problem, in file order, not only the first.
    expect(failure(() => load()).message).toBe(
      `2 problems in the configuration:\n  ${userFile()}:3:3: svctl.zzz: unknown key (expected one of: defaultEnv, replicas, dryRun, tags, clusters)\n  ${userFile()}:4:3: svctl.dryRun: expected true or false, got string "maybe"`,
    );
  });

  it('names unknown namespaces and bad YAML with a position', () => {
    write(userFile(), 'svctll:\n  replicas: 2\n');
    expect(failure(() => load()).message).toContain('svctll: unknown namespace');
    write(userFile(), 'svctl:\n  replicas: [1\n');
    const yaml = failure(() => load());
    expect(yaml.code).toBe('config.invalid');
    expect(yaml.message).toMatch(new RegExp(`${userFile().replace(/[.]/g, '\\.')}:\\d+:\\d+: not valid YAML`));
  });

  it('refuses a missing --config file', () => {
    const error = failure(() => load({explicitFile: join(home.home, 'nope.yaml')}));
    expect(error.code).toBe('config.not_found');
    expect(error.exitCode).toBe(3);
  });

  it('passes namespaces it cannot validate through, unvalidated', () => {
    write(userFile(), 'dbctl:\n  anything: [1, 2]\n');
    const config = load();
    expect(config.get('dbctl.anything')).toEqual([1, 2]);
  });
});
