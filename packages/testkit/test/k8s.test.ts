import * as k8s from '@kubernetes/client-node';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {kubectl, servePodLogs, testNamespace, type TestNamespace, waitFor} from '@bcl/testkit';

// What svctl relies on from the local control plane (scripts/local-cluster), checked against
// the cluster the k8s project's globalSetup started for this run.
const kubeconfig = inject('kubeconfig');

function deploymentYaml(name: string, namespace: string, image: string, replicas = 3): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: app, image: "${image}"}]
`;
}

async function podStates(namespace: string, app: string): Promise<{reason?: string; message?: string; restarts: number}[]> {
  const out = await kubectl(kubeconfig, ['get', 'pods', '-n', namespace, '-l', `app=${app}`, '-o', 'json']);
  const pods = JSON.parse(out.stdout).items as {status?: {containerStatuses?: {restartCount: number; state?: {waiting?: {reason?: string; message?: string}}}[]}}[];
  return pods.flatMap((p) => (p.status?.containerStatuses ?? []).map((c) => ({reason: c.state?.waiting?.reason, message: c.state?.waiting?.message, restarts: c.restartCount})));
}

describe('local Kubernetes control plane', () => {
  let ns: TestNamespace;
  let kc: k8s.KubeConfig;

  beforeAll(async () => {
    ns = await testNamespace(kubeconfig, 'testkit');
    kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
  });
  afterAll(async () => {
    await ns?.remove();
  });

  it('makes a Deployment of 3 replicas Available, and rolls it to a new image', async () => {
    await kubectl(kubeconfig, ['apply', '-f', '-'], {input: deploymentYaml('web', ns.name, 'registry.example.com/web:1')});
    await kubectl(kubeconfig, ['rollout', 'status', `deployment/web`, '-n', ns.name, '--timeout=60s']);
    const available = await kubectl(kubeconfig, ['get', 'deployment', 'web', '-n', ns.name, '-o', 'jsonpath={.status.availableReplicas} {.status.conditions[?(@.type=="Available")].status}']);
    expect(available.stdout).toBe('3 True');

    await kubectl(kubeconfig, ['set', 'image', 'deployment/web', '-n', ns.name, 'app=registry.example.com/web:2']);
    await kubectl(kubeconfig, ['rollout', 'status', 'deployment/web', '-n', ns.name, '--timeout=60s']);
    const images = await kubectl(kubeconfig, ['get', 'pods', '-n', ns.name, '-l', 'app=web', '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[*].spec.containers[0].image}']);
    // Old pods may still be terminating; every Ready one runs the new image.
    const ready = await kubectl(kubeconfig, ['get', 'deployment', 'web', '-n', ns.name, '-o', 'jsonpath={.status.updatedReplicas}/{.status.availableReplicas}']);
    expect(ready.stdout).toBe('3/3');
    expect(images.stdout.split(' ')).toContain('registry.example.com/web:2');
  });

  it('sends a -crashloop image into CrashLoopBackOff within seconds', async () => {
    await kubectl(kubeconfig, ['apply', '-f', '-'], {input: deploymentYaml('crash', ns.name, 'registry.example.com/crash:1-crashloop', 1)});
    const state = await waitFor('CrashLoopBackOff', async () => (await podStates(ns.name, 'crash')).find((s) => s.reason === 'CrashLoopBackOff'), {timeoutMs: 20_000, intervalMs: 250});
    expect(state.restarts).toBeGreaterThanOrEqual(1);
  });

  it('fails a -notfound image with ErrImagePull, then ImagePullBackOff naming "not found"', async () => {
    await kubectl(kubeconfig, ['apply', '-f', '-'], {input: deploymentYaml('missing', ns.name, 'registry.example.com/missing:1-notfound', 1)});
    const seen = new Set<string>();
    const backoff = await waitFor(
      'ImagePullBackOff',
      async () => {
        for (const s of await podStates(ns.name, 'missing')) if (s.reason) seen.add(s.reason);
        return (await podStates(ns.name, 'missing')).find((s) => s.reason === 'ImagePullBackOff');
      },
      {timeoutMs: 30_000, intervalMs: 200},
    );
    expect(seen.has('ErrImagePull') || seen.has('ImagePullBackOff')).toBe(true);
    expect(backoff.message).toMatch(/not found/);
  });

  it('creates and renews a Lease', async () => {
    const api = kc.makeApiClient(k8s.CoordinationV1Api);
    const micro = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
    const created = await api.createNamespacedLease({
      namespace: ns.name,
      body: {metadata: {name: 'deploy-lock'}, spec: {holderIdentity: 'test', leaseDurationSeconds: 15, renewTime: micro(new Date(Date.now() - 5000)) as never}},
    });
    const renewed = await api.replaceNamespacedLease({
      name: 'deploy-lock',
      namespace: ns.name,
      body: {...created, spec: {...created.spec, renewTime: micro(new Date()) as never}},
    });
    expect(renewed.metadata?.resourceVersion).not.toBe(created.metadata?.resourceVersion);
    expect(new Date(renewed.spec!.renewTime as unknown as string).getTime()).toBeGreaterThan(new Date(created.spec!.renewTime as unknown as string).getTime());
    // A write with the old resourceVersion conflicts: that is what makes it a lock.
    await expect(api.replaceNamespacedLease({name: 'deploy-lock', namespace: ns.name, body: created})).rejects.toMatchObject({code: 409});
  });

  it('server-side applies with a field manager through @kubernetes/client-node', async () => {
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    const cm = {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'applied', namespace: ns.name}, data: {a: '1'}};
    await objects.patch(cm, undefined, undefined, 'testkit', true, k8s.PatchStrategy.ServerSideApply);
    const again = await objects.patch({...cm, data: {a: '2'}}, undefined, undefined, 'testkit', true, k8s.PatchStrategy.ServerSideApply);
    expect((again as {data?: Record<string, string>}).data).toEqual({a: '2'});
    const managers = ((again as k8s.KubernetesObject).metadata?.managedFields ?? []).map((f) => `${f.manager}:${f.operation}`);
    expect(managers).toEqual(['testkit:Apply']);
  });

  it('works with kubectl: create a Deployment, watch it become available, delete it', async () => {
    await kubectl(kubeconfig, ['create', 'deployment', 'cli', '-n', ns.name, '--image=registry.example.com/cli:1', '--replicas=2']);
    await kubectl(kubeconfig, ['wait', '--for=condition=Available', 'deployment/cli', '-n', ns.name, '--timeout=60s']);
    await kubectl(kubeconfig, ['delete', 'deployment', 'cli', '-n', ns.name, '--wait=true', '--timeout=60s']);
    const gone = await kubectl(kubeconfig, ['get', 'deployment', 'cli', '-n', ns.name], {allowFailure: true});
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/not found/);
  });

  it('serves pod logs through the API server as a kubelet would: current and previous run, tail; none for pods no ClusterLogs selects', async () => {
    const logs = await servePodLogs(kubeconfig, ns.name, {current: ['up again', 'ready'], previous: ['boom: one', 'boom: two', 'boom: three']});
    try {
      await kubectl(kubeconfig, ['apply', '-f', '-'], {input: deploymentYaml('logger', ns.name, 'registry.example.com/logger:v1-crashloop', 1)});
      await waitFor('the logger pod to crash once', async () => (await podStates(ns.name, 'logger')).some((p) => p.restarts > 0), {timeoutMs: 30_000});
      // kwok learns of the ClusterLogs object through a watch: it may take a moment.
      await waitFor('kwok to serve the logs', async () => (await kubectl(kubeconfig, ['logs', '-n', ns.name, 'deployment/logger'], {allowFailure: true})).code === 0, {timeoutMs: 30_000});
      expect((await kubectl(kubeconfig, ['logs', '-n', ns.name, 'deployment/logger'])).stdout).toBe('up again\nready\n');
      expect((await kubectl(kubeconfig, ['logs', '-n', ns.name, 'deployment/logger', '--previous', '--tail', '2'])).stdout).toBe('boom: two\nboom: three\n');
    } finally {
      await logs.remove();
    }
    const other = await testNamespace(kubeconfig, 'nologs');
    try {
      await kubectl(kubeconfig, ['apply', '-f', '-'], {input: deploymentYaml('quiet', other.name, 'registry.example.com/quiet:v1', 1)});
      await waitFor('the quiet pod to run', async () => (await kubectl(kubeconfig, ['get', 'pods', '-n', other.name, '-l', 'app=quiet', '-o', 'jsonpath={.items[0].status.phase}'])).stdout === 'Running', {timeoutMs: 30_000});
      const none = await kubectl(kubeconfig, ['logs', '-n', other.name, 'deployment/quiet'], {allowFailure: true});
      expect(none.code).not.toBe(0);
      expect(none.stderr).toMatch(/no logs found for container "app"/);
    } finally {
      await other.remove();
    }
  });
});
