import {type BclError, ExitCode, isBclError} from '@bcl/core/errors';
import {HttpError, isHttpError} from '@bcl/http-api';
import type {OperationError} from './api.js';

/** The HTTP status of an error the deploy core or svapp raised, by its exit code. */
const STATUS: Record<number, number> = {
  [ExitCode.usage]: 400,
  [ExitCode.invalid]: 422,
  [ExitCode.denied]: 403,
  [ExitCode.unavailable]: 503,
  [ExitCode.conflict]: 409,
  [ExitCode.failed]: 502,
  [ExitCode.interrupted]: 409,
};

/**
 * A core error as svapp answers it: the same code, message and hint svctl's direct mode shows,
 * the exit code in `details.exitCode` (so a client exits as it would have on its own), and the
 * status that fits it. Anything else is left to the app's handler (a 500 naming the request id).
 */
export function toHttpError(error: unknown, status?: number): unknown {
  if (isHttpError(error) || !isBclError(error)) return error;
  const details = error.details && typeof error.details === 'object' && !Array.isArray(error.details) ? (error.details as Record<string, unknown>) : error.details === undefined ? {} : {value: error.details};
  const notFound = /\.unknown_(service|operation)$/.test(error.code) ? 404 : undefined;
  return new HttpError(status ?? notFound ?? STATUS[error.exitCode] ?? 500, error.code, error.message, {...(error.hint ? {hint: error.hint} : {}), details: {...details, exitCode: error.exitCode}});
}

/** A core error as an operation's terminal event carries it. */
export function operationError(error: BclError): OperationError {
  return {code: error.code, message: error.message, ...(error.hint ? {hint: error.hint} : {}), exitCode: error.exitCode, ...(error.details === undefined ? {} : {details: error.details})};
}
