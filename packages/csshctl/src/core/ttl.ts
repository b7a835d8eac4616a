import {usageError} from '@bcl/core';
import {DURATION_EXAMPLES, parseDuration} from '@bcl/cssh-authz/api';

/** --ttl: cssh-authz's own duration grammar (what the service accepts, csshctl accepts), at least 1s. */
export function parseTtlFlag(text: string): number {
  const seconds = parseDuration(text);
  if (seconds === undefined || seconds < 1) throw usageError(`--ttl: expected ${DURATION_EXAMPLES}, got "${text}"`);
  return seconds;
}
