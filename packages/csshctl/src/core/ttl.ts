import {parseDuration, usageError} from '@bcl/core';

/** --ttl: a duration of at least one second, in whole seconds. */
export function parseTtlFlag(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < 1000) throw usageError(`--ttl: expected a duration such as 30m or 8h, got "${text}"`);
  return Math.round(ms / 1000);
}
