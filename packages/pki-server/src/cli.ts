import {randomInt} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {parseArgs} from 'node:util';

/**
 * `pki-server`: the server's command line, without oclif (servers never load the CLI
 * framework). Exit codes follow the BCL contract: 0 ok, 1 unexpected, 2 usage, 3 invalid
 * configuration, 5 a service it needs (database, identity provider) unavailable.
 */

const USAGE = `pki-server: certificates for Google Workspace identities, with CRL and OCSP

Usage:
  pki-server serve --config <file>     run a replica (several may run on one database)
  pki-server check --config <file>     validate the configuration, the CA and the policy file
  pki-server migrate --config <file>   migrate the database (database.ownerUrl) and grant the application role
  pki-server --version | --help
`;

const EXIT = {ok: 0, unexpected: 1, usage: 2, invalid: 3, unavailable: 5} as const;

class UsageError extends Error {}

type Io = {out: (s: string) => void; err: (s: string) => void};

/** Tests only: shrink the serial space (PKI_SERVER_TEST_SERIAL_BITS=10) so collisions really happen. */
export function testSerials(bits: number): () => string {
  return () => `40${'0'.repeat(26)}${randomInt(0, 2 ** bits).toString(16).toUpperCase().padStart(4, '0')}`;
}

export async function main(argv: string[], io: Io = {out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s)}): Promise<number> {
  const [command, ...rest] = argv;
  const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {version: string}).version;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help' || rest.includes('--help')) {
    io.out(USAGE);
    return EXIT.ok;
  }
  try {
    switch (command) {
      case '--version':
        io.out(`pki-server/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
        return EXIT.ok;
      case 'serve':
        return await serve(configFlag(rest), version, io);
      case 'check':
        return await check(configFlag(rest), io);
      case 'migrate': {
        const {loadServerConfig} = await import('./config.js');
        const {migrate} = await import('./main.js');
        const applied = await migrate(loadServerConfig(configFlag(rest)));
        io.out(applied.length ? `applied: ${applied.join(', ')}\n` : 'the database is up to date\n');
        return EXIT.ok;
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

async function check(file: string, io: Io): Promise<number> {
  const {loadServerConfig} = await import('./config.js');
  const {loadCa} = await import('./ca.js');
  const {readSecret} = await import('./config.js');
  const config = loadServerConfig(file);
  const ca = loadCa({certificateFile: config.ca.certificate, keyFile: config.ca.key, passphrase: config.ca.passphrase ? readSecret(config.ca.passphrase, 'ca.passphrase', file) : undefined, configFile: file});
  if (config.policy) {
    const {parsePolicy} = await import('@bcl/pki-ca/policy');
    const {ConfigError} = await import('./config.js');
    try {
      parsePolicy(readFileSync(config.policy, 'utf8'), config.policy);
    } catch (error) {
      throw new ConfigError((error as Error).message, config.policy);
    }
  }
  io.out(`${file}: ok (CA ${ca.issuer.subject.replace(/\n/g, ', ')}, root SHA-256 ${ca.rootFingerprint})\n`);
  return EXIT.ok;
}

async function serve(file: string, version: string, io: Io): Promise<number> {
  const {loadServerConfig} = await import('./config.js');
  const {startServer} = await import('./main.js');
  const config = loadServerConfig(file);
  const bits = process.env.PKI_SERVER_TEST_SERIAL_BITS;
  if (bits) io.err(`pki-server: WARNING: PKI_SERVER_TEST_SERIAL_BITS=${bits}: serials from a ${bits}-bit space (tests only)\n`);
  const server = await startServer(config, {version, ...(bits ? {serials: testSerials(Number(bits))} : {})});
  io.err(`pki-server: listening on ${server.url}${server.migrated.length ? ` (migrated: ${server.migrated.join(', ')})` : ''}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await server.close();
  return EXIT.ok;
}

async function report(error: unknown, io: Io): Promise<number> {
  const {ConfigError} = await import('./config.js');
  const message = (error as Error).message;
  if (error instanceof UsageError || (error as {code?: string}).code?.startsWith('ERR_PARSE_ARGS')) {
    io.err(`Error: ${message}\nHint: run pki-server --help for the usage.\n`);
    return EXIT.usage;
  }
  if (error instanceof ConfigError || (error as {name?: string}).name === 'PkiCaError') {
    io.err(`Error: ${message}\n`);
    return EXIT.invalid;
  }
  const errno = error as NodeJS.ErrnoException;
  if (errno.syscall === 'listen') {
    io.err(`Error: cannot listen: ${message}\nHint: change "listen" in the configuration.\n`);
    return EXIT.invalid;
  }
  if (['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', '57P03', '28P01', '3D000'].includes(errno.code ?? '') || /discovery document .* unavailable/.test(message)) {
    io.err(`Error: ${message}\n`);
    return EXIT.unavailable;
  }
  io.err(`Error: ${message}\n${process.env.PKI_SERVER_DEBUG ? `${(error as Error).stack}\n` : ''}`);
  return EXIT.unexpected;
}
