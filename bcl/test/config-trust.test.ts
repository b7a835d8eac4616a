// A project .bcl.yaml arrives with `git clone`: keys that choose a program, a server, a CA, a key
// or a trust root count only once the user trusts the file's exact content.
import {mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {isolatedHome, type IsolatedHome, runCli} from '@bcl/testkit';

let home: IsolatedHome;
let repo: string;
const projectFile = () => join(repo, '.bcl.yaml');
const bcl = (args: string[], cwd = repo) => runCli('bcl', args, {env: home.env, cwd});

const HOSTILE = `# arrived with git clone
csshctl:
  ssh: ./tools/fake-ssh
  ttl: 2h
bcl:
  update:
    store: https://releases.attacker.example
    trustedKeys: ["ed25519:AAAA"]
svctl:
  defaultEnv: staging
`;

beforeEach(() => {
  home = isolatedHome();
  repo = join(home.home, 'src', 'cloned');
  mkdirSync(join(repo, 'sub'), {recursive: true});
  writeFileSync(projectFile(), HOSTILE);
});
afterEach(() => home.remove());

describe('an untrusted project file', () => {
  it('may set preferences but not programs, servers or trust roots; each ignored value is named with file, line and key', async () => {
    const res = await bcl(['config', 'get', 'csshctl', '--json'], join(repo, 'sub'));
    expect(res.exitCode).toBe(0);
    const envelope = res.json<{result: {value: Record<string, unknown>}; warnings: string[]}>();
    expect(envelope.result.value).toMatchObject({ssh: 'ssh', ttl: '2h'});
    expect(envelope.warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${projectFile()}:3: csshctl\\.ssh ignored: an untrusted project file may not choose a program`)),
        expect.stringMatching(new RegExp(`^${projectFile()}:7: bcl\\.update\\.store ignored`)),
        expect.stringMatching(new RegExp(`^${projectFile()}:8: bcl\\.update\\.trustedKeys ignored`)),
      ]),
    );
    expect(envelope.warnings.join('\n')).not.toMatch(/ttl|defaultEnv/);

    const human = await bcl(['config', 'get', 'bcl.update.trustedKeys']);
    expect(human.stdout).toBe('[]\n');
    expect(human.stderr).toContain(`Warning: ${projectFile()}:8: bcl.update.trustedKeys ignored`);
    expect((await bcl(['config', 'get', 'svctl.defaultEnv'])).stdout).toBe('staging\n');
  });

  it('shows ignored values in config list --show-origin, with the reason', async () => {
    const list = await bcl(['config', 'list', '--show-origin', '--json']);
    const result = list.json<{result: {ignored: {key: string; value: unknown; origin: {file: string; line: number}; reason: string}[]}}>().result;
    expect(result.ignored.map((i) => i.key).sort()).toEqual(['bcl.update.store', 'bcl.update.trustedKeys', 'csshctl.ssh']);
    expect(result.ignored.find((i) => i.key === 'csshctl.ssh')).toMatchObject({value: './tools/fake-ssh', origin: {file: projectFile(), line: 3}});
    const human = await bcl(['config', 'list', 'csshctl', '--show-origin']);
    expect(human.stdout).toMatch(/csshctl\.ssh\s+ssh\s+default\n\s+ignored \.\/tools\/fake-ssh \(untrusted project file: bcl config trust\)\s+\S+\.bcl\.yaml:3/);
  });

  it('counts once trusted, and is untrusted again as soon as its content changes', async () => {
    const trust = await bcl(['config', 'trust', '--json'], join(repo, 'sub'));
    expect(trust.exitCode).toBe(0);
    expect(trust.json<{result: {file: string; enabled: {key: string}[]}}>().result).toMatchObject({
      file: projectFile(),
      enabled: [{key: 'csshctl.ssh'}, {key: 'bcl.update.store'}, {key: 'bcl.update.trustedKeys'}],
    });
    const record = join(home.xdg.data, 'bcl', 'trusted-files.json');
    expect(statSync(record).mode & 0o777).toBe(0o600);

    const trusted = await bcl(['config', 'get', 'csshctl.ssh', '--json']);
    expect(trusted.json<{result: {value: string}; warnings: string[]}>()).toMatchObject({result: {value: './tools/fake-ssh'}, warnings: []});

    // One byte more (a pull that changed the file): ignored again, until trusted again.
    writeFileSync(projectFile(), `${HOSTILE}\n`);
    const changed = await bcl(['config', 'get', 'csshctl.ssh', '--json']);
    expect(changed.json<{result: {value: string}; warnings: string[]}>()).toMatchObject({result: {value: 'ssh'}, warnings: expect.arrayContaining([expect.stringContaining('csshctl.ssh ignored')])});
    const list = await bcl(['config', 'trust', '--list', '--json']);
    expect(list.json<{result: {files: {file: string; state: string}[]}}>().result.files).toEqual([expect.objectContaining({file: projectFile(), state: 'changed'})]);

    await bcl(['config', 'trust']);
    expect((await bcl(['config', 'get', 'csshctl.ssh'])).stdout).toBe('./tools/fake-ssh\n');
    const untrust = await bcl(['config', 'untrust', '--json']);
    expect(untrust.json<{result: {removed: boolean}}>().result.removed).toBe(true);
    expect((await bcl(['config', 'get', 'csshctl.ssh'])).stdout).toBe('ssh\n');
    expect(JSON.parse(readFileSync(record, 'utf8')).files).toEqual([]);
  });

  it('stays trusted when the user edits it through bcl config set', async () => {
    await bcl(['config', 'trust']);
    expect((await bcl(['config', 'set', 'csshctl.ttl', '30m', '--project'])).exitCode).toBe(0);
    const get = await bcl(['config', 'get', 'csshctl.ssh', '--json']);
    expect(get.json<{result: {value: string}; warnings: string[]}>()).toMatchObject({result: {value: './tools/fake-ssh'}, warnings: []});
  });

  it('the user file, the environment and --config still set every key', async () => {
    const user = join(home.xdg.config, 'bcl', 'config.yaml');
    mkdirSync(join(home.xdg.config, 'bcl'), {recursive: true});
    writeFileSync(user, 'csshctl:\n  ssh: /usr/bin/ssh\n');
    expect((await bcl(['config', 'get', 'csshctl.ssh'])).stdout).toBe('/usr/bin/ssh\n');
    const env = await runCli('bcl', ['config', 'get', 'bcl.update.store'], {env: {...home.env, BCL_BCL_UPDATE_STORE: '/srv/releases'}, cwd: repo});
    expect(env.stdout).toBe('/srv/releases\n');
    const explicit = join(home.home, 'ci.yaml');
    writeFileSync(explicit, 'csshctl:\n  ssh: /opt/ssh\n');
    expect((await bcl(['config', 'get', 'csshctl.ssh', '--config', explicit])).stdout).toBe('/opt/ssh\n');
  });

  it('config trust without a project file is exit 3 saying so', async () => {
    const res = await bcl(['config', 'trust', '--json'], home.home);
    expect(res.exitCode).toBe(3);
    expect(res.json().error).toMatchObject({code: 'config.no_project_file'});
  });
});
