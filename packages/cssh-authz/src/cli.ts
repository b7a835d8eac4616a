import {existsSync, readFileSync} from 'node:fs';
import {hostname as osHostname} from 'node:os';
import {parseArgs} from 'node:util';
import {configFlag, ExitCode, type KnownError, pathProblem, runServerCli, type ServerIo, UsageError, verbs} from '@bcl/server-cli';

/**
 * `cssh-authz`: a server's command line, deliberately without oclif (servers never load the CLI
 * framework). Exit codes follow the BCL contract: 0 ok, 1 unexpected, 2 usage, 3 invalid
 * configuration, 5 a remote service (or the database) unavailable, 6 a precondition (the
 * database's schema is behind, a database that already holds state, a concurrent rotation),
 * 7 a migration that failed in the database.
 */

const USAGE = `cssh-authz: the SSH user certificate authority

Usage:
  cssh-authz serve --config <file>          run the service (SIGHUP reloads rules and TLS files)
  cssh-authz check --config <file>          validate the configuration, rules, CA key and TLS files
  cssh-authz host-setup --server <url> [--cacert <pem>] [--hostname <name>] [--csshctl <path>]
                        [--command-user <user>] [--ssh-dir <dir>] [--out-dir <dir>] [--daemon <path>]
                        [--host-cert <pem>] [--host-key <pem>] [--json]
                                            print (or write) what a host needs to trust the service:
                                            files, sshd_config lines, cssh-daemon's config and unit
  cssh-authz keygen --out <file> [--type ed25519|ecdsa-p256|rsa-4096] [--passphrase-file <file>]
                                            create a new SSH user CA key (PKCS#8 PEM, mode 0600)
  cssh-authz secrets-key --out <file>       create the key that seals TOTP secrets and rotated CA keys
                                            in the state (secretsKey; 32 random bytes, mode 0600)
  cssh-authz ca rotate --config <file> [--overlap <duration>] [--type ed25519|ecdsa-p256|rsa-4096] [--json]
                                            a new CA key signs from now on; the previous one stays
                                            trusted for the overlap (default ca.rotationOverlap)
  cssh-authz ca status --config <file> [--json]
                                            the CA keys: which signs, which are trusted until when
  cssh-authz db migrate --config <file> [--owner-url-env <VAR> | --owner-url-file <file>] [--json]
                                            bring the database (config's database section) to this
                                            version's schema; with an owner connection, also give
                                            the configured role exactly the privileges it needs
  cssh-authz db import --config <file> --from-state <dir> --from-audit-log <file> [--json]
                                            move a single node's state directory and audit log into
                                            the (empty) database, in one transaction
  cssh-authz --version | --help

Connection strings hold passwords: they come from a 0600 file or an environment variable
(database.urlFile or database.urlEnv in the configuration), never from the command line.
`;

class ConflictError extends Error {}

export async function main(argv: string[], io?: ServerIo): Promise<number> {
  return runServerCli(
    {
      name: 'cssh-authz',
      usage: USAGE,
      version: () => (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {version: string}).version,
      commands: {
        serve,
        check,
        'host-setup': hostSetupCommand,
        keygen,
        'secrets-key': secretsKey,
        db: verbs('db', {migrate: dbMigrate, import: dbImport}),
        ca: verbs('ca', {rotate: caRotate, status: caStatus}),
      },
      known,
      debugEnv: 'CSSH_AUTHZ_DEBUG',
    },
    argv,
    io,
  );
}

/** cssh-authz's own errors (files, keys, its database and state), and the paths it was given. */
async function known(error: unknown): Promise<KnownError | undefined> {
  const {InvalidFileError} = await import('./yaml-file.js');
  const {FetchError} = await import('./host-setup.js');
  const {TlsMaterialError} = await import('@bcl/mtls');
  const {KeyringError} = await import('./keyring.js');
  const {DatabaseError, NotEmptyError} = await import('./store/errors.js');
  if (error instanceof InvalidFileError || error instanceof TlsMaterialError || error instanceof KeyringError) return {exitCode: ExitCode.invalid};
  if (error instanceof DatabaseError) return {exitCode: error.kind === 'schema' ? ExitCode.conflict : ExitCode.unavailable};
  if (error instanceof NotEmptyError || error instanceof ConflictError) return {exitCode: ExitCode.conflict};
  // @bcl/postgres's MigrationError, told by name: the driver is not loaded for an error message.
  if ((error as Error).name === 'MigrationError') return {exitCode: ExitCode.failed, hint: 'nothing of the failed run was applied (migrations run in one transaction).'};
  if (error instanceof FetchError) return {exitCode: ExitCode.unavailable};
  if (error instanceof Error && error.name === 'FileSafetyError') return {exitCode: ExitCode.invalid, hint: (error as Error & {hint: string}).hint};
  return pathProblem(error, 'check the paths in the configuration (stateDir, auditLog, database.urlFile) and the permissions of their directories.');
}

