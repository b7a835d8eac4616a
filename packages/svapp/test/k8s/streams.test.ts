// svctl through a real svapp process on the local control plane: streams that break and resume,
// a client killed or detached while the deploy goes on, deprecation notices, a client too old
// for svapp, and what the thin client loads (never the Kubernetes client).
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {type ClusterSvapp, kubectl, runCli, runCliOnTerminal, startSvappOnCluster, startTcpProxy, svctlServerHome, type TcpProxy, tempDir, testNamespace, type TestNamespace, waitFor} from '@bcl/testkit';
import {serviceRepo, type ServiceRepo, testSpec} from '../../../svctl/test/helpers.js';
import {call, type Credentials, credentialsOf, eventLog, operations, printedLines} from './cluster-support.js';

const kubeconfig = inject('kubeconfig');
let svapp: ClusterSvapp;
let ns: TestNamespace;
let repo: ServiceRepo;
let proxy: TcpProxy;
let home: Awaited<ReturnType<typeof svctlServerHome>>;
let direct: Credentials;

// 20 replicas rolled one by one (maxSurge 1): a rollout of a few seconds with many progress events.
const slow = (name: string, namespace: string) =>
  testSpec(name, namespace, '', '    replicas: 20').replace('rollout: {progressDeadlineSeconds: 30}', 'rollout: {progressDeadlineSeconds: 60, maxSurge: 1, maxUnavailable: 0}');

beforeAll(async () => {
  ns = await testNamespace(kubeconfig, 'svapp-streams');
  svapp = await startSvappOnCluster(kubeconfig);
  const replica = svapp.replicas[0]!;
  proxy = await startTcpProxy({target: {port: Number(new URL(replica.url).port)}});
  // svctl reaches svapp through a proxy the test can cut.
  home = await svctlServerHome(svapp, `https://127.0.0.1:${proxy.port}`, {extra: '  reconnectSeconds: 4\n'});
  direct = {...credentialsOf(home.configFile), url: replica.url};
  svapp.site.writeCatalog('hello', slow('hello', ns.name));
  repo = await serviceRepo(slow('hello', ns.name));
}, 180_000);

afterAll(async () => {
  await proxy?.stop();
  repo?.remove();
  home?.remove();
  await svapp?.stop();
  await ns?.remove();
});

const svctl = (args: string[], extra: Parameters<typeof runCli>[2] = {}) => runCli('svctl', args, {env: home.cliEnv, cwd: repo.dir, ...extra});
const latest = async () => (await operations(direct))[0]!;

describe('the event stream', () => {
  it('survives cut connections mid-rollout: svctl reconnects and prints exactly the server\'s event log', async () => {
    const before = proxy.accepted;
    // Each time svctl has printed another of the server's events, the stream is cut (three times
    // at most): cuts follow the rollout's progress, not a clock, so a quick rollout gets them too.
    let cuts = 0;
    let printed = 1; // the "==> Deploying" line comes before any event
    const onStderr = (stderr: string) => {
      const lines = stderr.split('\n').length - 1;
      if (lines > printed && cuts < 3 && proxy.open > 0) {
        printed = lines;
        cuts += proxy.cut() > 0 ? 1 : 0;
      }
    };
    const r = await svctl(['deploy', '--env', 'test', '--image-tag', 'v1'], {onStderr});
    expect(r.exitCode, r.stderr).toBe(0);
    expect(cuts).toBeGreaterThan(0);
    expect(proxy.accepted - before).toBeGreaterThan(2);
    const op = await latest();
    const log = await eventLog(direct, op.id);
    expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
    expect(log.filter((e) => e.type === 'task-progress').length).toBeGreaterThan(5);
    // Exactly the log: no line twice, none missing, in order, stamped when svapp recorded it.
    expect(r.stderr).toBe(`==> Deploying hello (registry.example.com/platform/hello:v1) to test\n${printedLines(log)}`);
    expect(r.stdout).toMatch(/^✓ hello revision 1 \(registry\.example\.com\/platform\/hello:v1\) deployed to test in \d+\.\ds\n$/);
  });

  it('never reports a stream cut before the terminal event as a success (exit 5), and the deploy goes on', async () => {
    const run = svctl(['deploy', '--env', 'test', '--image-tag', 'v2', '--json']);
    await waitFor('the deploy to start', async () => (await latest()).state === 'running' && (await latest()).services[0] === 'hello', {timeoutMs: 30_000});
    proxy.refuse();
    proxy.cut();
    const r = await run;
    proxy.accept();
    expect(r.exitCode, r.stderr).toBe(5);
    expect(r.json().ok).toBe(false);
    expect(r.json().error).toMatchObject({code: 'svctl.stream_lost', hint: expect.stringMatching(/^The deploy goes on in svapp; follow it again with: svctl ops attach [0-9a-f-]{36}$/)});
    const op = await latest();
    // Ended (whichever way: a failure is then named by the assertion, not hidden in a timeout).
    await waitFor('the deploy to end in svapp', async () => !['queued', 'running'].includes((await latest()).state), {timeoutMs: 90_000});
    expect((await latest()).state).toBe('succeeded');
    const attach = await svctl(['ops', 'attach', op.id]);
    expect(attach.exitCode, attach.stderr).toBe(0);
    expect(attach.stderr).toContain(printedLines(await eventLog(direct, op.id)));
  }, 180_000);
});

