import {describe, expect, it} from 'vitest';
import {isBclError} from '@bcl/core/errors';
import type {ServiceDeployResult} from './deploy.js';
import {deployFailure, deployResult, runDeploy} from './outcome.js';

// The failure classification of svctl deploy, with fake I/O (no cluster, no subprocess).
function service(name: string, outcome: ServiceDeployResult['outcome'], extra: Partial<ServiceDeployResult> = {}): ServiceDeployResult {
  return {service: name, environment: 'prod', namespace: 'ns', context: 'c', revision: 3, image: `r/${name}:v3`, imageTag: 'v3', gitSha: null, outcome, durationMs: 10, applied: [], pruned: [], message: `${name} ${outcome}`, ...extra};
}

/** A fake world: what deploy returns, and what the run did with it. */
function fakeIO(results: ServiceDeployResult[]) {
  let t = 1000;
  const seen = {annotated: [] as string[], reported: [] as string[][]};
  return {
    seen,
    io: {
      deploy: async () => results,
      annotate: async (s: ServiceDeployResult) => void seen.annotated.push(s.service),
      report: (services: readonly ServiceDeployResult[]) => void seen.reported.push(services.map((s) => s.service)),
      now: () => (t += 250),
    },
  };
}

async function failureOf(results: ServiceDeployResult[]) {
  const {io, seen} = fakeIO(results);
  const error = await runDeploy('prod', io).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isBclError(error)) throw new Error(`expected a BclError, got ${String(error)}`);
  return {error, seen};
}

describe('svctl deploy: the verdict', () => {
  it('returns the result of a full success, marks every service on its dashboards and reports nothing', async () => {
    const {io, seen} = fakeIO([service('a', 'succeeded'), service('b', 'succeeded')]);
    const result = await runDeploy('prod', io);
    expect(result).toMatchObject({environment: 'prod', outcome: 'succeeded', durationMs: 250});
    expect(result.service).toBeUndefined();
    expect(seen).toEqual({annotated: ['a', 'b'], reported: []});
  });

  it('puts a single service at the top of the result, as scripts read it', () => {
    expect(deployResult('prod', [service('a', 'succeeded')], 5)).toMatchObject({service: 'a', revision: 3, image: 'r/a:v3'});
  });

  it('is exit 7 for a failed rollout, with the rollback in the message and hint, after reporting it', async () => {
    const {error, seen} = await failureOf([service('a', 'rolled-back', {message: 'CrashLoopBackOff', rollback: {revision: 4, toRevision: 2, image: 'r/a:v2', outcome: 'succeeded', durationMs: 5, message: 'rolled out'}})]);
    expect(error).toMatchObject({code: 'svctl.rollout_failed', exitCode: 7, message: 'the rollout of a revision 3 failed: CrashLoopBackOff; rolled back to revision 2: succeeded', hint: expect.stringMatching(/^Revision 2 runs again/)});
    expect(seen).toEqual({annotated: [], reported: [['a']]});
    expect((error.details as {outcome: string}).outcome).toBe('failed');
  });

  it('marks the services that succeeded even when another failed, and names the failures', async () => {
    const {error, seen} = await failureOf([service('a', 'succeeded'), service('b', 'failed'), service('c', 'rollback-failed')]);
    expect(error).toMatchObject({exitCode: 7, message: '2 of 3 rollouts failed: b (failed), c (rollback-failed)', hint: expect.stringMatching(/svctl status/)});
    expect(seen.annotated).toEqual(['a']);
  });

  it('is 130 when any service was interrupted, whatever else failed', async () => {
    const {error} = await failureOf([service('a', 'failed'), service('b', 'interrupted'), service('c', 'locked', {error: {code: 'svctl.deploy_locked', exitCode: 6}})]);
    expect(error).toMatchObject({code: 'interrupted', exitCode: 130, message: 'interrupted: a (failed), b (interrupted), c (locked)'});
  });

  it('prefers a conflict (exit 6) among deploys that did not start, and keeps its code and hint', async () => {
    const {error} = await failureOf([
      service('a', 'error', {message: 'cannot reach the API server', error: {code: 'svctl.kube_unreachable', exitCode: 5}}),
      service('b', 'locked', {message: 'held by alice', error: {code: 'svctl.deploy_locked', exitCode: 6, hint: 'Wait for it.'}}),
    ]);
    expect(error).toMatchObject({code: 'svctl.deploy_locked', exitCode: 6, hint: 'Wait for it.', message: '2 of 2 deploys did not start: a: cannot reach the API server; b: held by alice'});
  });

  it('keeps the message and exit code of a single service that did not start', async () => {
    const {error} = await failureOf([service('a', 'error', {message: 'svctl.clusters.prod.context is not set', error: {code: 'svctl.cluster_not_configured', exitCode: 3}})]);
    expect(error).toMatchObject({code: 'svctl.cluster_not_configured', exitCode: 3, message: 'svctl.clusters.prod.context is not set'});
    expect(error.hint).toBeUndefined();
  });

  it('is no failure at all when every service succeeded', () => {
    expect(deployFailure(deployResult('prod', [service('a', 'succeeded')], 1))).toBeUndefined();
  });
});