/** A new secret file, created 0600 from birth; an existing one (or a symlink) only replaced with --force. */
async function serve(args: string[], io: {err: (s: string) => void}): Promise<number> {
  const file = configFlag(args);
  const {loadServiceConfig} = await import('./config.js');
  const {startAuthz} = await import('./server.js');
  const {stderrLogger} = await import('./log.js');
  const log = stderrLogger(io.err);
  const config = loadServiceConfig(file);
  const running = await startAuthz(config, log);
  log.info(`cssh-authz listening on ${running.url} (rules ${config.rules}: ${running.rules.current.summary()})`);
  return await new Promise<number>((resolve) => {
    const onHup = () => running.reload('SIGHUP');
    const onStop = (signal: string) => {
      log.info(`${signal}: stopping`);
      process.off('SIGHUP', onHup);
      running.stop().then(
        () => resolve(ExitCode.ok),
        (error: unknown) => {
          log.error(`stopping: ${(error as Error).message}`);
          resolve(ExitCode.unexpected);
        },
      );
    };
    process.on('SIGHUP', onHup);
    process.once('SIGTERM', () => onStop('SIGTERM'));
    process.once('SIGINT', () => onStop('SIGINT'));
  });
}

async function check(args: string[], io: {out: (s: string) => void}): Promise<number> {
  const file = configFlag(args);
  const {loadServiceConfig} = await import('./config.js');
  const {loadCa} = await import('./ca.js');
  const {AccessRules, rulesSchema} = await import('./rules.js');
  const {loadYamlFile} = await import('./yaml-file.js');
  const {FileCrlNumberStore, loadTlsMaterial} = await import('@bcl/mtls');
  const {join} = await import('node:path');
  const {parseDuration} = await import('./duration.js');
  const {openConfiguredState} = await import('./store/open.js');
  const config = loadServiceConfig(file);
  const ca = loadCa(config.ca.key, config.ca.passphraseFile);
  const rules = new AccessRules(loadYamlFile(config.rules, rulesSchema), parseDuration(config.certificates.maxTtl)!);
  if (config.secretsKey) (await import('./secrets.js')).SecretsKey.load(config.secretsKey);
  // Read-only: check compares the CRLs with the numbers the service saw, records nothing. A
  // database is opened (reachable, schema current); a state directory is not created.
  const state = config.state;
  const opened = state.kind === 'database' ? await openConfiguredState(config) : undefined;
  try {
    const crlNumbers = state.kind === 'files' ? new FileCrlNumberStore(join(state.stateDir, 'crl-numbers.json')) : opened!.crlNumbers;
    await loadTlsMaterial(config.tls, {crlNumbers, record: false});
    const where = state.kind === 'files' ? `state directory ${state.stateDir}` : opened!.store.description;
    io.out(`${file}: valid\n  CA: ${ca.publicLine}\n  rules: ${config.rules}: ${rules.summary()}\n  listen: ${config.listen}\n  state: ${where}\n`);
  } finally {
    await opened?.store.close();
  }
  return ExitCode.ok;
}

