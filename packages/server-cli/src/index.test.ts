import {ExitCode as CoreExitCode} from '@bcl/core/errors';
import {describe, expect, it} from 'vitest';
import {configFlag, ExitCode, pathProblem, runServerCli, type ServerCli, UsageError, verbs} from './index.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {io: {out: (s: string) => void out.push(s), err: (s: string) => void err.push(s)}, out: () => out.join(''), err: () => err.join('')};
}

const fail = (error: unknown) => async () => {
  throw error;
};
const errno = (code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`${code}: something`), {code, ...extra});

const cli = (commands: ServerCli['commands'], extra: Partial<ServerCli> = {}): ServerCli => ({name: 'demo-server', usage: 'demo-server: usage text\n', version: () => '1.2.3', commands, debugEnv: 'DEMO_SERVER_DEBUG_TEST', ...extra});

async function run(c: ServerCli, argv: string[]) {
  const io = capture();
  const code = await runServerCli(c, argv, io.io);
  return {code, out: io.out(), err: io.err()};
}

describe('a server command line', () => {
  it('uses the exit codes of the CLI contract', () => {
    for (const [name, value] of Object.entries(ExitCode)) expect(CoreExitCode[name as keyof typeof CoreExitCode], name).toBe(value);
  });

  it('prints the usage for no command, help, --help and -h anywhere, and the version', async () => {
    const c = cli({serve: async () => 9});
    for (const argv of [[], ['help'], ['--help'], ['-h'], ['serve', '--help'], ['serve', '--config', 'x', '-h']]) {
      expect(await run(c, argv), argv.join(' ')).toEqual({code: 0, out: 'demo-server: usage text\n', err: ''});
    }
    const version = await run(c, ['--version']);
    expect(version.code).toBe(0);
    expect(version.out).toBe(`demo-server/1.2.3 ${process.platform}-${process.arch} node-${process.version}\n`);
  });

  it('lets a command that reads --help itself have it', async () => {
    const c = cli({lint: async (args, io) => (io.out(`lint ${args.join(' ')}\n`), 0)}, {ownHelp: ['lint']});
    expect(await run(c, ['lint', '--help'])).toEqual({code: 0, out: 'lint --help\n', err: ''});
  });

  it('runs a command with the rest of the line and returns its exit code', async () => {
    const c = cli({serve: async (args, io) => (io.out(`serving ${configFlag(args)}\n`), 0)});
    expect(await run(c, ['serve', '--config', 'a.yaml'])).toEqual({code: 0, out: 'serving a.yaml\n', err: ''});
  });

  it('answers usage mistakes with exit 2 and a pointer to --help', async () => {
    const c = cli({serve: async (args) => (configFlag(args), 0), db: verbs('db', {migrate: async () => 0, import: async () => 0})});
    const cases: [string[], string][] = [
      [['launch'], 'unknown command "launch"'],
      [['serve'], '--config <file> is required'],
      [['serve', '--config', 'a', '--port', '1'], "Unknown option '--port'"],
      [['db'], 'db needs a verb: migrate or import'],
      [['db', 'drop'], 'unknown command "db drop" (expected db migrate or db import)'],
    ];
    for (const [argv, message] of cases) {
      const r = await run(c, argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toContain(`Error: ${message}`);
      expect(r.err).toContain('Hint: run demo-server --help for the usage.');
    }
    expect((await run(c, ['db', 'migrate'])).code).toBe(0);
  });

  it('asks the server about its own errors first, with its message and hint', async () => {
    class Mine extends Error {}
    const c = cli({a: fail(new Mine('the rules file is broken')), b: fail(new Error('other'))}, {known: (e) => (e instanceof Mine ? {exitCode: 3, hint: 'fix it'} : undefined)});
    expect(await run(c, ['a'])).toEqual({code: 3, out: '', err: 'Error: the rules file is broken\nHint: fix it\n'});
    expect((await run(c, ['b'])).code).toBe(1);
  });

  it('knows addresses it cannot listen on, refused database logins and services out of reach', async () => {
    const c = cli({
      listen: fail(errno('EADDRINUSE', {syscall: 'listen'})),
      password: fail(errno('28P01')),
      database: fail(errno('3D000')),
      refused: fail(errno('ECONNREFUSED')),
      starting: fail(errno('57P03')),
    });
    expect(await run(c, ['listen'])).toMatchObject({code: 3, err: expect.stringContaining('cannot listen: EADDRINUSE') as unknown});
    expect(await run(c, ['password'])).toMatchObject({code: 3, err: expect.stringContaining('the database refused the configured connection') as unknown});
    expect((await run(c, ['database'])).code).toBe(3);
    expect((await run(c, ['refused'])).code).toBe(5);
    expect((await run(c, ['starting'])).code).toBe(5);
  });

  it('shows the stack of an unexpected error only when asked to', async () => {
    const c = cli({boom: fail(new Error('it broke'))});
    expect(await run(c, ['boom'])).toEqual({code: 1, out: '', err: 'Error: it broke\n'});
    process.env.DEMO_SERVER_DEBUG_TEST = '1';
    try {
      expect((await run(c, ['boom'])).err).toMatch(/^Error: it broke\nError: it broke\n\s+at /);
    } finally {
      delete process.env.DEMO_SERVER_DEBUG_TEST;
    }
  });

  it('names a path of the configuration that cannot be used (and leaves other errors alone)', async () => {
    const known = pathProblem(errno('ENOTDIR', {path: '/srv/state', syscall: 'mkdir'}), 'check stateDir.');
    expect(known).toEqual({exitCode: 3, message: 'cannot use /srv/state: ENOTDIR: something', hint: 'check stateDir.'});
    expect(pathProblem(errno('ENOTDIR'), 'x')).toBeUndefined();
    expect(pathProblem(errno('EACCES', {path: '/x', syscall: 'listen'}), 'x')).toBeUndefined();
    expect(pathProblem(new UsageError('no'), 'x')).toBeUndefined();
  });
});
