import {randomInt} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {configFlag, ExitCode, runServerCli, type ServerIo} from '@bcl/server-cli';

/**
 * `pki-server`: the server's command line, without oclif (@bcl/core/server-cli). Exit codes
 * follow the BCL contract: 0 ok, 1 unexpected, 2 usage, 3 invalid configuration (or a database
 * refusing the configured login), 5 a service it needs (database, identity provider) unavailable.
 */

const USAGE = `pki-server: certificates for Google Workspace identities, with CRL and OCSP

Usage:
  pki-server serve --config <file>     run a replica (several may run on one database)
  pki-server check --config <file>     validate the configuration, the CA and the policy file
  pki-server migrate --config <file>   migrate the database (database.ownerUrl) and grant the application role
  pki-server --version | --help
`;

/** Tests only: shrink the serial space (PKI_SERVER_TEST_SERIAL_BITS=10) so collisions really happen. */
export function testSerials(bits: number): () => string {
  return () => `40${'0'.repeat(26)}${randomInt(0, 2 ** bits).toString(16).toUpperCase().padStart(4, '0')}`;
}

export async function main(argv: string[], io?: ServerIo): Promise<number> {
  const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {version: string}).version;
  return runServerCli(
    {
      name: 'pki-server',
      usage: USAGE,
      version: () => version,
      commands: {
        serve: (args, out) => serve(configFlag(args), version, out),
        check: (args, out) => check(configFlag(args), out),
        migrate: async (args, out) => {
          const {loadServerConfig} = await import('./config.js');
          const {migrate} = await import('./main.js');
          const applied = await migrate(loadServerConfig(configFlag(args)));
          out.out(applied.length ? `applied: ${applied.join(', ')}\n` : 'the database is up to date\n');
          return ExitCode.ok;
        },
      },
      known,
      debugEnv: 'PKI_SERVER_DEBUG',
    },
    argv,
    io,
  );
}

async function check(file: string, io: ServerIo): Promise<number> {
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
  return ExitCode.ok;
}

async function serve(file: string, version: string, io: ServerIo): Promise<number> {
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
  return ExitCode.ok;
}

/** The server's own errors: its configuration and CA, and an identity provider it cannot reach. */
async function known(error: unknown): Promise<{exitCode: number} | undefined> {
  const {ConfigError} = await import('./config.js');
  if (error instanceof ConfigError || (error as {name?: string}).name === 'PkiCaError') return {exitCode: ExitCode.invalid};
  if (/discovery document .* unavailable/.test((error as Error).message)) return {exitCode: ExitCode.unavailable};
  return undefined;
}
