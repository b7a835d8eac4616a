// Two svapp replicas on one PostgreSQL, as behind one address in Kubernetes: one deploy of a
// service and environment at a time, one rollout for a retried request, an operation whose
// replica dies (kill -9) or stops (SIGTERM) taken over within the bound, and a replica that was
// frozen past its lease writing nothing more.
import {randomUUID} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {type ClusterSvapp, kubectl, runCli, startSvappOnCluster, svctlServerHome, testNamespace, type TestNamespace, waitFor} from '@bcl/testkit';
import {serviceRepo, type ServiceRepo, testSpec} from '../../../svctl/test/helpers.js';
import {call, type Credentials, credentialsOf, eventLog, operations} from './cluster-support.js';

const kubeconfig = inject('kubeconfig');
/** svapp's takeover bound with the test site's settings (leaseSeconds 6, sweepSeconds 1), as docs/svapp/svapp.md ("Replicas") derives it. */
const TAKEOVER_BOUND_MS = 6_000 + 1_000 + 3_000;

let svapp: ClusterSvapp;
let ns: TestNamespace;
let repo: ServiceRepo;
const homes: Awaited<ReturnType<typeof svctlServerHome>>[] = [];
const creds: Credentials[] = [];

const slow = (replicas: number) =>
  testSpec('hello', ns.name, '', `    replicas: ${replicas}`).replace('rollout: {progressDeadlineSeconds: 30}', 'rollout: {progressDeadlineSeconds: 120, maxSurge: 1, maxUnavailable: 0}');

beforeAll(async () => {
  ns = await testNamespace(kubeconfig, 'svapp-replicas');
  svapp = await startSvappOnCluster(kubeconfig, {replicas: 2});
  svapp.site.writeCatalog('hello', slow(20));
  repo = await serviceRepo(slow(20));
  for (const r of svapp.replicas) {
    const home = await svctlServerHome(svapp, r.url, {extra: '  reconnectSeconds: 3\n'});
    homes.push(home);
    creds.push({...credentialsOf(home.configFile), url: r.url});
  }
}, 180_000);

afterAll(async () => {
  repo?.remove();
  for (const h of homes) h.remove();
  await svapp?.stop();
  await ns?.remove();
});

const via = (i: number, args: string[], extra: Parameters<typeof runCli>[2] = {}) => runCli('svctl', args, {env: homes[i]!.cliEnv, cwd: repo.dir, ...extra});
const lease = async () => (await kubectl(kubeconfig, ['get', 'lease', 'svctl-deploy-hello-test', '-n', ns.name, '-o', 'jsonpath={.spec.holderIdentity}'], {allowFailure: true})).stdout;
const image = async () => (await kubectl(kubeconfig, ['get', 'deployment/hello', '-n', ns.name, '-o', 'jsonpath={.spec.template.spec.containers[0].image} {.status.updatedReplicas}/{.status.availableReplicas}'])).stdout;
const history = async () => {
  const data = JSON.parse((await kubectl(kubeconfig, ['get', 'configmap/svctl-history-hello-test', '-n', ns.name, '-o', 'jsonpath={.data}'])).stdout || '{}') as Record<string, string>;
  return Object.values(data).map((v) => JSON.parse(v) as {revision: number; outcome: string; image: string; who: string}).sort((a, b) => a.revision - b.revision);
};
/** The replica (a live one: svapp-1's credentials) a test reads through. */
const reader = () => creds[1]!;