describe('a deploy outlives its client', () => {
  it('kill -9 of svctl mid-deploy: the rollout completes in svapp, and ops attach shows the whole history and the result', async () => {
    const killed = await svctl(['deploy', '--env', 'test', '--image-tag', 'v3'], {interruptOn: /hello \(test\): revision \d+: \d+\/20 updated/, interruptSignal: 'SIGKILL'});
    expect(killed.exitCode).toBe(128);
    const op = await latest();
    await waitFor('the deploy to end in svapp', async () => !['queued', 'running'].includes((await latest()).state), {timeoutMs: 90_000});
    expect((await latest()).state).toBe('succeeded');
    expect(await kubectl(kubeconfig, ['get', 'deployment/hello', '-n', ns.name, '-o', 'jsonpath={.spec.template.spec.containers[0].image} {.status.availableReplicas}'])).toMatchObject({stdout: 'registry.example.com/platform/hello:v3 20'});
    const attach = await svctl(['ops', 'attach', op.id, '--json']);
    expect(attach.exitCode, attach.stderr).toBe(0);
    expect(attach.json<{result: {outcome: string; services: {image: string}[]}}>().result).toMatchObject({outcome: 'succeeded', services: [{image: 'registry.example.com/platform/hello:v3'}]});
    const human = await svctl(['ops', 'attach', op.id]);
    expect(human.stderr).toBe(`==> deploy of hello in test by tester@example.com (operation ${op.id}, succeeded)\n${printedLines(await eventLog(direct, op.id))}`);
    expect(human.stdout).toMatch(/^✓ hello revision \d+ \(registry\.example\.com\/platform\/hello:v3\): succeeded\n$/);
  }, 180_000);

  it('Ctrl-C when not interactive detaches (exit 130): the deploy goes on, and attach follows it to its end', async () => {
    const r = await svctl(['deploy', '--env', 'test', '--image-tag', 'v4'], {interruptOn: /hello \(test\): revision \d+: \d+\/20 updated/});
    expect(r.exitCode, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/Error: detached from deploy [0-9a-f-]{36}: it goes on in svapp\nHint: Follow it again with: svctl ops attach [0-9a-f-]{36} \(svctl ops cancel [0-9a-f-]{36} stops it\)\./);
    const op = await latest();
    const attach = await svctl(['ops', 'attach', op.id]);
    expect(attach.exitCode, attach.stderr).toBe(0);
    expect(await kubectl(kubeconfig, ['get', 'deployment/hello', '-n', ns.name, '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).toMatchObject({stdout: 'registry.example.com/platform/hello:v4'});
  });

  it('Ctrl-C at a terminal asks whether to cancel or detach; cancelling stops the deploy in svapp (exit 130)', async () => {
    const r = await runCliOnTerminal('svctl', ['deploy', '--env', 'test', '--image-tag', 'v4b'], {
      env: home.cliEnv,
      answers: [
        // The live board (a terminal of 0 columns: lines cut at 20 characters) shows the revision.
        {when: /hello \(test\): rev/, send: () => '\x03', key: true},
        {when: /Cancel the deploy [0-9a-f-]{36} in svapp\?/, send: () => 'y'},
      ],
      cwd: repo.dir,
    });
    expect(r.exitCode, r.output).toBe(130);
    expect(r.output).toMatch(/Asking svapp to cancel deploy [0-9a-f-]{36}/);
    expect(r.output).toMatch(/Cancelling: tester@example\.com asked to cancel it/);
    expect((await latest()).state).toBe('cancelled');
  });

  it('ops list shows the operations; ops cancel stops one; exit codes are those of the command it was', async () => {
    const list = await svctl(['ops', 'list', '--service', 'hello']);
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^ID +KIND +STATE +SERVICES +ENV +BY +CREATED\n[0-9a-f-]{36} +deploy +(succeeded|cancelled) +hello +test +tester@example\.com +\d{4}-/);
    const run = svctl(['deploy', '--env', 'test', '--image-tag', 'v5'], {interruptOn: /__never__/});
    await waitFor('the deploy to run', async () => (await latest()).state === 'running' && (await call(direct, 'GET', `/v1/operations/${(await latest()).id}`)).body.startedAt !== null, {timeoutMs: 30_000});
    const op = await latest();
    const cancel = await svctl(['ops', 'cancel', op.id, '--json']);
    expect(cancel.exitCode, cancel.stderr).toBe(0);
    expect(cancel.json<{result: {state: string}}>().result.state).toBe('cancelled');
    const deploy = await run;
    expect(deploy.exitCode, deploy.stderr).toBe(130);
    expect(deploy.stderr).toMatch(/Cancelling: tester@example\.com asked to cancel it/);
  });
});

describe('versions', () => {
  it('prints a deprecation notice once per command on stderr, never in --json stdout; --warnings-as-errors fails before anything is done', async () => {
    const replica = await svapp.site.startReplica('deprecating', {extraConfig: 'clients:\n  deprecations:\n    - {clientBelow: 9.0.0, sunset: 2031-01-01, message: "svctl before 9.0 is deprecated"}'});
    const home2 = await svctlServerHome(svapp, replica.url);
    try {
      const run = (args: string[]) => runCli('svctl', args, {env: home2.cliEnv, cwd: repo.dir});
      const status = await run(['status', '--env', 'test', '--json']);
      expect(status.exitCode, status.stderr).toBe(0);
      expect(status.stderr.match(/Warning: svapp: svctl before 9\.0 is deprecated \(upgrade: svctl update\)/g)).toHaveLength(1);
      expect(status.stdout).not.toMatch(/deprecated/);
      expect(status.json().warnings).toEqual([]);
      const deploy = await run(['deploy', '--env', 'test', '--image-tag', 'v6']);
      expect(deploy.exitCode, deploy.stderr).toBe(0);
      expect(deploy.stderr.match(/svctl before 9\.0 is deprecated/g)).toHaveLength(1);
      const before = (await operations(direct)).length;
      const strict = await run(['deploy', '--env', 'test', '--image-tag', 'v7', '--warnings-as-errors']);
      expect(strict.exitCode).toBe(6);
      expect(strict.stderr).toMatch(/Error: svapp warns: svctl before 9\.0 is deprecated \(upgrade: svctl update\)\nHint: Nothing was done \(--warnings-as-errors\)/);
      expect((await operations(direct)).length).toBe(before);
    } finally {
      home2.remove();
      await replica.stop();
    }
  });

  it('a client too old for svapp: every command exits 6 with the upgrade command, and the audit shows nothing changed', async () => {
    const replica = await svapp.site.startReplica('strict', {extraConfig: 'clients: {minVersion: 9.0.0}'});
    const home2 = await svctlServerHome(svapp, replica.url);
    try {
      const opsBefore = (await operations(direct)).length;
      const revisionBefore = (await kubectl(kubeconfig, ['get', 'configmap/svctl-history-hello-test', '-n', ns.name, '-o', 'jsonpath={.data}'])).stdout;
      const id = (await latest()).id;
      const auditBefore = (await svapp.site.audit()).length;
      for (const args of [
        ['deploy', '--env', 'test', '--image-tag', 'v9'],
        ['rollback', '--env', 'test'],
        ['status', '--env', 'test'],
        ['history', '--env', 'test'],
        ['diff', '--env', 'test', '--image-tag', 'v9'],
        ['build', '--ref', 'main'],
        ['builds'],
        ['ops', 'list'],
        ['ops', 'attach', id],
        ['ops', 'cancel', id],
        ['ops', 'approve', id],
        ['ops', 'reject', id],
        ['can-i', 'deploy', 'hello', '--env', 'test'],
      ]) {
        const r = await runCli('svctl', [...args, '--json'], {env: home2.cliEnv, cwd: repo.dir});
        expect(r.exitCode, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(6);
        expect(r.json().error, args.join(' ')).toMatchObject({code: 'svctl.client_too_old', hint: 'upgrade with: svctl update'});
        expect(r.json().error!.message).toMatch(/svctl 0\.1\.0 is too old for this svapp: the oldest supported version is 9\.0\.0/);
      }
      const added = (await svapp.site.audit()).slice(auditBefore);
      expect(added.length).toBeGreaterThan(0);
      expect(added.every((e) => e.event === 'request.refused' && e.code === 'client_too_old')).toBe(true);
      expect((await operations(direct)).length).toBe(opsBefore);
      expect((await kubectl(kubeconfig, ['get', 'configmap/svctl-history-hello-test', '-n', ns.name, '-o', 'jsonpath={.data}'])).stdout).toBe(revisionBefore);
    } finally {
      home2.remove();
      await replica.stop();
    }
  });
});

describe('the thin client', () => {
  it('loads no Kubernetes client, says its mode under --verbose and in bcl doctor', async () => {
    const dir = tempDir('svctl-loads-');
    try {
      const hook = join(dir.path, 'hook.mjs');
      const seen = join(dir.path, 'seen.txt');
      writeFileSync(hook, `import {registerHooks} from 'node:module';\nimport {appendFileSync} from 'node:fs';\nregisterHooks({resolve(s, c, next) { appendFileSync(${JSON.stringify(seen)}, s + '\\n'); return next(s, c); }});\n`);
      // The module graph itself (the checkout's bundle would hide which modules a command resolves).
      const env = {...home.cliEnv, NODE_OPTIONS: `--import=${hook}`, BCL_NO_CHECKOUT_BUNDLES: '1'};
      for (const args of [['status', '--env', 'test'], ['history', '--env', 'test'], ['deploy', '--env', 'test', '--image-tag', 'v8'], ['diff', '--env', 'test', '--image-tag', 'v8']]) {
        const r = await runCli('svctl', args, {env, cwd: repo.dir});
        expect(r.exitCode, r.stderr).toBe(0);
      }
      const {readFileSync} = await import('node:fs');
      const loaded = readFileSync(seen, 'utf8').split('\n');
      expect(loaded).toContain('@bcl/http-api/sse-client');
      expect(loaded.filter((s) => /kubernetes/.test(s))).toEqual([]);
    } finally {
      dir.remove();
    }
    const verbose = await svctl(['status', '--env', 'test', '--verbose']);
    expect(verbose.stderr).toMatch(/\[debug\] server mode: through svapp at https:\/\/127\.0\.0\.1:\d+ \(svctl\.server\)/);
    const doctor = await runCli('bcl', ['doctor', '--json'], {env: home.cliEnv, cwd: repo.dir});
    const checks = doctor.json<{result?: {checks: {name: string; status: string; message: string}[]}; error?: {details: {checks: {name: string; status: string; message: string}[]}}}>();
    const all = checks.result?.checks ?? checks.error!.details.checks;
    expect(all.find((c) => c.name === 'svctl.mode')).toMatchObject({status: 'ok', message: expect.stringMatching(/^server mode: through svapp at https:\/\/127\.0\.0\.1:\d+/)});
    expect(all.find((c) => c.name === 'svctl.server')).toMatchObject({status: 'ok', message: expect.stringMatching(/^svapp 0\.1\.0 at https:\/\/127\.0\.0\.1:\d+, protocol 2/)});
    expect(all.find((c) => c.name === 'svctl.server.certificate')).toMatchObject({status: 'ok'});
  });
});

describe('the rollout watch', () => {
  it('is one per namespace, kept between operations: svapp starts it once however many deploys follow', async () => {
    for (const tag of ['w1', 'w2']) {
      const r = await svctl(['deploy', '--env', 'test', '--image-tag', tag, '-q']);
      expect(r.exitCode, r.stderr).toBe(0);
    }
    // A watch per run would be four more watches on the API server per deploy, kept for minutes.
    const started = svapp.replicas[0]!.log().split('\n').filter((l) => l.includes(`"watching the rollouts in namespace ${ns.name} `));
    expect(started).toHaveLength(1);
  }, 180_000);
});
