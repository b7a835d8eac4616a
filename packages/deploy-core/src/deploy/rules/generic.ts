import type {LiveObject, RolloutState} from './types.js';

/**
 * Kinds without a rule of their own (ConfigMap, Service, Ingress...) are done once they exist,
 * unless they publish a Ready or Failed condition, which is then honoured (kapp's fallback).
 */
export function genericRollout(object: LiveObject): RolloutState {
  const conditions = (object.status?.conditions ?? []) as {type: string; status: string; reason?: string; message?: string}[];
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failed) return {done: true, ok: false, message: `${failed.reason ?? 'Failed'}: ${failed.message ?? ''}`.trim()};
  const ready = conditions.find((c) => c.type === 'Ready');
  if (ready && ready.status !== 'True') return {done: false, ok: false, message: ready.message ?? `waiting for Ready (${ready.reason ?? ready.status})`};
  return {done: true, ok: true, message: 'applied'};
}

/** A Job: done when Complete, failed when Failed. */
export function jobRollout(job: LiveObject): RolloutState {
  const conditions = (job.status?.conditions ?? []) as {type: string; status: string; reason?: string; message?: string}[];
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failed) return {done: true, ok: false, message: `${failed.reason ?? 'Failed'}: ${failed.message ?? 'the job failed'}`};
  if (conditions.some((c) => c.type === 'Complete' && c.status === 'True')) return {done: true, ok: true, message: 'completed'};
  const s = (job.status ?? {}) as {active?: number; succeeded?: number};
  return {done: false, ok: false, message: `${s.active ?? 0} active, ${s.succeeded ?? 0} succeeded`};
}
