import {type ChildProcess, spawn} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {freePort} from './ports.js';
import {run} from './run.js';
import {tempDir} from './temp.js';
import {chownTo, serviceUser} from './users.js';
import {waitFor} from './wait.js';

export interface MariaDbServer {
  host: string;
  port: number;
  /** An administrative account ('root'@'%', all privileges with grant option). */
  user: string;
  /** Its password (a test secret). */
  password: string;
  /** mysql://root:password@127.0.0.1:port */
  url: string;
  version: string;
  dataDir: string;
  logFile: string;
  /** Runs SQL with the mariadb client as the administrator (or the given account) and returns its tab-separated output. */
  sql(statements: string, as?: {user: string; password: string; database?: string}): Promise<string>;
  stop(): Promise<void>;
}

const SERVER_CANDIDATES = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'];

/** Debian's mariadb-server binaries; scripts/lib/dbctl.sh installs them when missing. */
export function mariadbBinaries(): {server: string; installDb: string; client: string} {
  const server = SERVER_CANDIDATES.find((p) => existsSync(p));
  const installDb = ['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db'].find((p) => existsSync(p));
  const client = ['/usr/bin/mariadb', '/usr/bin/mysql'].find((p) => existsSync(p));
  if (!server || !installDb || !client) {
    throw new Error('MariaDB binaries not found (mariadbd, mariadb-install-db, mariadb): run scripts/test, which installs Debian\'s mariadb-server');
  }
  return {server, installDb, client};
}

/**
 * Starts a real MariaDB server: mariadb-install-db into a temp datadir, mariadbd on a free port of
 * 127.0.0.1 (as the `mysql` user when running as root), an administrator with a random password.
 * `stop()` shuts it down and removes the data.
 */
export async function startMariaDb(): Promise<MariaDbServer> {
  const bins = mariadbBinaries();
  const user = serviceUser(['mysql']);
  const dir = tempDir('bcl-mariadb-');
  chownTo(dir.path, user);
  const dataDir = join(dir.path, 'data');
  const socket = join(dir.path, 'mariadb.sock');
  const logFile = join(dir.path, 'error.log');
  const password = randomBytes(18).toString('base64url');
  const env = {...process.env, LANG: 'C.UTF-8'};
  const userArgs = user ? [`--user=${user.name}`] : [];
  let child: ChildProcess | undefined;
  const kill = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child!.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child?.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await run(
      bins.installDb,
      ['--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...userArgs],
      {env, timeoutMs: 120_000},
    );
    const port = await freePort();
    child = spawn(
      bins.server,
      [
        '--no-defaults',
        `--datadir=${dataDir}`,
        `--socket=${socket}`,
        `--pid-file=${join(dir.path, 'mariadb.pid')}`,
        `--log-error=${logFile}`,
        '--bind-address=127.0.0.1',
        `--port=${port}`,
        '--skip-name-resolve',
        '--skip-log-bin',
        '--innodb-buffer-pool-size=32M',
        '--innodb-log-file-size=16M',
        '--innodb-flush-log-at-trx-commit=0',
        '--performance-schema=OFF',
        ...userArgs,
      ],
      {env, stdio: ['ignore', 'ignore', 'pipe']},
    );
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += d));
    const early = new Promise<never>((_, reject) => child!.once('exit', (code) => reject(new Error(`mariadbd exited with code ${code}: ${stderr}`))));
    // Until a password is set, root@localhost logs in through the socket without one.
    const rootSocket = (sql: string) => run(bins.client, ['--no-defaults', `--socket=${socket}`, '-uroot', '-N', '-B'], {env, input: sql});
    await Promise.race([waitFor('MariaDB to accept connections', async () => (await rootSocket('SELECT 1')).code === 0, {timeoutMs: 60_000, intervalMs: 200}), early]);
    await rootSocket(
      // mariadb-install-db also makes root@127.0.0.1, root@::1 and root@<hostname> without a password: only localhost and % stay.
      `DELETE FROM mysql.global_priv WHERE User = 'root' AND Host NOT IN ('localhost'); FLUSH PRIVILEGES; CREATE USER 'root'@'%' IDENTIFIED BY '${password}'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION; ALTER USER 'root'@'localhost' IDENTIFIED BY '${password}'; DELETE FROM mysql.global_priv WHERE User = ''; FLUSH PRIVILEGES;`,
    );
    const version = (await rootSocketWithPassword(bins.client, socket, password, 'SELECT VERSION()')).trim();
    const server: MariaDbServer = {
      host: '127.0.0.1',
      port,
      user: 'root',
      password,
      url: `mysql://root:${encodeURIComponent(password)}@127.0.0.1:${port}`,
      version,
      dataDir,
      logFile,
      async sql(statements, as) {
        const out = await run(
          bins.client,
          ['--no-defaults', '-h', '127.0.0.1', '-P', String(port), '-u', as?.user ?? 'root', '-N', '-B', ...(as?.database ? ['-D', as.database] : [])],
          {env: {...env, MYSQL_PWD: as?.password ?? password}, input: statements},
        );
        return out.stdout.trim();
      },
      async stop() {
        await kill();
        dir.remove();
      },
    };
    return server;
  } catch (error) {
    await kill().catch(() => undefined);
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
    dir.remove();
    throw new Error(`MariaDB did not start: ${(error as Error).message}${log ? `\nlog:\n${log}` : ''}`);
  }
}

async function rootSocketWithPassword(client: string, socket: string, password: string, sql: string): Promise<string> {
  const out = await run(client, ['--no-defaults', `--socket=${socket}`, '-uroot', '-N', '-B'], {env: {...process.env, MYSQL_PWD: password}, input: sql});
  return out.stdout;
}
