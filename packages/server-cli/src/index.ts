/**
 * The command line of a BCL server or agent (svapp, pki-server, cssh-authz, cssh-daemon): they
 * never load the CLI framework, and share this small dispatcher so that `--help`, `--version`,
 * usage errors and the exit codes of docs/cli-contract.md are the same everywhere. A server names
 * its commands and tells which of its own errors mean what; the rest (a usage mistake, an address
 * it cannot listen on, a database that refuses the configured login or cannot be reached, the
 * unexpected) is decided here.
 */
/** The exit codes of docs/cli-contract.md that servers use (the numbers of @bcl/core's ExitCode). */
export const ExitCode = {ok: 0, unexpected: 1, usage: 2, invalid: 3, denied: 4, unavailable: 5, conflict: 6, failed: 7} as const;

const {parseArgs} = process.getBuiltinModule('node:util');

/** Where a command line writes: stdout and stderr (tests pass their own). */
export interface ServerIo {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: ServerIo = {out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s)};

/** A mistake in the command line: exit 2, with a pointer to --help. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type ServerCommand = (args: string[], io: ServerIo) => Promise<number>;

/** What a server knows of one of its errors: the exit code, and what to do about it. */
export interface KnownError {
  exitCode: number;
  /** What to say instead of the error's own message. */
  message?: string;
  hint?: string;
}

export interface ServerCli {
  /** The program's name, as typed: `svapp`. */
  name: string;
  usage: string;
  version(): string;
  commands: Record<string, ServerCommand>;
  /** Commands that answer --help themselves (the rest print the usage). */
  ownHelp?: readonly string[];
  /** The server's own errors; undefined for anything else. */
  known?(error: unknown): KnownError | undefined | Promise<KnownError | undefined>;
  /** The environment variable that adds the stack trace to an unexpected error (`SVAPP_DEBUG`). */
  debugEnv: string;
}

export async function runServerCli(cli: ServerCli, argv: string[], io: ServerIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  const ownHelp = command !== undefined && (cli.ownHelp ?? []).includes(command);
  if (command === undefined || command === '--help' || command === '-h' || command === 'help' || (!ownHelp && (rest.includes('--help') || rest.includes('-h')))) {
    io.out(cli.usage);
    return ExitCode.ok;
  }
  try {
    if (command === '--version') {
      io.out(`${cli.name}/${cli.version()} ${process.platform}-${process.arch} node-${process.version}\n`);
      return ExitCode.ok;
    }
    const run = Object.hasOwn(cli.commands, command) ? cli.commands[command] : undefined;
    if (!run) throw new UsageError(`unknown command "${command}"`);
    return await run(rest, io);
  } catch (error) {
    return report(cli, error, io);
  }
}

/** A word with verbs of its own (`db migrate`, `ca rotate`). */
export function verbs(word: string, table: Record<string, ServerCommand>): ServerCommand {
  const names = Object.keys(table);
  const expected = names.map((n) => `${word} ${n}`).join(' or ');
  return async (args, io) => {
    const [verb, ...rest] = args;
    const run = verb !== undefined && Object.hasOwn(table, verb) ? table[verb] : undefined;
    if (!run) throw new UsageError(verb === undefined ? `${word} needs a verb: ${names.join(' or ')}` : `unknown command "${word} ${verb}" (expected ${expected})`);
    return run(rest, io);
  };
}

/** The `--config <file>` every server command takes (and nothing else). */
export function configFlag(args: string[]): string {
  const {values} = parseArgs({args, options: {config: {type: 'string', short: 'c'}}, strict: true, allowPositionals: false});
  if (!values.config) throw new UsageError('--config <file> is required');
  return values.config;
}

const PATH_CODES = ['EACCES', 'EPERM', 'ENOENT', 'ENOTDIR', 'EROFS', 'EISDIR', 'EEXIST'];

/**
 * A file or directory of the configuration that cannot be used (missing, not a directory, not
 * writable): exit 3 naming the path, with `hint` saying which keys name paths.
 */
export function pathProblem(error: unknown, hint: string): KnownError | undefined {
  const errno = error as NodeJS.ErrnoException;
  if (errno.syscall === 'listen' || !errno.path || !PATH_CODES.includes(errno.code ?? '')) return undefined;
  return {exitCode: ExitCode.invalid, message: `cannot use ${errno.path}: ${errno.message}`, hint};
}

/** PostgreSQL's answers that the configuration must fix: the login refused, no such database. */
const DATABASE_REFUSED = ['28P01', '3D000'];
/** A service that is not there now: nothing listening, no such host, no answer, a database starting up. */
const UNREACHABLE = ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', '57P03'];

async function report(cli: ServerCli, error: unknown, io: ServerIo): Promise<number> {
  const message = (error as Error).message;
  if (error instanceof UsageError || (error as {code?: string}).code?.startsWith('ERR_PARSE_ARGS')) {
    io.err(`Error: ${message}\nHint: run ${cli.name} --help for the usage.\n`);
    return ExitCode.usage;
  }
  const known = await cli.known?.(error);
  if (known) {
    io.err(`Error: ${known.message ?? message}\n${known.hint ? `Hint: ${known.hint}\n` : ''}`);
    return known.exitCode;
  }
  const errno = error as NodeJS.ErrnoException;
  if (errno.syscall === 'listen') {
    io.err(`Error: cannot listen: ${message}\nHint: change "listen" in the configuration.\n`);
    return ExitCode.invalid;
  }
  if (DATABASE_REFUSED.includes(errno.code ?? '')) {
    io.err(`Error: the database refused the configured connection: ${message}\nHint: check the connection string in the configuration: the role, its password and the database name.\n`);
    return ExitCode.invalid;
  }
  if (UNREACHABLE.includes(errno.code ?? '')) {
    io.err(`Error: ${message}\n`);
    return ExitCode.unavailable;
  }
  io.err(`Error: ${message}\n${process.env[cli.debugEnv] ? `${(error as Error).stack}\n` : ''}`);
  return ExitCode.unexpected;
}
