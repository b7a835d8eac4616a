import {mkdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {parseArgs} from 'node:util';

/**
 * `cssh-daemon`: the host agent's command line, without oclif (it runs on every host, as a
 * service). Exit codes follow the BCL contract: 0 ok, 1 unexpected, 2 usage, 3 invalid
 * configuration, 5 cssh-authz unavailable or the files stale, 6 it never ran.
 */
const USAGE = `cssh-daemon: keeps this host's SSH CA keys, KRL and accounts in step with cssh-authz

Usage:
  cssh-daemon run --config <file>        run (the systemd unit does); SIGHUP refreshes at once
  cssh-daemon once --config <file>       one refresh, then exit (5 when something failed)
  cssh-daemon status [--config <file>] [--state-dir <dir>] [--json]
                                         when each file was refreshed, the KRL version, the
                                         managed accounts; exit 5 when stale, 6 when it never ran
  cssh-daemon --version | --help
`;

const EXIT = {ok: 0, unexpected: 1, usage: 2, invalid: 3, unavailable: 5, never: 6} as const;

class UsageError extends Error {}

type Io = {out: (s: string) => void; err: (s: string) => void};

export async function main(argv: string[], io: Io = {out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s)}): Promise<number> {
  const [command, ...rest] = argv;
  if (rest.includes('--help') || rest.includes('-h') || command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.out(USAGE);
    return EXIT.ok;
  }
  try {
    switch (command) {
      case '--version': {
        const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {version: string};
        io.out(`cssh-daemon/${pjson.version} ${process.platform}-${process.arch} node-${process.version}\n`);
        return EXIT.ok;
      }
      case 'run':
      case 'once':
        return await run(command, rest, io);
      case 'status':
        return await status(rest, io);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    const {InvalidFileError} = await import('@bcl/cssh-authz/yaml-file');
    const message = (error as Error).message;
    if (error instanceof UsageError || (error as {code?: string}).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`Error: ${message}\nHint: run cssh-daemon --help for the usage.\n`);
      return EXIT.usage;
    }
    if (error instanceof InvalidFileError) {
      io.err(`Error: ${message}\n`);
      return EXIT.invalid;
    }
    const errno = error as NodeJS.ErrnoException;
    if (errno.path && ['EACCES', 'EPERM', 'ENOENT', 'ENOTDIR', 'EROFS', 'EISDIR'].includes(errno.code ?? '')) {
      io.err(`Error: cannot use ${errno.path}: ${message}\nHint: check the paths in the configuration (serverCa, identity, files, stateDir).\n`);
      return EXIT.invalid;
    }
    io.err(`Error: ${message}\n${process.env.CSSH_DAEMON_DEBUG ? `${(error as Error).stack}\n` : ''}`);
    return EXIT.unexpected;
  }
}

async function run(command: 'run' | 'once', args: string[], io: Io): Promise<number> {
  const {values} = parseArgs({args, strict: true, allowPositionals: false, options: {config: {type: 'string', short: 'c'}}});
  if (!values.config) throw new UsageError('--config <file> is required');
  const {loadDaemonConfig} = await import('./config.js');
  const {authzHttp} = await import('./client.js');
  const {writeFileAtomic, readIfExists} = await import('./files.js');
  const {systemAccounts} = await import('./system-accounts.js');
  const {loadStatus, runDaemon, syncOnce} = await import('./daemon.js');
  const config = loadDaemonConfig(values.config);
  mkdirSync(config.stateDir, {recursive: true, mode: 0o700});
  const log = (message: string) => io.err(`${new Date().toISOString()} ${message}\n`);
  const deps = {config, http: authzHttp(config), io: {read: readIfExists, write: writeFileAtomic}, accounts: systemAccounts(), now: () => new Date(), log};
  if (command === 'once') {
    const after = await syncOnce(deps, loadStatus(deps));
    return [after.krl, after.caKeys, ...(config.accounts.manage ? [after.accounts] : [])].some((r) => r.error !== null) ? EXIT.unavailable : EXIT.ok;
  }
  log(`cssh-daemon for ${config.hostname}: every ${config.intervalSeconds}s from ${config.server}`);
  const stop = new AbortController();
  const onStop = (signal: string) => {
    log(`${signal}: stopping`);
    stop.abort();
  };
  process.once('SIGTERM', () => onStop('SIGTERM'));
  process.once('SIGINT', () => onStop('SIGINT'));
  await runDaemon(deps, stop.signal, {on: (listener) => process.on('SIGHUP', listener)});
  return EXIT.ok;
}

async function status(args: string[], io: Io): Promise<number> {
  const {values} = parseArgs({args, strict: true, allowPositionals: false, options: {config: {type: 'string', short: 'c'}, 'state-dir': {type: 'string'}, json: {type: 'boolean'}}});
  const {readDaemonStatus, assessDaemonStatus, DEFAULT_STATE_DIR, STATUS_FILE} = await import('./status.js');
  let stateDir = values['state-dir'];
  if (!stateDir && values.config) stateDir = (await import('./config.js')).loadDaemonConfig(values.config).stateDir;
  const file = join(stateDir ?? DEFAULT_STATE_DIR, STATUS_FILE);
  const read = readDaemonStatus(file);
  if ('missing' in read) {
    io.out(values.json ? `${JSON.stringify({ok: false, stale: true, error: read.missing}, null, 2)}\n` : `${read.missing}\n`);
    return EXIT.never;
  }
  const report = assessDaemonStatus(read.status, new Date());
  if (values.json) {
    io.out(`${JSON.stringify({ok: !report.stale, stale: report.stale, checks: report.checks, status: read.status}, null, 2)}\n`);
  } else {
    const mark = {ok: '✓', warn: '!', fail: '✗'} as const;
    const s = read.status;
    io.out(
      [
        `cssh-daemon on ${s.hostname}, from ${s.server} (last cycle ${s.updatedAt}, pid ${s.pid})`,
        ...report.checks.map((c) => `${mark[c.status]} ${c.message}${c.hint && c.status !== 'ok' ? `\n    ${c.hint}` : ''}`),
        ...(s.accounts.enabled ? s.accounts.managed.map((a) => `  ${a.login} (uid ${a.uid}): ${a.state}${a.lockedAt ? ` since ${a.lockedAt}` : ''}, created ${a.createdAt}`) : []),
        ...(s.accounts.notManaged.length > 0 ? [`  granted, existing, not managed: ${s.accounts.notManaged.join(', ')}`] : []),
        '',
      ].join('\n'),
    );
  }
  return report.stale ? EXIT.unavailable : EXIT.ok;
}
