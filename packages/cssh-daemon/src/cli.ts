import {mkdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {parseArgs} from 'node:util';
import {ExitCode, type KnownError, pathProblem, runServerCli, type ServerIo, UsageError} from '@bcl/server-cli';

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

/** 6: `status` of a host where the daemon never ran. */
const EXIT = {...ExitCode, never: 6} as const;

type Io = ServerIo;

export async function main(argv: string[], io?: ServerIo): Promise<number> {
  return runServerCli(
    {
      name: 'cssh-daemon',
      usage: USAGE,
      version: () => (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {version: string}).version,
      commands: {run: (args, out) => run('run', args, out), once: (args, out) => run('once', args, out), status},
      known,
      debugEnv: 'CSSH_DAEMON_DEBUG',
    },
    argv,
    io,
  );
}

/** Its configuration file, and the paths it names. */
async function known(error: unknown): Promise<KnownError | undefined> {
  const {InvalidFileError} = await import('@bcl/cssh-authz/yaml-file');
  if (error instanceof InvalidFileError) return {exitCode: ExitCode.invalid};
  return pathProblem(error, 'check the paths in the configuration (serverCa, identity, files, stateDir).');
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
