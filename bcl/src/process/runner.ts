import {BclError, ExitCode, interrupted} from '../errors.js';
import type {Redactor} from './redactor.js';

export interface RunOptions {
  cwd?: string;
  /** Extra environment for the child (secrets go here or in files, never in args). */
  env?: Record<string, string | undefined>;
  /** Do not inherit the parent's environment (only `env` and PATH/HOME). */
  isolateEnv?: boolean;
  /** Data written to the child's stdin (for secrets too: stdin is not visible to other users). */
  input?: string | Buffer;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with every output line as it arrives (already redacted). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Secrets to register before the run (also refused if they appear in args). */
  secrets?: readonly (string | undefined)[];
  /** When false, a non-zero exit is returned instead of thrown. Default true. */
  reject?: boolean;
  /** Inherit the terminal (for interactive children such as ssh); output is then not captured. */
  inheritStdio?: boolean;
}

export interface RunResult {
  /** The command as shown to people: file and args, redacted. */
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/**
 * Runs external tools (terraform, git, ssh, openssl...) with execa underneath: output streamed
 * line by line, timeouts, cancellation through an AbortSignal (SIGINT), and every byte shown or
 * returned passed through the redactor. Secrets must travel by environment, stdin or file.
 */
export class ProcessRunner {
  constructor(
    private readonly redactor: Redactor,
    private readonly defaults: {signal?: AbortSignal; debug?: (message: string) => void} = {},
  ) {}

  async run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    for (const secret of options.secrets ?? []) this.redactor.add(secret);
    const command = this.redactor.redact([file, ...args].map(quoteArg).join(' '));
    if (args.some((arg) => this.redactor.has(arg)) || this.redactor.has(file)) {
      // A programming error, caught before anything runs: command lines are visible to every user (ps).
      throw new BclError('process.secret_in_args', `refusing to run ${command}: a secret would appear on its command line`, ExitCode.unexpected);
    }
    const signal = options.signal ?? this.defaults.signal;
    if (signal?.aborted) throw interrupted(`not started: ${command}`);
    this.defaults.debug?.(`run: ${command}${options.cwd ? ` (in ${options.cwd})` : ''}`);

    const {execa} = await import('execa');
    const started = performance.now();
    const onLine = options.onLine;
    const redactor = this.redactor;
    const lineTap = (stream: 'stdout' | 'stderr') =>
      function* (line: unknown) {
        onLine?.(redactor.redact(String(line)), stream);
        yield line;
      };
    const env = options.isolateEnv
      ? {PATH: process.env.PATH, HOME: process.env.HOME, LANG: process.env.LANG, ...options.env}
      : options.env;
    let result;
    try {
      result = await execa(file, [...args], {
        cwd: options.cwd,
        env,
        extendEnv: !options.isolateEnv,
        input: options.input,
        timeout: options.timeoutMs,
        cancelSignal: signal,
        forceKillAfterDelay: 5000,
        reject: false,
        stripFinalNewline: true,
        ...(options.inheritStdio
          ? {stdio: 'inherit' as const}
          : {
              stdin: options.input === undefined ? ('ignore' as const) : ('pipe' as const),
              stdout: onLine ? [lineTap('stdout'), 'pipe' as const] : ('pipe' as const),
              stderr: onLine ? [lineTap('stderr'), 'pipe' as const] : ('pipe' as const),
            }),
      });
    } catch (error) {
      throw new BclError('process.failed', `could not run ${command}: ${(error as Error).message}`, ExitCode.unexpected, {cause: error});
    }
    const durationMs = Math.round(performance.now() - started);
    const stdout = this.redactor.redact(String(result.stdout ?? ''));
    const stderr = this.redactor.redact(String(result.stderr ?? ''));
    const failed = result as unknown as {code?: string; timedOut?: boolean; isCanceled?: boolean; exitCode?: number; signal?: string};
    if (failed.code === 'ENOENT' || /ENOENT/.test(String((result as {message?: string}).message ?? ''))) {
      throw new BclError('process.not_found', `${file} is not installed or not on PATH`, ExitCode.conflict, {
        hint: `Install ${file}, or configure its path.`,
        details: {command: file},
      });
    }
    if (failed.isCanceled || signal?.aborted) throw interrupted(`interrupted: ${command}`);
    if (failed.timedOut) {
      throw new BclError('process.timeout', `${command} did not finish within ${Math.round((options.timeoutMs ?? 0) / 1000)}s`, ExitCode.unavailable, {
        details: {command, stderr: tail(stderr)},
      });
    }
    const exitCode = failed.exitCode ?? (failed.signal ? 128 : 1);
    const outcome: RunResult = {command, exitCode, stdout, stderr, durationMs};
    if (exitCode !== 0 && options.reject !== false) {
      throw new ProcessFailed(outcome);
    }
    return outcome;
  }
}

/** A child process exited non-zero; callers map it to the right exit code for their domain. */
export class ProcessFailed extends BclError {
  constructor(readonly result: RunResult) {
    super('process.failed', `${result.command} exited with code ${result.exitCode}${tail(result.stderr) ? `:\n${tail(result.stderr)}` : ''}`, ExitCode.failed, {
      details: {command: result.command, exitCode: result.exitCode, stderr: tail(result.stderr, 20)},
    });
  }
}

/** The last lines of some output, for error messages. */
export function tail(text: string, lines = 10): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
