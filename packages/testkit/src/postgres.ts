import {randomBytes} from 'node:crypto';
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {freePort} from './ports.js';
import {run} from './run.js';
import {tempDir} from './temp.js';
import {chownTo, serviceUser} from './users.js';

export interface PostgresServer {
  host: string;
  port: number;
  /** The superuser. */
  user: string;
  /** The superuser's password (a test secret). */
  password: string;
  database: string;
  /** postgres://user:password@host:port/database */
  url: string;
  version: string;
  dataDir: string;
  logFile: string;
  binDir: string;
  /** Runs SQL with psql as the superuser (or the given role) and returns its unaligned output. */
  psql(sql: string, as?: {user: string; password: string; database?: string}): Promise<string>;
  stop(): Promise<void>;
}

/** The newest PostgreSQL server binaries on the machine (PG_BIN overrides). */
export function postgresBinDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(base, versions[0], 'bin');
  }
  throw new Error('PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin; set PG_BIN)');
}

/**
 * Starts a real PostgreSQL server: initdb into a temp data dir, pg_ctl start on a free port of
 * 127.0.0.1 with password authentication, wait until ready. `stop()` stops it and removes the data.
 */
export async function startPostgres(options: {settings?: Record<string, string>} = {}): Promise<PostgresServer> {
  const binDir = postgresBinDir();
  const user = serviceUser(['postgres']);
  const dir = tempDir('bcl-pg-');
  chownTo(dir.path, user);
  const dataDir = join(dir.path, 'data');
  const socketDir = dir.path;
  const logFile = join(dir.path, 'postgres.log');
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(dir.path, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, {mode: 0o600});
  chownTo(pwfile, user);
  const env = {...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8'};
  const as = user ? {user} : {};
  try {
    await run(join(binDir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-locale', '--no-sync'], {env, ...as});
    const port = await freePort();
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      port: String(port),
      unix_socket_directories: socketDir,
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      max_connections: '200',
      ...options.settings,
    };
    const opts = Object.entries(settings)
      .map(([k, v]) => `-c ${k}=${v}`)
      .join(' ');
    await run(join(binDir, 'pg_ctl'), ['-D', dataDir, '-l', logFile, '-o', opts, '-w', '-t', '60', 'start'], {env, ...as});
    const version = readFileSync(join(dataDir, 'PG_VERSION'), 'utf8').trim();
    const server: PostgresServer = {
      host: '127.0.0.1',
      port,
      user: 'postgres',
      password,
      database: 'postgres',
      url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
      version,
      dataDir,
      logFile,
      binDir,
      async psql(sql, role) {
        const out = await run(
          join(binDir, 'psql'),
          ['-h', '127.0.0.1', '-p', String(port), '-U', role?.user ?? 'postgres', '-d', role?.database ?? 'postgres', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-f', '-'],
          {env: {...env, PGPASSWORD: role?.password ?? password, PGCONNECT_TIMEOUT: '10'}, input: sql},
        );
        return out.stdout.trim();
      },
      async stop() {
        await run(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', 'stop'], {env, ...as, allowFailure: true});
        dir.remove();
      },
    };
    return server;
  } catch (error) {
    await run(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', 'stop'], {env, ...as, allowFailure: true}).catch(() => undefined);
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
    dir.remove();
    throw new Error(`PostgreSQL did not start: ${(error as Error).message}${log ? `\nlog:\n${log}` : ''}`);
  }
}
