import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {kubectl, servePodLogs, type ServedPodLogs, testNamespace, type TestNamespace, waitFor} from '@bcl/testkit';
import {type ServiceRepo, svctl, testSpec} from '../helpers.js';
import {type ModeHome, modes} from '../modes.js';

// svctl deploy against the real local control plane (one per run, from the k8s project's
// globalSetup). Pods are played by kwok: "-crashloop" and "-notfound" image tags fail, and the
// pods of the test's namespace have the log lines below (served by kwok, read through pods/log).
// Every test runs in both modes: direct (svctl with the kubeconfig) and through svapp (svctl
// with svctl.server only; svapp deploys with its own ServiceAccount).
const CRASH_LOG = ['starting hello on :3000', 'Error: listen EADDRINUSE: address already in use :::3000', '    at Server.setupListenHandle [as _listen2] (node:net:1908:16)'];
const kubeconfig = inject('kubeconfig');

interface DeployJson {
  ok: boolean;
  result?: {outcome: string; revision: number; image: string; durationMs: number; services: {outcome: string; applied: {ref: string; action: string}[]; pruned: string[]}[]};
  error?: {code: string; message: string; hint?: string; details: {outcome: string; revision: number; image: string; durationMs: number; services: Svc[]}};
}
interface Svc {
  outcome: string;
  revision: number;
  image: string;
  message: string;
  failure?: {reason: string; pods: {reason: string; fatal: boolean}[]; logs: {unavailable?: string; lines?: string[]}[]};
  rollback?: {revision: number; toRevision: number; outcome: string; image: string};
}

const get = async (ns: string, what: string, jsonpath: string) => (await kubectl(kubeconfig, ['get', what, '-n', ns, '-o', `jsonpath=${jsonpath}`])).stdout;
const microNow = (offsetMs = 0) => new Date(Date.now() + offsetMs).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

