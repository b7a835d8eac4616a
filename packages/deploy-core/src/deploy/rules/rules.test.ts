import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {deploymentRollout, genericRollout, jobRollout, type LiveObject, podFailure} from './index.js';

// Objects recorded from the local control plane (kubectl get deployment,replicaset,pod -o json,
// managedFields dropped) while svctl deployed the sample service: a finished rollout, a crash
// loop, a missing image (ErrImagePull, then ImagePullBackOff), and an unschedulable rollout
// past its progressDeadlineSeconds.
function recorded(name: string) {
  const items = (JSON.parse(readFileSync(new URL(`./__fixtures__/${name}.json`, import.meta.url), 'utf8')) as {items: LiveObject[]}).items;
  const of = (kind: string) => items.filter((i) => i.kind === kind);
  return {deployment: of('Deployment')[0]!, replicaSets: of('ReplicaSet'), pods: of('Pod')};
}
const rollout = (name: string) => {
  const r = recorded(name);
  return deploymentRollout(r.deployment, r.replicaSets, r.pods);
};
const clone = <T>(v: T): T => structuredClone(v);

describe('Deployment rollout rule', () => {
  it('is done and ok when every replica is updated and available', () => {
    expect(rollout('available')).toMatchObject({done: true, ok: true, message: '3/3 updated and available', progress: {desired: 3, updated: 3, available: 3, old: 0}});
  });

  it('fails at once on a crash loop of a new pod, naming the pod, exit code and restarts', () => {
    const r = rollout('crashloop');
    expect(r).toMatchObject({done: true, ok: false});
    expect(r.message).toMatch(/^pod hello-d548b5d9b-29qr2: CrashLoopBackOff: container hello exited with code 1 \(Error\), restarted 1 time\(s\)$/);
    expect(r.failures).toEqual([expect.objectContaining({pod: 'hello-d548b5d9b-29qr2', container: 'hello', reason: 'CrashLoopBackOff', fatal: true})]);
  });

  it('fails at once when the image is not found (ErrImagePull and ImagePullBackOff)', () => {
    for (const name of ['notfound', 'imagepullbackoff']) {
      const r = rollout(name);
      expect(r).toMatchObject({done: true, ok: false});
      expect(r.message).toMatch(/pod hello-f7d9d95d6-np7sb: (ErrImagePull|ImagePullBackOff): .*not found/);
    }
  });

  it('keeps waiting on an image pull that may succeed on retry, and says why', () => {
    const r = recorded('notfound');
    const pod = r.pods.find((p) => p.metadata.name.startsWith('hello-f7d9d95d6'))!;
    const status = pod.status as {containerStatuses: {state: {waiting: {message: string}}}[]};
    status.containerStatuses[0]!.state.waiting.message = 'failed to pull: dial tcp 10.0.0.1:443: i/o timeout';
    const state = deploymentRollout(r.deployment, r.replicaSets, r.pods);
    expect(state).toMatchObject({done: false});
    expect(state.message).toMatch(/1\/3 updated.*; pod hello-f7d9d95d6-np7sb: ErrImagePull: failed to pull: dial tcp/);
  });

  it('fails on CreateContainerConfigError (a missing Secret or key)', () => {
    const r = recorded('crashloop');
    const pod = r.pods.find((p) => p.metadata.name === 'hello-d548b5d9b-29qr2')!;
    // kwok does not resolve Secrets, so this state is the recorded pod with the kubelet's reason.
    (pod.status as {containerStatuses: {state: unknown}[]}).containerStatuses[0]!.state = {waiting: {reason: 'CreateContainerConfigError', message: 'secret "hello-api" not found'}};
    const state = deploymentRollout(r.deployment, r.replicaSets, r.pods);
    expect(state).toMatchObject({done: true, ok: false, message: 'pod hello-d548b5d9b-29qr2: CreateContainerConfigError: secret "hello-api" not found'});
  });

  it('fails when Kubernetes marks the rollout Progressing=False, and reports unschedulable pods', () => {
    const r = rollout('deadline');
    expect(r).toMatchObject({done: true, ok: false});
    expect(r.message).toBe('ProgressDeadlineExceeded: ReplicaSet "hello-8647c94888" has timed out progressing.');
    expect(r.failures).toEqual([expect.objectContaining({reason: 'Unschedulable', fatal: false, message: expect.stringMatching(/Insufficient cpu/)})]);
  });

  it('is not done while the controller has not seen the latest generation', () => {
    const r = recorded('available');
    const d = clone(r.deployment);
    d.metadata.generation = 2;
    expect(deploymentRollout(d, r.replicaSets, r.pods)).toMatchObject({done: false, message: 'waiting for the deployment controller to see the new spec'});
  });

  it('only blames pods of the current ReplicaSet', () => {
    const r = recorded('crashloop');
    const oldRevision = clone(r.deployment);
    oldRevision.metadata.annotations!['deployment.kubernetes.io/revision'] = '1';
    expect(deploymentRollout(oldRevision, r.replicaSets, r.pods).failures).toEqual([]);
  });

  it('waits for old pods to go', () => {
    const r = recorded('available');
    const d = clone(r.deployment);
    (d.status as {replicas: number}).replicas = 4;
    expect(deploymentRollout(d, r.replicaSets, r.pods)).toMatchObject({done: false, message: '3/3 updated, 3 ready, 3 available, 1 old pod(s) terminating'});
  });
});

describe('Pod, Job and generic rules', () => {
  it('reports a Failed pod as fatal and a healthy one as nothing', () => {
    const {pods} = recorded('available');
    expect(podFailure(pods[0]!)).toBeUndefined();
    const failed = clone(pods[0]!);
    failed.status = {phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.'};
    expect(podFailure(failed)).toEqual({pod: failed.metadata.name, reason: 'Evicted', message: 'The node was low on resource: memory.', fatal: true});
  });

  it('follows Job conditions', () => {
    const job = (conditions: unknown[]) => ({apiVersion: 'batch/v1', kind: 'Job', metadata: {name: 'migrate'}, status: {conditions, active: 1}}) as LiveObject;
    expect(jobRollout(job([]))).toMatchObject({done: false, message: '1 active, 0 succeeded'});
    expect(jobRollout(job([{type: 'Complete', status: 'True'}]))).toMatchObject({done: true, ok: true});
    expect(jobRollout(job([{type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit'}]))).toMatchObject({done: true, ok: false, message: 'BackoffLimitExceeded: Job has reached the specified backoff limit'});
  });

  it('treats kinds without a rule as done once applied, unless they publish Ready=False', () => {
    const cm = {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'x'}} as LiveObject;
    expect(genericRollout(cm)).toEqual({done: true, ok: true, message: 'applied'});
    expect(genericRollout({...cm, status: {conditions: [{type: 'Ready', status: 'False', reason: 'Pending', message: 'waiting for certificate'}]}})).toMatchObject({done: false, message: 'waiting for certificate'});
  });
});
