// A rollback continued by another process (svapp's takeover of an operation whose replica
// stopped) goes to the revision the first run chose, even once that run's rollback is current.
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {DeployHistory, type DeployOptions, deployServices, deployTarget, rollbackServices, rollbackTarget} from '@bcl/deploy-core/deploy';
import {connect} from '@bcl/deploy-core/kube';
import {parseSpec, resolveEnvironment} from '@bcl/deploy-core/spec';
import {silentSink} from '@bcl/deploy-core/events';
import {testNamespace, type TestNamespace} from '@bcl/testkit';

const kubeconfig = inject('kubeconfig');
let ns: TestNamespace;

const specText = (namespace: string) => `name: back
team: platform
image: registry.example.com/platform/back
runtime: node
port: 3000
replicas: 1
rollout: {progressDeadlineSeconds: 30}
metrics: {enabled: false}
environments:
  test:
    namespace: ${namespace}
`;

beforeAll(async () => {
  ns = await testNamespace(kubeconfig, 'rollback-op');
}, 120_000);
afterAll(async () => {
  await ns?.remove();
});

describe('a rollback of an operation run twice', () => {
  it('re-applies the revision its first run chose, not the one before its own rollback', async () => {
    const clusters = {test: {context: 'bcl-local'}};
    const spec = parseSpec(specText(ns.name), 'service.yaml');
    const options = (operation?: string): DeployOptions => ({environment: 'test', timeoutMs: 60_000, rollback: true, signal: new AbortController().signal, events: silentSink, env: {KUBECONFIG: kubeconfig}, who: 'tester', ...(operation ? {operation} : {})});
    for (const tag of ['v1', 'v2']) {
      const [r] = await deployServices([deployTarget(spec, 'service.yaml', {environment: 'test', clusters, imageTag: tag})], options());
      expect(r!.outcome, r!.message).toBe('succeeded');
    }
    const env = resolveEnvironment(spec, 'test', clusters);
    const first = await rollbackServices([rollbackTarget(env)], options('op-1'));
    expect(first[0]).toMatchObject({outcome: 'succeeded', image: 'registry.example.com/platform/back:v1'});
    // The same operation again, as a replica taking it over after the first run finished the rollout
    // but before its result was stored: v1 again, where "the previous good one" would now be v2.
    const again = await rollbackServices([rollbackTarget(env)], options('op-1'));
    expect(again[0]).toMatchObject({outcome: 'succeeded', image: 'registry.example.com/platform/back:v1'});
    // Another operation is a new rollback: the previous good revision with another image.
    const other = await rollbackServices([rollbackTarget(env)], options('op-2'));
    expect(other[0]).toMatchObject({outcome: 'succeeded', image: 'registry.example.com/platform/back:v2'});
    const clients = await connect({context: 'bcl-local', kubeconfig});
    const history = await new DeployHistory(clients, ns.name, 'back', 'test').list();
    expect(history.map((r) => [r.revision, r.kind, r.source ?? null, r.operation ?? null, r.outcome])).toEqual([
      [1, 'deploy', null, null, 'succeeded'],
      [2, 'deploy', null, null, 'succeeded'],
      [3, 'rollback', 1, 'op-1', 'succeeded'],
      [4, 'rollback', 1, 'op-1', 'succeeded'],
      [5, 'rollback', 2, 'op-2', 'succeeded'],
    ]);
  });
});
