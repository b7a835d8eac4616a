import {isSpecError, type SpecError} from '@bcl/spec-loader';

/**
 * Errors are values with a code, a message and a hint, created where the problem is understood.
 * Every BCL tool maps them to the same documented exit codes (docs/cli-contract.md).
 */

export const ExitCode = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  invalid: 3,
  denied: 4,
  unavailable: 5,
  conflict: 6,
  failed: 7,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface BclErrorOptions {
  /** What the user can do about it, in one sentence. */
  hint?: string;
  /** Machine-readable context for --json consumers (never secrets). */
  details?: unknown;
  cause?: unknown;
}

export class BclError extends Error {
  override readonly name = 'BclError';
  readonly hint: string | undefined;
  readonly details: unknown;

  constructor(
    /** Stable dotted code, e.g. "config.invalid", "svctl.rollout_failed". */
    readonly code: string,
    message: string,
    readonly exitCode: ExitCode,
    options: BclErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause});
    this.hint = options.hint;
    this.details = options.details;
  }
}

/** Exit 2: the command line itself is wrong (unknown flag, missing input when non-interactive). */
export const usageError = (message: string, options?: BclErrorOptions, code = 'usage') =>
  new BclError(code, message, ExitCode.usage, options);

/** Exit 3: configuration or input (a file, a spec, a flag value) is invalid. */
export const invalidInput = (code: string, message: string, options?: BclErrorOptions) =>
  new BclError(code, message, ExitCode.invalid, options);

/** Exit 4: not authenticated, or authenticated but not allowed. */
export const denied = (code: string, message: string, options?: BclErrorOptions) =>
  new BclError(code, message, ExitCode.denied, options);

/** Exit 5: a remote service is unreachable, answered 5xx, or timed out. */
export const unavailable = (code: string, message: string, options?: BclErrorOptions) =>
  new BclError(code, message, ExitCode.unavailable, options);

/** Exit 6: a conflict or unmet precondition (lock held, destructive change not confirmed). */
export const conflict = (code: string, message: string, options?: BclErrorOptions) =>
  new BclError(code, message, ExitCode.conflict, options);

/** Exit 7: the operation ran and failed in its target (rollout, build, apply). */
export const operationFailed = (code: string, message: string, options?: BclErrorOptions) =>
  new BclError(code, message, ExitCode.failed, options);

/** Exit 130: interrupted by the user, after cleanup. */
export const interrupted = (message = 'interrupted', options?: BclErrorOptions) =>
  new BclError('interrupted', message, ExitCode.interrupted, options);

/**
 * Exit 3 for a file a person wrote that cannot be used (a config file, a spec, a policy): the
 * message lists every problem as `file:line:column: key.path: message`; details carry them as data.
 */
export function specInvalid(code: string, error: SpecError, options: Omit<BclErrorOptions, 'details'> = {}): BclError {
  return new BclError(code, error.message, ExitCode.invalid, {...options, details: error.toJSON(), cause: options.cause ?? error});
}

export function isBclError(value: unknown): value is BclError {
  return value instanceof BclError || (value instanceof Error && value.name === 'BclError' && 'exitCode' in value);
}

interface OclifLikeError extends Error {
  oclif?: {exit?: number};
  parse?: unknown;
  code?: string;
}

/**
 * Turns anything thrown into a BclError: oclif's parser errors become usage errors (exit 2),
 * @bcl/files' refusals exit 3 (or 6 for a file that exists), everything unknown is an unexpected
 * failure (exit 1) that keeps the original as its cause.
 */
export function toBclError(error: unknown): BclError {
  if (isBclError(error)) return error;
  if (isSpecError(error)) return specInvalid('spec.invalid', error, {hint: 'Fix the file named above.'});
  if (error instanceof Error) {
    const e = error as OclifLikeError;
    const oclifExit = e.oclif?.exit;
    if (e.code === 'EEXIT' && typeof oclifExit === 'number') {
      return new BclError('exit', e.message, oclifExit as ExitCode, {cause: error});
    }
    // @bcl/files refusing a path (a secret over a symlink or a file others can read): the input's fault.
    if (e.name === 'FileSafetyError') {
      const f = error as Error & {problem?: string; hint?: string; path?: string};
      const exit = f.problem === 'exists' ? ExitCode.conflict : ExitCode.invalid;
      return new BclError(`file.${f.problem ?? 'unsafe'}`, f.message, exit, {...(f.hint ? {hint: f.hint} : {}), details: {file: f.path}, cause: error});
    }
    if (oclifExit === 2 || e.parse !== undefined || /^command .* not found$/.test(e.message)) {
      return usageError(stripAnsi(e.message.replace(/\nSee more help with --help$/, '')), {
        hint: 'Run the command with --help to see its usage.',
        cause: error,
      });
    }
    return new BclError('unexpected', e.message || String(e), ExitCode.unexpected, {
      cause: error,
      hint: 'This is a bug or an unhandled condition; run again with --verbose for the stack trace.',
    });
  }
  return new BclError('unexpected', String(error), ExitCode.unexpected);
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[0-9;]*m/g;
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}