async function hostSetupCommand(args: string[], io: {out: (s: string) => void}): Promise<number> {
  const {values} = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      server: {type: 'string'},
      cacert: {type: 'string'},
      hostname: {type: 'string'},
      csshctl: {type: 'string'},
      'command-user': {type: 'string'},
      'ssh-dir': {type: 'string'},
      'out-dir': {type: 'string'},
      daemon: {type: 'string'},
      'host-cert': {type: 'string'},
      'host-key': {type: 'string'},
      json: {type: 'boolean'},
    },
  });
  if (!values.server) throw new UsageError('--server <url> is required (the cssh-authz URL hosts fetch the CA key and KRL from)');
  if (!/^https:\/\//.test(values.server)) throw new UsageError(`--server: expected an https:// URL, got "${values.server}"`);
  if (values.cacert && !existsSync(values.cacert)) throw new UsageError(`--cacert: ${values.cacert} does not exist`);
  const {hostSetup} = await import('./host-setup.js');
  const result = await hostSetup({
    server: values.server,
    ...(values.cacert ? {cacert: values.cacert} : {}),
    hostname: values.hostname ?? osHostname(),
    csshctl: values.csshctl ?? '/usr/local/bin/csshctl',
    commandUser: values['command-user'] ?? 'nobody',
    sshDir: values['ssh-dir'] ?? '/etc/ssh',
    ...(values.daemon ? {daemon: values.daemon} : {}),
    ...(values['host-cert'] ? {hostCert: values['host-cert']} : {}),
    ...(values['host-key'] ? {hostKey: values['host-key']} : {}),
    ...(values['out-dir'] ? {outDir: values['out-dir']} : {}),
  });
  io.out(values.json ? `${JSON.stringify({caPublicKey: result.caPublicKey, sshdConfig: result.sshdConfig, files: result.files, unit: result.unit, daemonConfig: result.daemonConfig}, null, 2)}\n` : result.text);
  return ExitCode.ok;
}

async function keygen(args: string[], io: {out: (s: string) => void}): Promise<number> {
  const {values} = parseArgs({args, strict: true, allowPositionals: false, options: {out: {type: 'string'}, type: {type: 'string'}, 'passphrase-file': {type: 'string'}, force: {type: 'boolean'}}});
  if (!values.out) throw new UsageError('--out <file> is required');
  const type = values.type ?? 'ed25519';
  if (type !== 'ed25519' && type !== 'ecdsa-p256' && type !== 'rsa-4096') throw new UsageError(`--type: expected ed25519, ecdsa-p256 or rsa-4096, got "${type}"`);
  if (existsSync(values.out) && !values.force) throw new UsageError(`${values.out} exists; refusing to overwrite a CA key (--force replaces it)`);
  const passphrase = values['passphrase-file'] ? readFileSync(values['passphrase-file'], 'utf8').replace(/\r?\n$/, '') : undefined;
  const [{generateCaKey}, {checkSecretTarget, writeFileAtomicSync, writeSecretFileSync}] = await Promise.all([import('./ca.js'), import('@bcl/files')]);
  // Refused before a key exists: a symlink (also a dangling one) or a file others could read at --out.
  checkSecretTarget(values.out);
  const {pem, publicLine} = generateCaKey(type, passphrase);
  writeSecretFileSync(values.out, pem);
  writeFileAtomicSync(`${values.out}.pub`, `${publicLine}\n`, {mode: 0o644});
  io.out(`${publicLine}\n`);
  return ExitCode.ok;
}

async function secretsKey(args: string[], io: {out: (s: string) => void}): Promise<number> {
  const {values} = parseArgs({args, strict: true, allowPositionals: false, options: {out: {type: 'string'}, force: {type: 'boolean'}}});
  if (!values.out) throw new UsageError('--out <file> is required');
  if (existsSync(values.out) && !values.force) throw new UsageError(`${values.out} exists; refusing to overwrite a key (--force replaces it)`);
  const [{SecretsKey}, {writeSecretFileSync}] = await Promise.all([import('./secrets.js'), import('@bcl/files')]);
  // Created 0600; a symlink (also a dangling one) or a file others could read is refused.
  writeSecretFileSync(values.out, SecretsKey.generate());
  io.out(`${values.out}: a new secrets key (mode 0600); set secretsKey to it in the configuration of every replica\n`);
  return ExitCode.ok;
}

/** The configuration, the configured CA and the store, for the ca commands (no server started). */
async function openState(file: string) {
  const {loadServiceConfig} = await import('./config.js');
  const {loadCa} = await import('./ca.js');
  const {openConfiguredState} = await import('./store/open.js');
  const config = loadServiceConfig(file);
  const ca = loadCa(config.ca.key, config.ca.passphraseFile);
  const {store} = await openConfiguredState(config);
  return {config, ca, store};
}

