/** @bcl/pki-ca's refusals as HTTP errors: invalid 400, denied 403, conflict 409 (the code kept). */
import {HttpError} from '@bcl/http-api';
import {isPkiCaError} from '@bcl/pki-ca/keys';

export function toHttpError(error: unknown): unknown {
  if (!isPkiCaError(error)) return error;
  const status = error.kind === 'invalid' ? 400 : error.kind === 'denied' ? 403 : 409;
  return new HttpError(status, error.code, error.message, {...(error.hint ? {hint: error.hint} : {}), ...(error.details ? {details: error.details} : {})});
}

/** Runs fn; a PkiCaError leaves as the matching HttpError. */
export async function withCaErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toHttpError(error);
  }
}
