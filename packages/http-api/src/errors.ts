import * as z from 'zod';

/** The one error body every server answers with: `{error: {code, message, hint?, details?}}`. */
export const errorEnvelopeSchema = z
  .object({
    error: z.object({
      code: z.string().describe('Stable machine-readable code, e.g. invalid_request, client_too_old'),
      message: z.string().describe('What went wrong, in words a person can act on'),
      hint: z.string().optional().describe('What to do about it'),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({id: 'ErrorEnvelope'});

export type ErrorEnvelope = z.output<typeof errorEnvelopeSchema>;

export interface HttpErrorOptions {
  hint?: string;
  details?: Record<string, unknown>;
  /** Extra response headers (e.g. WWW-Authenticate, Retry-After). */
  headers?: Record<string, string>;
}

/**
 * A typed server error: a handler throws it (or a core's error is mapped to it) and the app
 * answers `status` with the envelope. Anything else thrown becomes a 500 that names only the
 * request id, so internals never reach the client.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string>;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options: HttpErrorOptions = {},
  ) {
    super(message);
    this.hint = options.hint;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }

  toEnvelope(): ErrorEnvelope {
    return {error: {code: this.code, message: this.message, ...(this.hint ? {hint: this.hint} : {}), ...(this.details ? {details: this.details} : {})}};
  }
}

export function isHttpError(error: unknown): error is HttpError {
  return error instanceof HttpError;
}

type Make = (code: string, message: string, options?: HttpErrorOptions) => HttpError;
const make =
  (status: number): Make =>
  (code, message, options) =>
    new HttpError(status, code, message, options);

/** 400: the request itself is wrong (a field, a header, a combination). */
export const badRequest = make(400);
/** 401: no usable credentials (no client certificate, a rejected one, no token). */
export const unauthenticated = make(401);
/** 403: authenticated, but not allowed. */
export const forbidden = make(403);
export const notFound = make(404);
/** 409: the state conflicts (a lock held, an id reused with another body). */
export const conflict = make(409);
/** 412: a precondition of the request does not hold. */
export const preconditionFailed = make(412);
export const tooManyRequests = make(429);
/** 503: a dependency is unavailable; the client may retry. */
export const unavailable = make(503);