async function dbMigrate(args: string[], io: {out: (s: string) => void}): Promise<number> {
  const {values} = parseArgs({args, strict: true, allowPositionals: false, options: {config: {type: 'string', short: 'c'}, 'owner-url-env': {type: 'string'}, 'owner-url-file': {type: 'string'}, json: {type: 'boolean'}}});
  if (!values.config) throw new UsageError('--config <file> is required (its database section names the database)');
  if (values['owner-url-env'] && values['owner-url-file']) throw new UsageError('give at most one of --owner-url-env and --owner-url-file');
  const {loadServiceConfig, databaseUrl, readConnectionString} = await import('./config.js');
  const config = loadServiceConfig(values.config);
  const applicationUrl = databaseUrl(config);
  const ownerSource = values['owner-url-file'] ? {file: values['owner-url-file']} : values['owner-url-env'] ? {env: values['owner-url-env']} : undefined;
  const ownerUrl = ownerSource ? readConnectionString(ownerSource, (m) => new UsageError(`${values['owner-url-file'] ? '--owner-url-file' : '--owner-url-env'}: ${m}`)) : applicationUrl;
  const {migrateDatabase} = await import('./store/schema.js');
  const {redactUrl} = await import('@bcl/postgres');
  const result = await migrateDatabase({ownerUrl, applicationUrl});
  const where = redactUrl(applicationUrl);
  io.out(
    values.json
      ? `${JSON.stringify({database: where, ...result}, null, 2)}\n`
      : `${where}: ${result.applied.length > 0 ? `applied ${result.applied.join(', ')}` : 'the schema is current'}${result.applicationRole ? `; role ${result.applicationRole} may use exactly what cssh-authz needs` : ''}\n`,
  );
  return ExitCode.ok;
}

async function dbImport(args: string[], io: {out: (s: string) => void}): Promise<number> {
  const {values} = parseArgs({args, strict: true, allowPositionals: false, options: {config: {type: 'string', short: 'c'}, 'from-state': {type: 'string'}, 'from-audit-log': {type: 'string'}, json: {type: 'boolean'}}});
  if (!values.config) throw new UsageError('--config <file> is required (its database section names the database to move the state into)');
  if (!values['from-state']) throw new UsageError('--from-state <dir> is required (the stateDir of the single-node configuration)');
  if (!values['from-audit-log']) throw new UsageError('--from-audit-log <file> is required (the auditLog of the single-node configuration)');
  const {resolve} = await import('node:path');
  const {loadServiceConfig} = await import('./config.js');
  const config = loadServiceConfig(values.config);
  if (config.state.kind !== 'database') throw new UsageError(`--config: ${values.config} has no database section: name the configuration of the replicas`);
  const from = {stateDir: resolve(values['from-state']), auditLog: resolve(values['from-audit-log'])};
  // Everything is read (and checked) before the database is touched.
  const {FileStore} = await import('./store/file-store.js');
  const snapshot = FileStore.readState(from.stateDir, from.auditLog);
  const {openConfiguredState} = await import('./store/open.js');
  const {importState} = await import('./store/import.js');
  const {PostgresStore} = await import('./store/postgres-store.js');
  const {userInfo} = await import('node:os');
  const {store} = await openConfiguredState(config);
  try {
    if (!(store instanceof PostgresStore)) throw new UsageError(`--config: ${values.config} has no database section`);
    const summary = await importState(store, snapshot, {...from, by: userInfo().username, at: new Date()});
    io.out(
      values.json
        ? `${JSON.stringify({database: store.description, ...summary}, null, 2)}\n`
        : `${from.stateDir} -> ${store.description}: ${summary.certificates} certificates, ${summary.revocations} revocations (KRL version ${summary.krlVersion}), keyring version ${summary.keyringVersion}, ${summary.totpEnrolments} TOTP enrolments, ${summary.crlIssuers} CRL numbers, ${summary.auditEvents} audit events\nThe state directory was left as it was; start the replicas with this configuration.\n`,
    );
  } finally {
    await store.close();
  }
  return ExitCode.ok;
}

