import {isBclError} from '@bcl/core';
import type {AuditEntry} from './log.js';

/** Where audit entries go (the AuditLog file, or a list in tests). */
export interface AuditSink {
  append(entry: Omit<AuditEntry, 'time' | 'actor'>): void;
}

export type AuditBase = Omit<AuditEntry, 'time' | 'actor' | 'outcome' | 'error'>;

/**
 * Runs an operation and records how it ended, ok or failed (with the error's code), before the
 * caller sees the result. `base` may be a function, read when the outcome is known (a provision
 * learns its instance while it runs); `describe` refines a success (the counts of a plan).
 */
export async function audited<R>(sink: AuditSink, base: AuditBase | (() => AuditBase), run: () => Promise<R>, describe?: (result: R) => Partial<AuditBase>): Promise<R> {
  const entry = typeof base === 'function' ? base : () => base;
  let result: R;
  try {
    result = await run();
  } catch (error) {
    sink.append({...entry(), outcome: 'failed', error: isBclError(error) ? error.code : 'unexpected'});
    throw error;
  }
  sink.append({...entry(), ...describe?.(result), outcome: 'ok'});
  return result;
}
