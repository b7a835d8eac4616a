/** @bcl/pki-ca's refusals as pkictl's errors: the same code under pkictl., the documented exit codes. */
import {type BclError, conflict, denied, invalidInput} from '@bcl/core';
import {isPkiCaError, type PkiCaError} from '@bcl/pki-ca/keys';

/** pkictl's hints where the library's message needs the command to run next. */
const HINTS: Record<string, string> = {
  policy_invalid: 'Fix the policy and apply it with `pkictl ca policy --set <file> --ca-key <key>`.',
  csr_invalid: 'Reject this request (pkictl reject <id> --reason ...) and ask the requester to request again.',
  key_refused: 'Reject it: pkictl reject <id> --reason "key type"',
};

export function toBclError(error: PkiCaError): BclError {
  const options = {hint: error.hint ?? HINTS[error.code], details: error.details, cause: error};
  const code = `pkictl.${error.code}`;
  switch (error.kind) {
    case 'invalid':
      return invalidInput(code, error.message, options);
    case 'denied':
      return denied(code, error.message, options);
    case 'conflict':
      return conflict(code, error.message, options);
  }
}

/** Runs fn; a PkiCaError leaves as the matching BclError. */
export async function withCaErrors<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw isPkiCaError(error) ? toBclError(error) : error;
  }
}