async function caRotate(args: string[], io: {out: (s: string) => void; err: (s: string) => void}): Promise<number> {
  const {values} = parseArgs({args, strict: true, allowPositionals: false, options: {config: {type: 'string', short: 'c'}, overlap: {type: 'string'}, type: {type: 'string'}, json: {type: 'boolean'}}});
  if (!values.config) throw new UsageError('--config <file> is required');
  const type = values.type ?? 'ed25519';
  if (type !== 'ed25519' && type !== 'ecdsa-p256' && type !== 'rsa-4096') throw new UsageError(`--type: expected ed25519, ecdsa-p256 or rsa-4096, got "${type}"`);
  const {parseDuration, formatDuration, DURATION_EXAMPLES} = await import('./duration.js');
  const {config, ca, store} = await openState(values.config);
  try {
    const overlapText = values.overlap ?? config.ca.rotationOverlap;
    const overlapSeconds = parseDuration(overlapText);
    if (overlapSeconds === undefined) throw new UsageError(`--overlap: expected ${DURATION_EXAMPLES}, got "${overlapText}"`);
    if (!config.secretsKey) {
      const {InvalidFileError} = await import('./yaml-file.js');
      throw new InvalidFileError(`${config.file}: secretsKey is required to rotate the CA (the new key is kept sealed in the state, for every replica); create one with cssh-authz secrets-key --out`, config.file);
    }
    const {SecretsKey} = await import('./secrets.js');
    const {rotatedKeyring, describeKeyring} = await import('./keyring.js');
    const {userInfo} = await import('node:os');
    const secrets = SecretsKey.load(config.secretsKey);
    const now = new Date();
    const keyring = await store.caKeyring();
    const next = rotatedKeyring(keyring, ca, {now, overlapSeconds, type, secrets});
    const by = (() => {
      try {
        return userInfo().username;
      } catch {
        return String(process.getuid?.() ?? 'unknown');
      }
    })();
    const ok = await store.replaceCaKeyring(keyring.version, next.keys, {
      time: now.toISOString(),
      event: 'ca.rotated',
      by,
      newKey: next.added.id,
      retiring: next.retiring.map((k) => ({id: k.id, retiresAt: k.retiresAt})),
      overlapSeconds,
    });
    if (!ok) throw new ConflictError('the CA keyring changed while rotating (another rotation?); run cssh-authz ca status and try again');
    const maxTtl = parseDuration(config.certificates.maxTtl)!;
    if (overlapSeconds < maxTtl) {
      io.err(`Warning: the overlap (${formatDuration(overlapSeconds)}) is shorter than certificates.maxTtl (${formatDuration(maxTtl)}): certificates of the previous key stop working before they expire\n`);
    }
    const shown = describeKeyring(await store.caKeyring(), ca, now);
    io.out(
      values.json
        ? `${JSON.stringify({signing: next.added.id, publicKey: next.added.publicKey, overlapSeconds, keyring: shown}, null, 2)}\n`
        : [`New CA key ${next.added.id} signs from now on:`, `  ${next.added.publicKey}`, ...next.retiring.map((k) => `${k.id} stays trusted until ${k.retiresAt} (${formatDuration(overlapSeconds)}), then hosts drop it.`), ''].join('\n'),
    );
    return ExitCode.ok;
  } finally {
    await store.close();
  }
}

async function caStatus(args: string[], io: {out: (s: string) => void}): Promise<number> {
  const {values} = parseArgs({args, strict: true, allowPositionals: false, options: {config: {type: 'string', short: 'c'}, json: {type: 'boolean'}}});
  if (!values.config) throw new UsageError('--config <file> is required');
  const {describeKeyring} = await import('./keyring.js');
  const {ca, store} = await openState(values.config);
  try {
    const shown = describeKeyring(await store.caKeyring(), ca, new Date());
    io.out(values.json ? `${JSON.stringify(shown, null, 2)}\n` : `${shown.keys.map((k) => `${k.state.padEnd(8)} ${k.id}  since ${k.activatedAt}${k.retiresAt ? `  until ${k.retiresAt}${k.left ? ` (${k.left} left)` : ''}` : ''}`).join('\n')}\n`);
    return ExitCode.ok;
  } finally {
    await store.close();
  }
}
