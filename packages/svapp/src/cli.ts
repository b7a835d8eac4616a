import {parseArgs} from 'node:util';

/**
 * `svapp`: a server's command line, without oclif (servers never load the CLI framework). Exit
 * codes follow the BCL contract: 0 ok, 1 unexpected, 2 usage, 3 invalid configuration or
 * policy, 5 a service it needs (PostgreSQL) unavailable.
 */
const USAGE = `svapp: the svctl back end (deploys, rollbacks, builds and reads under the deploy policy)

Usage:
  svapp serve --config <file>          run the service (the policy and TLS files are re-read on change)
  svapp check --config <file>          validate the configuration, the policy and the TLS files
  svapp check-policy <file> [--json]   validate a deploy policy file (for the policy repository's CI)
  svapp --version | --help
`;

const EXIT = {ok: 0, unexpected: 1, usage: 2, invalid: 3, unavailable: 5} as const;

class UsageError extends Error {}

type Io = {out: (s: string) => void; err: (s: string) => void};

export async function main(argv: string[], io: Io = {out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s)}): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'check-policy' && (rest.includes('--help') || rest.includes('-h'))) {
    io.out(USAGE);
    return EXIT.ok;
  }
  try {
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.out(USAGE);
        return EXIT.ok;
      case '--version': {
        const {version} = await import('./version.js');
        io.out(`svapp/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
        return EXIT.ok;
      }
      case 'serve':
        return await serve(rest, io);
      case 'check':
        return await check(rest, io);
      case 'check-policy': {
        const {runCheckPolicy} = await import('@bcl/deploy-policy');
        return runCheckPolicy(rest, {stdout: io.out, stderr: io.err});
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    return report(error, io);
  }
}

function configFlag(args: string[]): string {
  const {values} = parseArgs({args, options: {config: {type: 'string', short: 'c'}}, strict: true, allowPositionals: false});
  if (!values.config) throw new UsageError('--config <file> is required');
  return values.config;
}

async function serve(args: string[], io: Io): Promise<number> {
  const file = configFlag(args);
  const {loadSvappConfig} = await import('./config.js');
  const {startSvapp} = await import('./main.js');
  const {jsonLog} = await import('./log.js');
  const log = jsonLog(io.err);
  const config = loadSvappConfig(file);
  const running = await startSvapp(config, log);
  log.info(`svapp listening on ${running.url}`, {replica: running.app.context.replica, protocol: running.app.context.protocol});
  return await new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info(`${signal}: stopping; running operations are handed over to another replica`);
      running.stop().then(
        () => resolve(EXIT.ok),
        (error: unknown) => {
          log.error(`stopping: ${(error as Error).message}`);
          resolve(EXIT.unexpected);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

async function check(args: string[], io: Io): Promise<number> {
  const file = configFlag(args);
  const {loadSvappConfig} = await import('./config.js');
  const {checkPolicyFile, summarizePolicy} = await import('@bcl/deploy-policy');
  const {SpecError} = await import('@bcl/spec-loader');
  const {loadTlsMaterial, MemoryCrlNumberStore} = await import('@bcl/mtls');
  const {readSecret} = await import('./secrets.js');
  const config = loadSvappConfig(file);
  const policy = checkPolicyFile(config.policy);
  if (!policy.ok) throw new SpecError(config.policy, policy.problems, policy.reason);
  await loadTlsMaterial(config.tls, {crlNumbers: new MemoryCrlNumberStore(), record: false});
  readSecret('database.url', config.database.url);
  io.out(`${file}: valid\n  policy: ${config.policy}: ${summarizePolicy(policy.policy)}\n  catalog: ${config.catalog}\n  clusters: ${Object.keys(config.clusters).join(', ') || 'none'}\n  listen: ${config.listen}\n`);
  return EXIT.ok;
}

async function report(error: unknown, io: Io): Promise<number> {
  const {isSpecError} = await import('@bcl/spec-loader');
  const {TlsMaterialError} = await import('@bcl/mtls');
  const {ConfigError} = await import('./secrets.js');
  const message = (error as Error).message;
  if (error instanceof UsageError || (error as {code?: string}).code?.startsWith('ERR_PARSE_ARGS')) {
    io.err(`Error: ${message}\nHint: run svapp --help for the usage.\n`);
    return EXIT.usage;
  }
  if (isSpecError(error) || error instanceof TlsMaterialError || error instanceof ConfigError) {
    io.err(`Error: ${message}\n`);
    return EXIT.invalid;
  }
  const errno = error as NodeJS.ErrnoException;
  if (errno.syscall === 'listen') {
    io.err(`Error: cannot listen: ${message}\nHint: change "listen" in the configuration.\n`);
    return EXIT.invalid;
  }
  if (['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', '28P01', '3D000'].includes(errno.code ?? '')) {
    io.err(`Error: the database is unavailable: ${message}\n`);
    return EXIT.unavailable;
  }
  io.err(`Error: ${message}\n${process.env.SVAPP_DEBUG ? `${(error as Error).stack}\n` : ''}`);
  return EXIT.unexpected;
}
