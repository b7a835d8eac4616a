/**
 * The errors of @bcl/pki-ca: a stable code, a message naming what was wrong, and the kind of
 * refusal. Callers map the kind to their own contract (pkictl: exit 3 invalid, 4 denied, 6
 * conflict; the PKI server: 400, 403, 409), so this package depends on neither.
 */
export type PkiCaErrorKind = 'invalid' | 'denied' | 'conflict';

export interface PkiCaErrorOptions {
  /** What the user can do about it, in one sentence. */
  hint?: string;
  /** Machine-readable context (never secrets). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class PkiCaError extends Error {
  override readonly name = 'PkiCaError';
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    /** Stable snake_case code without a namespace, e.g. "policy_denied", "csr_invalid". */
    readonly code: string,
    message: string,
    readonly kind: PkiCaErrorKind,
    options: PkiCaErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause});
    this.hint = options.hint;
    this.details = options.details;
  }
}

export const invalid = (code: string, message: string, options?: PkiCaErrorOptions) => new PkiCaError(code, message, 'invalid', options);
export const refused = (code: string, message: string, options?: PkiCaErrorOptions) => new PkiCaError(code, message, 'denied', options);
export const conflicting = (code: string, message: string, options?: PkiCaErrorOptions) => new PkiCaError(code, message, 'conflict', options);

export function isPkiCaError(value: unknown): value is PkiCaError {
  return value instanceof PkiCaError || (value instanceof Error && value.name === 'PkiCaError' && 'kind' in value);
}