describe.each(modes)('svctl deploy ($name mode)', (mode) => {
  let ns: TestNamespace;
  let repo: ServiceRepo;
  let logs: ServedPodLogs;
  let home: ModeHome;
  const serviceRepo = (spec: string) => home.repo(spec);
  const deploy = (args: string[], extra: {interruptAfterMs?: number; interruptOn?: RegExp; interruptWhen?: Promise<unknown>; interruptSignal?: NodeJS.Signals} = {}) => svctl(['deploy', '--env', 'test', ...args], {env: home.cliEnv, cwd: repo.dir, ...extra});

  beforeAll(async () => {
    ns = await testNamespace(kubeconfig, `svctl-${mode.name}`);
    home = await mode.setup(kubeconfig);
    logs = await servePodLogs(kubeconfig, ns.name, {current: ['starting hello on :3000'], previous: CRASH_LOG});
    repo = await serviceRepo(testSpec('hello', ns.name, 'routes: [{host: hello.example.com}]'));
  }, 180_000);
  afterAll(async () => {
    await logs?.remove();
    await ns?.remove();
    repo?.remove();
    await home?.remove();
  });

  it('deploys a new service until it is Ready, tagged with the git commit, and reports it as JSON', async () => {
    const r = await deploy(['--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const body = r.json<DeployJson>();
    const commit = (await import('node:child_process')).execFileSync('git', ['rev-parse', 'HEAD'], {cwd: repo.dir}).toString().trim();
    expect(body.result).toMatchObject({outcome: 'succeeded', revision: 1, image: `registry.example.com/platform/hello:${commit}`});
    expect(body.result!.durationMs).toBeGreaterThan(0);
    // (ServiceMonitor/PrometheusRule join when another test has installed the Prometheus operator's CRDs.)
    expect(body.result!.services[0]!.applied.map((a) => a.ref).filter((r) => !/^(ServiceMonitor|PrometheusRule)\//.test(r))).toEqual(['ServiceAccount/hello', 'ConfigMap/hello-env', 'Service/hello', 'NetworkPolicy/hello', 'PodDisruptionBudget/hello', 'Deployment/hello', 'Ingress/hello']);
    expect(await get(ns.name, 'deployment/hello', '{.status.readyReplicas}/{.status.updatedReplicas}')).toBe('2/2');
    expect(await get(ns.name, 'deployment/hello', '{.metadata.labels.app\\.kubernetes\\.io/managed-by} {.metadata.labels.team}')).toBe('svctl platform');
  });

  it('changes nothing and starts no ReplicaSet when deployed again unchanged', async () => {
    const before = await get(ns.name, 'replicasets', '{.items[*].metadata.name}');
    const r = await deploy(['--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json<DeployJson>().result!.revision).toBe(2);
    expect(await get(ns.name, 'replicasets', '{.items[*].metadata.name}')).toBe(before);
    expect(before.split(' ')).toHaveLength(1);
  });

  it('rolls out a new image', async () => {
    const r = await deploy(['--image-tag', 'v2']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await get(ns.name, 'deployment/hello', '{.spec.template.spec.containers[0].image} {.status.updatedReplicas}/{.status.availableReplicas}')).toBe('registry.example.com/platform/hello:v2 2/2');
    // Progress on stderr (plain timestamped lines off a terminal), the result on stdout.
    expect(r.stderr).toMatch(/^\d{4}-\d\d-\d\dT\S+ hello \(test\): revision 3: \d\/2 updated/m);
    expect(r.stderr).toMatch(/hello \(test\): done: revision 3 rolled out \(0 created, 7 changed, 0 unchanged\)/);
    expect(r.stdout).toMatch(/^✓ hello revision 3 \(registry\.example\.com\/platform\/hello:v2\) deployed to test in \d+\.\ds\n$/);
  });

  for (const [tag, reason] of [
    ['v3-crashloop', 'CrashLoopBackOff'],
    ['v3-notfound', /ErrImagePull|ImagePullBackOff/],
  ] as const) {
    it(`fails a ${tag} image fast, rolls back to the previous image automatically, and exits 7`, async () => {
      const started = Date.now();
      const r = await deploy(['--image-tag', tag, '--json']);
      const elapsed = Date.now() - started;
      expect(r.exitCode, r.stderr).toBe(7);
      expect(elapsed).toBeLessThan(30_000);
      const body = r.json<DeployJson>();
      expect(body.error!.code, body.error!.message).toBe('svctl.rollout_failed');
      const svc = body.error!.details.services[0]!;
      expect(svc.outcome).toBe('rolled-back');
      expect(svc.image).toBe(`registry.example.com/platform/hello:${tag}`);
      expect(svc.failure!.pods.find((p) => p.fatal)?.reason, JSON.stringify(svc)).toMatch(reason);
      expect(svc.rollback).toMatchObject({outcome: 'succeeded', image: 'registry.example.com/platform/hello:v2'});
      expect(body.error!.message).toMatch(/rolled back to revision \d+: succeeded/);
      // The previous image runs again, fully available.
      expect(await get(ns.name, 'deployment/hello', '{.spec.template.spec.containers[0].image} {.status.updatedReplicas}/{.status.availableReplicas}')).toBe('registry.example.com/platform/hello:v2 2/2');
      if (tag.endsWith('crashloop')) {
        // The last lines of the crashed run (logs --previous), as the node served them.
        expect(svc.failure!.logs[0]).toMatchObject({lines: CRASH_LOG});
        expect(svc.failure!.logs[0]!.unavailable).toBeUndefined();
      }
    });
  }

  it('says why on stderr for a person: phases, the failing pod, the rollback', async () => {
    const r = await deploy(['--image-tag', 'v4-crashloop']);
    expect(r.exitCode).toBe(7);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/==> Deploying hello/);
    expect(r.stderr).toMatch(/pod hello-[a-z0-9]+-[a-z0-9]+ container hello: CrashLoopBackOff: container hello exited with code 1/);
    expect(r.stderr).toMatch(new RegExp(`last log lines of hello-[a-z0-9]+-[a-z0-9]+/hello:\n {6}${CRASH_LOG[0]}\n {6}${CRASH_LOG[1]}\n {6}\\s+at Server\\.setupListenHandle`));
    expect(r.stderr).toMatch(/rollback to revision \d+ \(registry\.example\.com\/platform\/hello:v2\) as revision \d+: succeeded/);
    expect(r.stderr).toMatch(/Error: the rollout of hello revision \d+ failed/);
  });

  it('leaves a failed rollout in place with --no-rollback', async () => {
    const r = await deploy(['--image-tag', 'v5-notfound', '--no-rollback', '--json']);
    expect(r.exitCode).toBe(7);
    const svc = r.json<DeployJson>().error!.details.services[0]!;
    expect(svc.outcome).toBe('failed');
    expect(svc.rollback).toBeUndefined();
    expect(await get(ns.name, 'deployment/hello', '{.spec.template.spec.containers[0].image}')).toBe('registry.example.com/platform/hello:v5-notfound');
    // Put the good image back for the next tests.
    expect((await deploy(['--image-tag', 'v2'])).exitCode).toBe(0);
  });

  it('rolls out a change of the NetworkPolicy and of the spread constraints like any other change', async () => {
    const spread = (await get(ns.name, 'deployment/hello', '{.spec.template.spec.topologySpreadConstraints[*].topologyKey}')).trim();
    expect(spread).toBe('kubernetes.io/hostname');
    const policy = async () => JSON.parse((await kubectl(kubeconfig, ['get', 'networkpolicy/hello', '-n', ns.name, '-o', 'json'])).stdout) as {spec: {ingress: {from: unknown[]}[]}};
    expect((await policy()).spec.ingress[0]!.from).toEqual([{podSelector: {}}]);
    // One replica: no spread; callers named: the NetworkPolicy changes.
    await repo.write(testSpec('hello', ns.name, 'routes: [{host: hello.example.com}]\nnetwork: {callers: [{service: web}]}', '    replicas: 1'), 'one replica, named callers');
    const one = await deploy(['--image-tag', 'v2', '--json']);
    expect(one.exitCode, one.stderr).toBe(0);
    const applied = one.json<DeployJson>().result!.services[0]!.applied;
    expect(applied.find((a) => a.ref === 'NetworkPolicy/hello')?.action).toBe('configured');
    expect(await get(ns.name, 'deployment/hello', '{.spec.template.spec.topologySpreadConstraints}')).toBe('');
    expect(await get(ns.name, 'deployment/hello', '{.status.updatedReplicas}/{.status.availableReplicas}')).toBe('1/1');
    expect((await policy()).spec.ingress[0]!.from).toEqual([{podSelector: {matchLabels: {'app.kubernetes.io/name': 'web'}}}]);
    // Back to two: the constraints return and the new ReplicaSet rolls out in full.
    await repo.write(testSpec('hello', ns.name, 'routes: [{host: hello.example.com}]'), 'two replicas again');
    const two = await deploy(['--image-tag', 'v2', '--json']);
    expect(two.exitCode, two.stderr).toBe(0);
    expect(await get(ns.name, 'deployment/hello', '{.spec.template.spec.topologySpreadConstraints[0].topologyKey} {.status.updatedReplicas}/{.status.availableReplicas}')).toBe('kubernetes.io/hostname 2/2');
    expect(await get(ns.name, 'deployment/hello', '{.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem} {.spec.template.spec.volumes[0].name}')).toBe('true tmp');
  });

  it('prunes the Ingress when the route is removed, and never touches objects svctl did not create', async () => {
    await kubectl(kubeconfig, ['create', 'configmap', 'not-svctls', '-n', ns.name, '--from-literal=a=b']);
    await kubectl(kubeconfig, ['create', 'configmap', 'hello-lookalike', '-n', ns.name, '--from-literal=a=b']);
    await kubectl(kubeconfig, ['label', 'configmap', 'hello-lookalike', '-n', ns.name, 'app.kubernetes.io/name=hello']);
    expect(await get(ns.name, 'ingress/hello', '{.spec.rules[0].host}')).toBe('hello.example.com');
    await repo.write(testSpec('hello', ns.name), 'drop the route');
    const r = await deploy(['--image-tag', 'v2', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json<DeployJson>().result!.services[0]!.pruned).toEqual(['Ingress/hello']);
    const ingresses = await kubectl(kubeconfig, ['get', 'ingress', '-n', ns.name, '-o', 'name']);
    expect(ingresses.stdout.trim()).toBe('');
    expect(await get(ns.name, 'configmaps', '{.items[*].metadata.name}')).toMatch(/hello-lookalike.*not-svctls|not-svctls.*hello-lookalike/);
  });

  it('refuses to take over an object of the same name that svctl did not create (exit 6), applying nothing', async () => {
    await kubectl(kubeconfig, ['create', 'configmap', 'other-env', '-n', ns.name, '--from-literal=a=b']);
    const other = await serviceRepo(testSpec('other', ns.name));
    try {
      const r = await svctl(['deploy', '--env', 'test', '--image-tag', 'v1', '--json'], {env: home.cliEnv, cwd: other.dir});
      expect(r.exitCode, r.stderr).toBe(6);
      expect(r.json<DeployJson>().error!.message).toMatch(/ConfigMap\/other-env \(managed by not svctl\) already exists in namespace .* nothing was applied/);
      expect((await kubectl(kubeconfig, ['get', 'deployment', 'other', '-n', ns.name], {allowFailure: true})).code).not.toBe(0);
      expect(await get(ns.name, 'configmap/other-env', '{.data.a}')).toBe('b');
    } finally {
      other.remove();
    }
  });

  it('exits 6 naming the holder while another deploy holds the lease, and takes over a stale one', async () => {
    const lease = (holder: string, renewOffsetMs: number) => `apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: svctl-deploy-hello-test, namespace: ${ns.name}}
spec: {holderIdentity: "${holder}", leaseDurationSeconds: 30, acquireTime: "${microNow(renewOffsetMs)}", renewTime: "${microNow(renewOffsetMs)}"}
`;
    await kubectl(kubeconfig, ['apply', '-f', '-'], {input: lease('alice@laptop pid 4242', 0)});
    const held = await deploy(['--image-tag', 'v2', '--json']);
    expect(held.exitCode).toBe(6);
    expect(held.json<DeployJson>().error).toMatchObject({code: 'svctl.deploy_locked'});
    expect(held.json<DeployJson>().error!.message).toMatch(/held by alice@laptop pid 4242/);

    await kubectl(kubeconfig, ['apply', '-f', '-'], {input: lease('killed@ci pid 1', -120_000)});
    const taken = await deploy(['--image-tag', 'v2']);
    expect(taken.exitCode, taken.stderr).toBe(0);
    expect(taken.stderr).toMatch(/took over the expired deploy lease of killed@ci pid 1/);
    // Released at the end.
    expect((await kubectl(kubeconfig, ['get', 'lease', 'svctl-deploy-hello-test', '-n', ns.name], {allowFailure: true})).code).not.toBe(0);
  });

  it('holds the lease against a concurrent deploy, and on SIGINT records what was applied, releases it and exits 130', async () => {
    // Pods that ask for more CPU than any node has stay Pending: the rollout waits.
    await repo.write(testSpec('hello', ns.name, '', '    resources: {requests: {cpu: "500"}, limits: {cpu: "500"}}'), 'too big');
    // The first deploy is interrupted only once the second has been refused.
    let interrupt!: () => void;
    // --cancel-on-interrupt: what Ctrl-C always does in direct mode, and through svapp cancels instead of detaching.
    const first = deploy(['--image-tag', 'v6', '--timeout', '2m', '--cancel-on-interrupt'], {interruptWhen: new Promise<void>((resolve) => (interrupt = resolve))});
    await waitFor('the first deploy to hold the lease', async () => (await kubectl(kubeconfig, ['get', 'lease', 'svctl-deploy-hello-test', '-n', ns.name], {allowFailure: true})).code === 0, {timeoutMs: 60_000});
    const second = await deploy(['--image-tag', 'v7', '--json']);
    interrupt();
    expect(second.exitCode).toBe(6);
    expect(second.json<DeployJson>().error!.message).toMatch(/held by tester@/);
    const r = await first;
    expect(r.exitCode, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/Interrupting: cleaning up/);
    expect(r.stderr).toMatch(/applied before the interrupt: ServiceAccount\/hello, ConfigMap\/hello-env, Service\/hello, NetworkPolicy\/hello, PodDisruptionBudget\/hello, Deployment\/hello/);
    expect((await kubectl(kubeconfig, ['get', 'lease', 'svctl-deploy-hello-test', '-n', ns.name], {allowFailure: true})).code).not.toBe(0);
    const history = await svctl(['history', '--env', 'test', '--json'], {env: home.cliEnv, cwd: repo.dir});
    const last = history.json<{result: {services: {revisions: {outcome: string; applied: string[]; image: string}[]}[]}}>().result.services[0]!.revisions[0]!;
    expect(last).toMatchObject({outcome: 'interrupted', image: 'registry.example.com/platform/hello:v6'});
    expect(last.applied).toContain('Deployment/hello');
    await repo.write(testSpec('hello', ns.name), 'back to normal');
  });

  // Killing svctl kills a direct-mode deploy; through svapp the deploy goes on (svapp's own tests).
  if (mode.name === 'direct') it('records a deploy killed with kill -9 as abandoned: never shown as running once its lease expired, and marked by the run that takes over', async () => {
    await repo.write(testSpec('hello', ns.name, '', '    resources: {requests: {cpu: "500"}, limits: {cpu: "500"}}'), 'too big again');
    const killed = await deploy(['--image-tag', 'v8', '--timeout', '2m'], {interruptOn: /: revision \d+: rolling out/, interruptSignal: 'SIGKILL'});
    expect(killed.exitCode, killed.stderr).toBe(128);
    // The dead run left its lease; its expiry (30 s without renewal) is played by moving the renewal into the past.
    const holder = await get(ns.name, 'lease/svctl-deploy-hello-test', '{.spec.holderIdentity}');
    expect(holder).toMatch(/^tester@.* pid \d+$/);
    await kubectl(kubeconfig, ['patch', 'lease', 'svctl-deploy-hello-test', '-n', ns.name, '--type', 'merge', '-p', JSON.stringify({spec: {renewTime: microNow(-120_000)}})]);
    type Revisions = {result: {services: {revisions: {revision: number; outcome: string; image: string; applied: string[]; message?: string; abandoned?: {holder: string; takenOverBy?: string}}[]}[]}};
    const before = (await svctl(['history', '--env', 'test', '--json'], {env: home.cliEnv, cwd: repo.dir})).json<Revisions>().result.services[0]!.revisions[0]!;
    expect(before).toMatchObject({outcome: 'abandoned', image: 'registry.example.com/platform/hello:v8'});
    expect(before.message).toContain(holder);
    expect(before.applied).toContain('Deployment/hello');
    const status = (await svctl(['status', '--env', 'test', '--json'], {env: home.cliEnv, cwd: repo.dir})).json<{result: {services: {lastDeploy: {outcome: string}; deployInProgress: unknown}[]}}>().result.services[0]!;
    expect(status).toMatchObject({lastDeploy: {outcome: 'abandoned'}, deployInProgress: null});
    const human = await svctl(['history', '--env', 'test'], {env: home.cliEnv, cwd: repo.dir});
    expect(human.stdout).not.toMatch(/in-progress/);

    // The next deploy takes the lease over and records the dead revision for good.
    await repo.write(testSpec('hello', ns.name), 'back to normal');
    const next = await deploy(['--image-tag', 'v2']);
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.stderr).toContain(`took over the expired deploy lease of ${holder}`);
    expect(next.stderr).toMatch(new RegExp(`revision ${before.revision} \\(registry\\.example\\.com/platform/hello:v8\\) never finished: recorded as abandoned \\(it had applied .*Deployment/hello`));
    const stored = JSON.parse(await get(ns.name, 'configmap/svctl-history-hello-test', `{.data.revision-${String(before.revision).padStart(6, '0')}}`)) as {outcome: string; applied: string[]; abandoned: {holder: string; takenOverBy: string}; finishedAt: string};
    expect(stored).toMatchObject({outcome: 'abandoned', abandoned: {holder, takenOverBy: expect.stringMatching(/^tester@/)}, finishedAt: expect.any(String)});
    expect(stored.applied).toContain('Deployment/hello');
  });

  it('keeps a history, and rolls back to a chosen revision', async () => {
    const history = await svctl(['history', '--env', 'test', '--json'], {env: home.cliEnv, cwd: repo.dir});
    expect(history.exitCode, history.stderr).toBe(0);
    const revisions = history.json<{result: {services: {revisions: {revision: number; kind: string; outcome: string; image: string; who: string; rolledBackBy?: number}[]}[]}}>().result.services[0]!.revisions;
    expect(revisions[0]!.revision).toBeGreaterThan(revisions.at(-1)!.revision);
    expect(revisions.at(-1)).toMatchObject({revision: 1, kind: 'deploy', outcome: 'succeeded'});
    expect(revisions.find((r) => r.image.endsWith(':v3-crashloop'))).toMatchObject({outcome: 'failed', rolledBackBy: expect.any(Number)});
    expect(revisions.some((r) => r.kind === 'rollback' && r.outcome === 'succeeded')).toBe(true);
    expect(revisions[0]!.who).toMatch(/^tester@/);

    const first = revisions.at(-1)!;
    const r = await svctl(['rollback', '--env', 'test', '--to', String(first.revision), '--json'], {env: home.cliEnv, cwd: repo.dir});
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await get(ns.name, 'deployment/hello', '{.spec.template.spec.containers[0].image}')).toBe(first.image);
    const status = await svctl(['status', '--env', 'test', '--json'], {env: home.cliEnv, cwd: repo.dir});
    expect(status.json<{result: {services: {state: string; image: string; replicas: {available: number}}[]}}>().result.services[0]).toMatchObject({state: 'available', image: first.image, replicas: {available: 2}});

    const bad = await svctl(['rollback', '--env', 'test', '--to', '999'], {env: home.cliEnv, cwd: repo.dir});
    expect(bad.exitCode).toBe(3);
    expect(bad.stderr).toMatch(/--to 999: .* has no revision 999/);
  });

  it('deploys several services in one call, in parallel, with a summary', async () => {
    const a = await serviceRepo(testSpec('alpha', ns.name));
    const b = await serviceRepo(testSpec('beta', ns.name));
    try {
      const r = await svctl(['deploy', '--env', 'test', '--image-tag', 'v1', `${a.dir}/service.yaml`, b.dir, '--json'], {env: home.cliEnv, cwd: repo.dir});
      expect(r.exitCode, r.stderr).toBe(0);
      const result = r.json<DeployJson>().result!;
      expect(result.services.map((s) => s.outcome)).toEqual(['succeeded', 'succeeded']);
      const mixed = await svctl(['deploy', '--env', 'test', '--image-tag', 'v2-crashloop', a.dir], {env: home.cliEnv, cwd: repo.dir});
      expect(mixed.exitCode).toBe(7);
      const human = await svctl(['deploy', '--env', 'test', '--image-tag', 'v3', a.dir, b.dir], {env: home.cliEnv, cwd: repo.dir});
      expect(human.exitCode, human.stderr).toBe(0);
      expect(human.stdout).toMatch(/^✓ 2 services deployed to test in \d+\.\ds\nSERVICE +REVISION +OUTCOME +IMAGE +DURATION\nalpha +\d+ +succeeded +registry\.example\.com\/platform\/alpha:v3 /);
      expect(human.stdout).toMatch(/\nbeta +\d+ +succeeded +registry\.example\.com\/platform\/beta:v3 /);
    } finally {
      a.remove();
      b.remove();
    }
  });

  it('says a service was never deployed: status shows it, rollback and history have nothing (exit 3 / empty)', async () => {
    const never = await serviceRepo(testSpec('never', ns.name));
    try {
      const status = await svctl(['status', '--env', 'test', '--json'], {env: home.cliEnv, cwd: never.dir});
      expect(status.exitCode, status.stderr).toBe(0);
      expect(status.json<{result: {services: {state: string; deployed: boolean}[]}}>().result.services[0]).toMatchObject({state: 'not deployed', deployed: false});
      const history = await svctl(['history', '--env', 'test'], {env: home.cliEnv, cwd: never.dir});
      expect(history.stdout).toBe('no deploys of never in test yet\n');
      const rollback = await svctl(['rollback', '--env', 'test', '--json'], {env: home.cliEnv, cwd: never.dir});
      expect(rollback.exitCode).toBe(3);
      expect(rollback.json().error).toMatchObject({code: 'svctl.no_history'});
    } finally {
      never.remove();
    }
  });

  it('diffs against the live objects with a server-side dry run', async () => {
    const same = await svctl(['diff', '--env', 'test', '--image-tag', 'v2', '--json'], {env: home.cliEnv, cwd: repo.dir});
    expect(same.exitCode, same.stderr).toBe(0);
    // The NetworkPolicy's rules read back with the API's field names (the client's model calls
    // "from" "_from"). Live is revision 1 (rolled back to above), which still had the route.
    const policy = same.json<{result: {services: {changes: {ref: string; action: string; diff: string}[]}[]}}>().result.services[0]!.changes.find((c) => c.ref === 'NetworkPolicy/hello')!;
    expect(policy.diff).not.toContain('_from');
    expect(policy.diff).toMatch(/^- {4}- from:\n- {8}- namespaceSelector:\n- {12}matchLabels:\n- {14}kubernetes\.io\/metadata\.name: ingress-nginx$/m);
    const changed = await svctl(['diff', '--env', 'test', '--image-tag', 'v9'], {env: home.cliEnv, cwd: repo.dir});
    expect(changed.exitCode, changed.stderr).toBe(0);
    expect(changed.stdout).toMatch(/-\s+image: registry\.example\.com\/platform\/hello:\S+\n\+\s+image: registry\.example\.com\/platform\/hello:v9/);
    // Nothing changed in the cluster.
    expect(await get(ns.name, 'deployment/hello', '{.spec.template.spec.containers[0].image}')).not.toMatch(/:v9$/);
  });
});