describe('two replicas', () => {
  it('run one deploy of a service and environment at a time: the other is exit 6 naming the holder', async () => {
    expect((await via(0, ['deploy', '--env', 'test', '--image-tag', 'v1'])).exitCode).toBe(0);
    // Pods asking for more CPU than any node has stay Pending: this rollout holds the lease until cancelled.
    const big = slow(20).replace('metrics: {enabled: false}', 'metrics: {enabled: false}\nresources: {requests: {cpu: "500"}, limits: {cpu: "500"}}');
    await repo.write(big, 'too big');
    const first = via(0, ['deploy', '--env', 'test', '--image-tag', 'v2', '--timeout', '2m']);
    await waitFor('the first deploy to hold the deploy lease', async () => /via svapp svapp-0 op /.test(await lease()), {timeoutMs: 60_000});
    const second = await via(1, ['deploy', '--env', 'test', '--image-tag', 'v3', '--json']);
    expect(second.exitCode, second.stderr).toBe(6);
    expect(second.json().error).toMatchObject({code: 'svctl.deploy_locked'});
    expect(second.json().error!.message).toMatch(/held by tester@example\.com via svapp svapp-0 op [0-9a-f-]{36}/);
    const running = (await operations(reader())).find((o) => o.state === 'running')!;
    expect((await via(1, ['ops', 'cancel', running.id])).exitCode).toBe(0);
    expect((await first).exitCode).toBe(130);
    await repo.write(slow(20), 'back to normal');
    expect((await via(0, ['deploy', '--env', 'test', '--image-tag', 'v1'])).exitCode).toBe(0);
    // Only the deploys that held the lease ran (the refused one recorded nothing).
    expect((await history()).map((h) => [h.image, h.outcome])).toEqual([
      ['registry.example.com/platform/hello:v1', 'succeeded'],
      ['registry.example.com/platform/hello:v2', 'interrupted'],
      ['registry.example.com/platform/hello:v1', 'succeeded'],
    ]);
  });

  it('make one rollout of one operation id, whichever replicas the request (and its retry) reaches', async () => {
    const id = randomUUID();
    const body = {id, environment: 'test', services: [{spec: readFileSync(`${repo.dir}/service.yaml`, 'utf8'), file: `${repo.dir}/service.yaml`, imageTag: 'v3'}]};
    const answers = await Promise.all([call(creds[0]!, 'POST', '/v1/deploys', {json: body}), call(creds[1]!, 'POST', '/v1/deploys', {json: body}), call(creds[0]!, 'POST', '/v1/deploys', {json: body})]);
    expect(answers.map((a) => [a.status, a.body.id])).toEqual([[202, id], [202, id], [202, id]]);
    await waitFor('the operation to end', async () => (await call(reader(), 'GET', `/v1/operations/${id}`)).body.state === 'succeeded', {timeoutMs: 60_000});
    expect((await history()).map((h) => h.image).slice(3)).toEqual(['registry.example.com/platform/hello:v3']);
    expect((await eventLog(reader(), id)).filter((e) => e.type === 'started')).toHaveLength(1);
  });

  it('take over an operation whose replica was killed (kill -9) within the bound; its client never reports success', async () => {
    svapp.site.writeCatalog('hello', slow(40));
    await repo.write(slow(40), '40 replicas');
    let ended: Awaited<ReturnType<typeof via>> | undefined;
    const client = via(0, ['deploy', '--env', 'test', '--image-tag', 'v4', '--json']).then((r) => (ended = r));
    await waitFor('the deploy to roll out on svapp-0', async () => {
      if (ended) throw new Error(`the deploy ended before it could be killed: ${ended.stdout}${ended.stderr}`);
      return (await image()).startsWith('registry.example.com/platform/hello:v4') && /via svapp svapp-0 op /.test(await lease());
    }, {timeoutMs: 60_000, intervalMs: 50});
    svapp.replicas[0]!.kill('SIGKILL');
    const killedAt = Date.now();
    try {
      await takenOver(client, killedAt);
    } finally {
      svapp.replicas[0] = await svapp.site.startReplica('svapp-0');
      creds[0] = {...creds[0]!, url: svapp.replicas[0].url};
    }
  });

  async function takenOver(client: ReturnType<typeof via>, killedAt: number): Promise<void> {
    const lost = await client;
    expect(lost.exitCode, lost.stdout).toBe(5);
    expect(lost.json().error).toMatchObject({code: 'svctl.stream_lost'});
    const op = (await operations(reader()))[0]!;
    const attach = await via(1, ['ops', 'attach', op.id]);
    expect(attach.exitCode, attach.stderr).toBe(0);
    expect(attach.stderr).toMatch(/Warning: svapp replica svapp-1 took over from svapp-0 \(attempt 2\), which stopped renewing its lease/);
    const log = await eventLog(reader(), op.id);
    const takeover = log.find((e) => e.type === 'taken-over')!;
    expect(takeover.data).toMatchObject({replica: 'svapp-1', from: 'svapp-0', attempt: 2});
    expect(Date.parse(takeover.data.at) - killedAt).toBeLessThan(TAKEOVER_BOUND_MS);
    expect(log.at(-1)).toMatchObject({type: 'end', data: {state: 'succeeded'}});
    expect(await image()).toBe('registry.example.com/platform/hello:v4 40/40');
    // The killed run's revision is abandoned; the replica that took over recorded its own.
    const revisions = (await history()).slice(-2);
    expect(revisions.map((r) => [r.image, r.outcome])).toEqual([['registry.example.com/platform/hello:v4', 'abandoned'], ['registry.example.com/platform/hello:v4', 'succeeded']]);
  }

  it('refuse every later write of a replica frozen past its lease (SIGSTOP), once another took over', async () => {
    const a = svapp.replicas[0]!;
    const id = randomUUID();
    const body = {id, environment: 'test', services: [{spec: readFileSync(`${repo.dir}/service.yaml`, 'utf8'), file: `${repo.dir}/service.yaml`, imageTag: 'v5'}]};
    expect((await call(creds[0]!, 'POST', '/v1/deploys', {json: body})).status).toBe(202);
    await waitFor('the deploy to roll out on svapp-0', async () => (await image()).startsWith('registry.example.com/platform/hello:v5') && /via svapp svapp-0 op /.test(await lease()), {timeoutMs: 60_000, intervalMs: 50});
    a.kill('SIGSTOP');
    try {
      await waitFor('svapp-1 to finish it', async () => (await call(reader(), 'GET', `/v1/operations/${id}`)).body.state === 'succeeded', {timeoutMs: 90_000});
    } finally {
      a.kill('SIGCONT');
    }
    const frozen = (await history()).find((r) => r.image.endsWith(':v5') && r.outcome === 'abandoned')!;
    expect(frozen).toBeDefined();
    const endSeq = (await eventLog(reader(), id)).at(-1)!.seq;
    // Awake again, svapp-0 finds it lost the operation, and writes nothing: no event after the end,
    // its revision stays abandoned, no deploy lease taken again.
    await waitFor('svapp-0 to notice', () => new RegExp(`svapp replica svapp-0 no longer runs operation ${id}`).test(a.log()), {timeoutMs: 30_000});
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const after = await eventLog(reader(), id);
    expect(after.at(-1)!.seq).toBe(endSeq);
    expect(after.filter((e) => e.type === 'taken-over')).toHaveLength(1);
    expect((await history()).find((r) => r.revision === frozen.revision)!.outcome).toBe('abandoned');
    expect(await lease()).toBe('');
    expect((await call(reader(), 'GET', `/v1/operations/${id}`)).body).toMatchObject({state: 'succeeded', runner: 'svapp-1'});
  });

  it('hand a running operation over at once when its replica stops (SIGTERM, a rolling restart)', async () => {
    // Both replicas outlived the earlier tests (kill -9, SIGSTOP): one that did not says why.
    for (const r of svapp.replicas) {
      const state = await Promise.race([r.exited.then((code) => `exited with ${code}`), new Promise<string>((resolve) => setTimeout(() => resolve('running'), 50))]);
      expect(state, `${r.name}:\n${r.log().slice(-3000)}`).toBe('running');
    }
    const a = svapp.replicas[0]!;
    const id = randomUUID();
    const body = {id, environment: 'test', services: [{spec: readFileSync(`${repo.dir}/service.yaml`, 'utf8'), file: `${repo.dir}/service.yaml`, imageTag: 'v6'}]};
    expect((await call(creds[0]!, 'POST', '/v1/deploys', {json: body})).status).toBe(202);
    await waitFor('the deploy to roll out on svapp-0', async () => (await image()).startsWith('registry.example.com/platform/hello:v6') && /via svapp svapp-0 op /.test(await lease()), {timeoutMs: 60_000, intervalMs: 50});
    const stoppedAt = Date.now();
    await a.stop();
    await waitFor('svapp-1 to finish it', async () => (await call(reader(), 'GET', `/v1/operations/${id}`)).body.state === 'succeeded', {timeoutMs: 60_000});
    const takeover = (await eventLog(reader(), id)).find((e) => e.type === 'taken-over')!;
    expect(Date.parse(takeover.data.at) - stoppedAt).toBeLessThan(5_000);
    expect(takeover.data.message).toMatch(/^svapp replica svapp-1 took over from svapp-0 \(attempt 2\), which handed it over as it stopped$/);
    expect(await image()).toBe('registry.example.com/platform/hello:v6 40/40');
  });

  it('count no handover of a rolling restart against the attempts: three in a row and the operation still runs', async () => {
    // A rollout that cannot finish (pods asking for more CPU than any node has): it runs until cancelled.
    const big = slow(20).replace('metrics: {enabled: false}', 'metrics: {enabled: false}\nresources: {requests: {cpu: "500"}, limits: {cpu: "500"}}');
    const id = randomUUID();
    const at = (url: string) => ({...creds[1]!, url});
    expect((await call(reader(), 'POST', '/v1/deploys', {json: {id, environment: 'test', services: [{spec: big, file: `${repo.dir}/service.yaml`, imageTag: 'v7'}]}})).status).toBe(202);
    let current = svapp.replicas[1]!;
    await waitFor('svapp-1 to run it', async () => /via svapp svapp-1 op /.test(await lease()), {timeoutMs: 60_000, intervalMs: 50});
    // Three rolling restarts (operations.maxAttempts is 3): each replica stops after the next is up.
    for (const n of [2, 3, 4]) {
      const next = await svapp.site.startReplica(`svapp-${n}`);
      await current.stop();
      await waitFor(`svapp-${n} to take it over`, async () => (await call(at(next.url), 'GET', `/v1/operations/${id}`)).body.runner === `svapp-${n}`, {timeoutMs: 30_000, intervalMs: 100});
      current = next;
    }
    const op = (await call(at(current.url), 'GET', `/v1/operations/${id}`)).body;
    expect(op).toMatchObject({state: 'running', runner: 'svapp-4', attempts: 4});
    expect((await call(at(current.url), 'POST', `/v1/operations/${id}/cancel`, {json: {}})).status).toBeLessThan(300);
    await waitFor('the deploy to be cancelled', async () => (await call(at(current.url), 'GET', `/v1/operations/${id}`)).body.state === 'cancelled', {timeoutMs: 30_000});
    const takeovers = (await eventLog(at(current.url), id)).filter((e) => e.type === 'taken-over').map((e) => e.data.message);
    expect(takeovers).toEqual([2, 3, 4].map((n) => `svapp replica svapp-${n} took over from svapp-${n - 1} (attempt ${n}), which handed it over as it stopped`));
  }, 180_000);
});
