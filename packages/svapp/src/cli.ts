import {configFlag, ExitCode, runServerCli, type ServerIo} from '@bcl/server-cli';

/**
 * `svapp`: a server's command line, without oclif (@bcl/core/server-cli). Exit codes follow the
 * BCL contract: 0 ok, 1 unexpected, 2 usage, 3 invalid configuration or policy (or a database
 * refusing the configured login), 5 a service it needs (PostgreSQL) unavailable.
 */
const USAGE = `svapp: the svctl back end (deploys, rollbacks, builds and reads under the deploy policy)

Usage:
  svapp serve --config <file>          run the service (the policy and TLS files are re-read on change)
  svapp check --config <file>          validate the configuration, the policy and the TLS files
  svapp check-policy <file> [--json]   validate a deploy policy file (for the policy repository's CI)
  svapp --version | --help
`;

export async function main(argv: string[], io?: ServerIo): Promise<number> {
  const {version} = await import('./version.js');
  return runServerCli(
    {
      name: 'svapp',
      usage: USAGE,
      version: () => version,
      commands: {
        serve,
        check,
        'check-policy': async (args, out) => (await import('@bcl/deploy-policy')).runCheckPolicy(args, {stdout: out.out, stderr: out.err}),
      },
      ownHelp: ['check-policy'],
      known,
      debugEnv: 'SVAPP_DEBUG',
    },
    argv,
    io,
  );
}

async function serve(args: string[], io: ServerIo): Promise<number> {
  const file = configFlag(args);
  const {loadSvappConfig} = await import('./config.js');
  const {startSvapp} = await import('./main.js');
  const {jsonLog} = await import('./log.js');
  const log = jsonLog(io.err);
  // A promise nobody awaited failed: say what it was before the process ends (Node would end it
  // too, with nothing in the JSON log); another replica takes the operations over.
  process.on('unhandledRejection', (reason) => {
    log.error(`unhandled rejection, exiting: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
    process.exit(ExitCode.unexpected);
  });
  const config = loadSvappConfig(file);
  const running = await startSvapp(config, log);
  log.info(`svapp listening on ${running.url}`, {replica: running.app.context.replica, protocol: running.app.context.protocol});
  return await new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info(`${signal}: stopping; running operations are handed over to another replica`);
      running.stop().then(
        () => resolve(ExitCode.ok),
        (error: unknown) => {
          log.error(`stopping: ${(error as Error).message}`);
          resolve(ExitCode.unexpected);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

async function check(args: string[], io: ServerIo): Promise<number> {
  const file = configFlag(args);
  const {loadSvappConfig} = await import('./config.js');
  const {checkPolicyFile, summarizePolicy} = await import('@bcl/deploy-policy');
  const {SpecError} = await import('@bcl/spec-loader');
  const {loadTlsMaterial, MemoryCrlNumberStore} = await import('@bcl/mtls');
  const {checkJenkinsTokens, readSecret} = await import('./secrets.js');
  const config = loadSvappConfig(file);
  const policy = checkPolicyFile(config.policy);
  if (!policy.ok) throw new SpecError(config.policy, policy.problems, policy.reason);
  await loadTlsMaterial(config.tls, {crlNumbers: new MemoryCrlNumberStore(), record: false});
  readSecret('database.url', config.database.url);
  checkJenkinsTokens(config.jenkins);
  io.out(`${file}: valid\n  policy: ${config.policy}: ${summarizePolicy(policy.policy)}\n  catalog: ${config.catalog}\n  clusters: ${Object.keys(config.clusters).join(', ') || 'none'}\n  listen: ${config.listen}\n`);
  return ExitCode.ok;
}

/** svapp's own errors: a spec, the TLS files or a secret the configuration names. */
async function known(error: unknown): Promise<{exitCode: number} | undefined> {
  const [{isSpecError}, {TlsMaterialError}, {ConfigError}] = await Promise.all([import('@bcl/spec-loader'), import('@bcl/mtls'), import('./secrets.js')]);
  if (isSpecError(error) || error instanceof TlsMaterialError || error instanceof ConfigError) return {exitCode: ExitCode.invalid};
  return undefined;
}
