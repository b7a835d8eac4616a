import {existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {isolatedHome, type IsolatedHome, runCli} from '@bcl/testkit';

let home: IsolatedHome;
let project: string;
const userFile = () => join(home.xdg.config, 'bcl', 'config.yaml');

beforeEach(() => {
  home = isolatedHome();
  project = join(home.home, 'repo');
  mkdirSync(join(project, 'deep', 'dir'), {recursive: true});
});
afterEach(() => home.remove());

const bcl = (args: string[], cwd = project, env: Record<string, string> = {}) => runCli('bcl', args, {env: {...home.env, ...env}, cwd});

describe('bcl config', () => {
  it('round-trips a value through the user file, the project file and the environment', async () => {
    expect((await bcl(['config', 'set', 'svctl.defaultEnv', 'staging'])).exitCode).toBe(0);
    expect(readFileSync(userFile(), 'utf8')).toBe('svctl:\n  defaultEnv: staging\n');
    const set = await bcl(['config', 'set', 'svctl.defaultEnv', 'prod', '--project', '--json']);
    expect(set.json().result).toEqual({key: 'svctl.defaultEnv', value: 'prod', file: join(project, '.bcl.yaml')});

    // From a subdirectory, the project file is found walking up.
    const get = await bcl(['config', 'get', 'svctl.defaultEnv', '--show-origin'], join(project, 'deep', 'dir'));
    expect(get.stdout).toBe(`prod\t(${join(project, '.bcl.yaml')}:2)\n  overrides "staging" from ${userFile()}:2\n`);

    const env = await bcl(['config', 'get', 'svctl.defaultEnv', '--json'], project, {BCL_SVCTL_DEFAULT_ENV: 'qa'});
    expect(env.json().result).toMatchObject({value: 'qa', origin: {kind: 'env', env: 'BCL_SVCTL_DEFAULT_ENV'}});

    // Outside the project only the user value applies.
    expect((await bcl(['config', 'get', 'svctl.defaultEnv'], home.home)).stdout).toBe('staging\n');
  });

  it('lists every layer: a project value never hides where the user value came from', async () => {
    await bcl(['config', 'set', 'bcl.update.keep', '3']);
    await bcl(['config', 'set', 'bcl.update.keep', '5', '--project']);
    const list = await bcl(['config', 'list', 'bcl.update', '--show-origin', '--json']);
    const entry = list.json<{result: {entries: {key: string; value: unknown; origin: {kind: string}; overridden: {value: unknown; origin: {kind: string}}[]}[]}}>()
      .result.entries.find((e) => e.key === 'bcl.update.keep')!;
    expect(entry.value).toBe(5);
    expect(entry.origin.kind).toBe('project');
    expect(entry.overridden).toEqual([{value: 3, origin: expect.objectContaining({kind: 'user', file: userFile()})}]);
    const human = await bcl(['config', 'list', 'bcl.update', '--show-origin']);
    expect(human.stdout).toMatch(/bcl\.update\.keep\s+5\s+\S+\.bcl\.yaml:3\n\s+overrides 3\s+\S+config\.yaml:3/);
  });

  it('coerces values to the schema type and refuses invalid ones without touching the file', async () => {
    writeFileSync(join(project, '.bcl.yaml'), '# team settings\nsvctl:\n  defaultEnv: dev # keep\n');
    const before = readFileSync(join(project, '.bcl.yaml'), 'utf8');
    const bad = await bcl(['config', 'set', 'bcl.update.keep', 'lots', '--project', '--json']);
    expect(bad.exitCode).toBe(3);
    expect(bad.json().error?.message).toContain('bcl.update.keep');
    expect(readFileSync(join(project, '.bcl.yaml'), 'utf8')).toBe(before);

    const unknown = await bcl(['config', 'set', 'svctl.defaultEnvv', 'x']);
    expect(unknown.exitCode).toBe(3);
    expect(unknown.stderr).toContain('svctl.defaultEnvv: unknown key (did you mean "defaultEnv"?)');
    expect(existsSync(userFile())).toBe(false);

    // A trust root written to an untrusted project file is kept there but counts only once trusted.
    const keys = await bcl(['config', 'set', 'bcl.update.trustedKeys', 'ed25519:AAAA,ed25519:BBBB', '--project']);
    expect(keys.exitCode).toBe(0);
    expect(keys.stderr).toContain('bcl.update.trustedKeys is ignored in this project file until you trust it: bcl config trust');
    expect((await bcl(['config', 'set', 'bcl.update.check', 'false', '--project'])).exitCode).toBe(0);
    const text = readFileSync(join(project, '.bcl.yaml'), 'utf8');
    expect(text).toContain('# team settings');
    expect(text).toContain('defaultEnv: dev # keep');
    expect(text).toContain('ed25519:BBBB');
    expect((await bcl(['config', 'get', 'bcl.update', '--json'])).json().result).toMatchObject({value: {trustedKeys: [], check: false}});
    await bcl(['config', 'trust']);
    const list = await bcl(['config', 'get', 'bcl.update', '--json']);
    expect(list.json().result).toMatchObject({value: {trustedKeys: ['ed25519:AAAA', 'ed25519:BBBB'], check: false}});
  });

  it('sets into a profile and unsets', async () => {
    await bcl(['config', 'set', 'svctl.defaultEnv', 'prod', '--profile', 'prod']);
    expect(readFileSync(userFile(), 'utf8')).toBe('profiles:\n  prod:\n    svctl:\n      defaultEnv: prod\n');
    expect((await bcl(['config', 'get', 'svctl.defaultEnv', '--profile', 'prod'])).stdout).toBe('prod\n');
    expect((await bcl(['config', 'get', 'svctl.defaultEnv'])).stdout).toBe('');
    await bcl(['config', 'set', 'pkictl.email', 'ada@example.com']);
    const unset = await bcl(['config', 'unset', 'pkictl.email', '--json']);
    expect(unset.json().result).toMatchObject({key: 'pkictl.email', removed: true});
    expect((await bcl(['config', 'get', 'pkictl.email', '--json'])).json().result).toMatchObject({value: null, origin: null});
  });

  it('keeps all state under the XDG directories it is given', async () => {
    await bcl(['config', 'set', 'svctl.defaultEnv', 'x']);
    expect(statSync(userFile()).isFile()).toBe(true);
    expect(existsSync(join(home.home, '.config', 'bcl', 'config.yaml'))).toBe(true);
    const custom = join(home.home, 'elsewhere');
    await bcl(['config', 'set', 'svctl.defaultEnv', 'y'], project, {XDG_CONFIG_HOME: custom});
    expect(readFileSync(join(custom, 'bcl', 'config.yaml'), 'utf8')).toContain('defaultEnv: y');
  });

  it('reads the system file and an explicit --config file', async () => {
    writeFileSync(home.env.BCL_SYSTEM_CONFIG!, 'bcl:\n  update:\n    store: /srv/releases\n');
    expect((await bcl(['config', 'get', 'bcl.update.store'])).stdout).toBe('/srv/releases\n');
    const extra = join(home.home, 'ci.yaml');
    writeFileSync(extra, 'bcl:\n  update:\n    store: https://releases.example.com\n');
    const res = await bcl(['config', 'get', 'bcl.update.store', '--config', extra, '--show-origin']);
    expect(res.stdout).toContain(`https://releases.example.com\t(${extra}:3)`);
    const missing = await bcl(['--config', join(home.home, 'missing.yaml'), 'config', 'list']);
    expect(missing.exitCode).toBe(3);
    expect(missing.stderr).toContain('missing.yaml does not exist');
  });
});

describe('bcl doctor', () => {
  it('reports each check and exits 0 when nothing failed', async () => {
    const res = await bcl(['doctor', '--json']);
    expect(res.exitCode).toBe(0);
    const result = res.json<{result: {ok: boolean; checks: {name: string; status: string}[]}}>().result;
    expect(result.ok).toBe(true);
    expect(result.checks.find((c) => c.name === 'node')?.status).toBe('ok');
    expect(result.checks.find((c) => c.name === 'config')?.status).toBe('ok');
  });

  it('fails (exit 6) when a configured endpoint is unreachable, naming it', async () => {
    const res = await bcl(['doctor', '--json'], project, {BCL_BCL_UPDATE_STORE: 'http://127.0.0.1:9/releases'});
    expect(res.exitCode).toBe(6);
    const error = res.json<{error: {code: string; message: string; details: {checks: {name: string; status: string; message: string}[]}}}>().error;
    expect(error.code).toBe('doctor.failed');
    expect(error.message).toContain('bcl.update.store');
    const store = error.details.checks.find((c) => c.name === 'bcl.update.store')!;
    expect(store.status).toBe('fail');
    expect(store.message).toContain('127.0.0.1:9');
  });
});

describe('bcl config set on a section', () => {
  it('takes a YAML mapping, validated as a whole, and refuses anything else', async () => {
    const ok = await bcl(['config', 'set', 'svctl.jenkins.ci', '{url: "https://ci.example.com", user: bot, tokenEnv: CI_TOKEN}', '--json']);
    expect(ok.exitCode).toBe(0);
    expect(ok.json().result).toMatchObject({key: 'svctl.jenkins.ci', value: {url: 'https://ci.example.com', user: 'bot', tokenEnv: 'CI_TOKEN'}});
    const missing = await bcl(['config', 'set', 'svctl.jenkins.other', '{url: "https://ci2.example.com"}']);
    expect(missing.exitCode).toBe(3);
    expect(missing.stderr).toContain('svctl.jenkins.other.user');
    const scalar = await bcl(['config', 'set', 'svctl.jenkins.other', 'https://x']);
    expect(scalar.exitCode).toBe(3);
    expect(scalar.stderr).toContain('svctl.jenkins.other is a section');
    expect(readFileSync(userFile(), 'utf8')).not.toContain('other');
  });
});
