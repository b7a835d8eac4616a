import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {isolatedHome, type IsolatedHome, runCli} from '@bcl/testkit';

// The contract is tested through real launchers as subprocesses: the bcl host and the tools, and a
// fixture CLI built on the same framework whose commands fail in each documented way.
const fixture = fileURLToPath(new URL('./fixtures/contract-cli/bin/run.js', import.meta.url));

let home: IsolatedHome;
beforeEach(() => {
  home = isolatedHome();
});
afterEach(() => home.remove());

describe('--version and --help', () => {
  it.each(['bcl', 'svctl', 'dbctl', 'pkictl', 'csshctl'])('%s answers --version and --help', async (tool) => {
    const version = await runCli(tool, ['--version'], {env: home.env});
    expect(version.exitCode).toBe(0);
    expect(version.stdout).toMatch(new RegExp(`^${tool}/\\d+\\.\\d+\\.\\d+ ${process.platform}-${process.arch} node-v\\d+`));
    const help = await runCli(tool, ['--help'], {env: home.env});
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('USAGE');
    expect(help.stdout).toContain(`$ ${tool}`);
    expect(help.stderr).toBe('');
  });

  it('bcl <tool> ... runs the tool', async () => {
    const help = await runCli('bcl', ['--help'], {env: home.env});
    // The tools bcl found by their package.json, in name order.
    expect(help.stdout).toMatch(/TOOLS[^\n]*\n {2}csshctl .*\n {2}dbctl .*\n(?: .*\n)* {2}pkictl .*\n {2}svctl +Build and deploy services/);
    const viaHost = await runCli('bcl', ['svctl', '--version'], {env: home.env});
    expect(viaHost.stdout).toMatch(/^svctl\//);
    const config = await runCli('bcl', ['--json', 'pkictl', 'config'], {env: home.env});
    expect(config.json().ok).toBe(true);
  });

  it('shows help for a command, and a usage error (exit 2) for an unknown one', async () => {
    const help = await runCli('bcl', ['config', 'set', '--help'], {env: home.env});
    expect(help.stdout).toContain('bcl config set KEY VALUE');
    const unknown = await runCli('bcl', ['--json', 'no-such-command'], {env: home.env});
    expect(unknown.exitCode).toBe(2);
    expect(unknown.json().error).toMatchObject({code: 'usage'});
  });
});

describe('the JSON envelope', () => {
  it('prints exactly one document on stdout, with warnings, and nothing else', async () => {
    const res = await runCli(fixture, ['ok', '--json'], {env: home.env});
    expect(res.exitCode).toBe(0);
    expect(res.json()).toEqual({ok: true, result: {hello: 'world', items: [1, 2]}, warnings: ['something to know']});
    // stderr is not a TTY here, so notices stay silent in JSON mode.
    expect(res.stderr).toBe('');
  });

  it('renders the same result for people without --json, notices on stderr', async () => {
    const res = await runCli(fixture, ['ok'], {env: home.env});
    expect(res.stdout).toContain('hello:');
    expect(res.stdout).toContain('world');
    expect(res.stderr).toContain('a notice for people');
    expect(res.stderr).toContain('Warning: something to know');
  });

  it('global flags may come before the command', async () => {
    const res = await runCli('bcl', ['--json', 'config', 'list'], {env: home.env});
    expect(res.exitCode).toBe(0);
    const envelope = res.json<{ok: boolean; result: {entries: {key: string}[]}}>();
    expect(envelope.ok).toBe(true);
    expect(envelope.result.entries.map((e) => e.key)).toContain('bcl.update.channel');
  });
});

describe('exit codes and error reports', () => {
  const cases: [string, number, string][] = [
    ['usage', 2, 'usage'],
    ['invalid', 3, 'spec.invalid'],
    ['denied', 4, 'auth.denied'],
    ['unavailable', 5, 'http.unreachable'],
    ['conflict', 6, 'lock.held'],
    ['failed', 7, 'rollout.failed'],
    ['process', 7, 'process.failed'],
    ['bug', 1, 'unexpected'],
  ];
  it.each(cases)('%s exits %i with code %s in the envelope', async (kind, exitCode, code) => {
    const res = await runCli(fixture, ['fail', '--kind', kind, '--json'], {env: home.env});
    expect(res.exitCode).toBe(exitCode);
    const envelope = res.json<{ok: boolean; error: {code: string; message: string}}>();
    expect(envelope.ok).toBe(false);
    expect(envelope.error.code).toBe(code);
    expect(envelope.error.message.length).toBeGreaterThan(0);
    expect(res.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('names the URL that could not be reached', async () => {
    const res = await runCli(fixture, ['fail', '--kind', 'unavailable'], {env: home.env});
    expect(res.stderr).toContain('cannot reach http://127.0.0.1:9/nothing-listens-here');
  });

  it('shows message and hint without a stack trace, and the stack only with --verbose', async () => {
    const plain = await runCli(fixture, ['fail', '--kind', 'usage'], {env: home.env});
    expect(plain.stderr).toContain('Error: bad usage');
    expect(plain.stderr).toContain('Hint: use it right');
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const bug = await runCli(fixture, ['fail', '--kind', 'bug'], {env: home.env});
    expect(bug.stderr).not.toMatch(/\n\s+at /);
    const verbose = await runCli(fixture, ['fail', '--kind', 'bug', '--verbose'], {env: home.env});
    expect(verbose.stderr).toMatch(/TypeError: a bug\n\s+at /);
  });

  it('reports an unknown flag as a usage error', async () => {
    const res = await runCli(fixture, ['ok', '--nope', '--json'], {env: home.env});
    expect(res.exitCode).toBe(2);
    expect(res.json().error?.message).toContain('--nope');
  });

  it('includes the tail of a failed child process', async () => {
    const res = await runCli(fixture, ['fail', '--kind', 'process'], {env: home.env});
    expect(res.stderr).toContain("sh -c 'echo out; echo \"it broke\" >&2; exit 3' exited with code 3");
    expect(res.stderr).toContain('it broke');
  });
});

describe('broken configuration', () => {
  it('makes bcl and every tool command that reads configuration exit 3, naming file and key', async () => {
    const project = join(home.home, 'project');
    mkdirSync(project);
    writeFileSync(join(project, '.bcl.yaml'), 'bcl:\n  update:\n    keep: many\n');
    for (const [tool, args] of [
      ['bcl', ['--json', 'config', 'list']],
      ['svctl', ['config', '--json']],
      ['dbctl', ['config', '--json']],
      ['pkictl', ['config', '--json']],
      ['csshctl', ['config', '--json']],
      ['bcl', ['doctor', '--json']],
    ] as const) {
      const res = await runCli(tool, [...args], {env: home.env, cwd: project});
      expect(res.exitCode, `${tool} ${args.join(' ')}`).toBe(3);
      const error = res.json<{error: {code: string; message: string}}>().error;
      expect(error.code).toBe('config.invalid');
      expect(error.message).toContain(`${join(project, '.bcl.yaml')}:3`);
      expect(error.message).toContain('bcl.update.keep');
    }
  });

  it('refuses a broken key of another tool in every tool, so the file is valid or not for all', async () => {
    const project = join(home.home, 'project');
    mkdirSync(project);
    writeFileSync(join(project, '.bcl.yaml'), 'svctl:\n  clusters:\n    prod: {contxt: p}\n');
    const res = await runCli('pkictl', ['config'], {env: home.env, cwd: project});
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toContain(`${join(project, '.bcl.yaml')}:3:12: svctl.clusters.prod.contxt: unknown key (did you mean "context"?)`);
  });
});

describe('interactivity', () => {
  it('never prompts when stdin is not a TTY: a missing input is exit 2 naming the flag', async () => {
    const {CI: _ci, ...env} = home.env;
    const res = await runCli(fixture, ['ask', '--json'], {env});
    expect(res.exitCode).toBe(2);
    const error = res.json<{error: {code: string; message: string; details: {flag: string}}}>().error;
    expect(error.message).toContain('give --name');
    expect(error.message).toContain('stdin is not a terminal');
    expect(error.details.flag).toBe('--name');
  });

  it('says why it does not prompt under CI=true and --non-interactive', async () => {
    const ci = await runCli(fixture, ['ask'], {env: home.env});
    expect(ci.stderr).toContain('CI is set');
    const flag = await runCli(fixture, ['ask', '--non-interactive'], {env: {...home.env, CI: 'false'}});
    expect(flag.stderr).toContain('--non-interactive');
  });

  it('takes the flag instead', async () => {
    const res = await runCli(fixture, ['ask', '--name', 'ada', '--json'], {env: home.env});
    expect(res.json().result).toEqual({name: 'ada', interactive: false});
  });
});

describe('secrets', () => {
  const token = 'tok-3f9a1c77e0b2';

  it('are redacted from notices, warnings, child output and errors', async () => {
    const human = await runCli(fixture, ['secret', '--fail'], {env: {...home.env, FIXTURE_TOKEN: token}});
    expect(human.exitCode).toBe(7);
    expect(human.stdout + human.stderr).not.toContain(token);
    expect(human.stderr).toContain('using token ***');
    expect(human.stderr).toContain('child: child saw ***');
    expect(human.stderr).toContain('failed with ***');
    const json = await runCli(fixture, ['secret', '--json'], {env: {...home.env, FIXTURE_TOKEN: token}});
    expect(json.stdout).not.toContain(token);
    expect(json.json().result).toEqual({stdout: 'child saw ***', token: '***'});
  });

  it('are refused on a child command line', async () => {
    const res = await runCli(fixture, ['secret', '--on-args', '--json'], {env: {...home.env, FIXTURE_TOKEN: token}});
    expect(res.exitCode).toBe(1);
    expect(res.json().error).toMatchObject({code: 'process.secret_in_args'});
    expect(res.stdout).not.toContain(token);
  });
});

describe('interruption', () => {
  it('SIGINT cancels the operation, lets it clean up, and exits 130', async () => {
    const marker = join(home.home, 'cleanup-marker');
    const res = await runCli(fixture, ['wait', '--marker', marker], {env: home.env, interruptOn: /waiting: for SIGINT/});
    expect(res.exitCode).toBe(130);
    expect(existsSync(marker)).toBe(true);
    expect(readFileSync(marker, 'utf8')).toBe('cleaned up');
    expect(res.stderr).toContain('stopped waiting; nothing was changed');
  });
});

describe('progress', () => {
  it('prints plain timestamped lines when stderr is not a TTY, and the result on stdout', async () => {
    const res = await runCli(fixture, ['progress'], {env: home.env});
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z api: 1\/2 ready$/m);
    expect(res.stderr).toMatch(/Z worker: done: ready$/m);
    expect(res.stdout).toBe('NAME    READY\napi     2\nworker  1\n');
  });

  it('stays silent with --quiet', async () => {
    const res = await runCli(fixture, ['progress', '--quiet'], {env: home.env});
    expect(res.stderr).toBe('');
  });
});
