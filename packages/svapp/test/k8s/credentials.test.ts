// svapp's own cluster credentials: a kubeconfig rewritten on disk (a rotated token) is used from
// the next operation on, without a restart, once the old token no longer works.
import {copyFileSync, readFileSync, renameSync} from 'node:fs';
import {join} from 'node:path';
import {type ClusterSvapp, kubectl, runCli, serviceAccountKubeconfig, startSvappOnCluster, svctlServerHome, tempDir, testNamespace, type TestNamespace, waitFor} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {serviceRepo, type ServiceRepo, testSpec} from '../../../svctl/test/helpers.js';

const kubeconfig = inject('kubeconfig');
let svapp: ClusterSvapp;
let ns: TestNamespace;
let repo: ServiceRepo;
let home: Awaited<ReturnType<typeof svctlServerHome>>;
const scratch = tempDir('svapp-rotate-');

beforeAll(async () => {
  ns = await testNamespace(kubeconfig, 'svapp-creds');
  svapp = await startSvappOnCluster(kubeconfig);
  home = await svctlServerHome(svapp, svapp.replicas[0]!.url);
  svapp.site.writeCatalog('rotating', testSpec('rotating', ns.name));
  repo = await serviceRepo(testSpec('rotating', ns.name));
}, 180_000);

afterAll(async () => {
  repo?.remove();
  home?.remove();
  await svapp?.stop();
  await ns?.remove();
  scratch.remove();
});

const svctl = (args: string[]) => runCli('svctl', args, {env: home.cliEnv, cwd: repo.dir});

describe("svapp's cluster credentials", () => {
  it('a rotated token in the kubeconfig file is used from the next deploy on, without a restart', async () => {
    const first = await svctl(['deploy', '--env', 'test', '--image-tag', 'v1']);
    expect(first.exitCode, first.stderr).toBe(0);
    // The platform team rotates: a new ServiceAccount token written over svapp's kubeconfig (as a
    // mounted Secret is updated), then the old account, and with it every token of it, removed.
    const old = (JSON.parse(readFileSync(svapp.kubeconfig, 'utf8')) as {users: {name: string}[]}).users[0]!.name.split(':');
    const fresh = await serviceAccountKubeconfig(kubeconfig, {name: `${old[1]}-next`, file: join(scratch.path, 'next'), context: 'svapp', clusterRole: 'svapp-deployer'});
    copyFileSync(svapp.kubeconfig, join(scratch.path, 'old'));
    copyFileSync(fresh, join(scratch.path, 'staged'));
    renameSync(join(scratch.path, 'staged'), svapp.kubeconfig);
    await kubectl(kubeconfig, ['delete', 'serviceaccount', old[1]!, '-n', old[0]!]);
    await waitFor('the old token to be refused', async () => (await kubectl(join(scratch.path, 'old'), ['get', 'namespace', ns.name], {allowFailure: true})).code !== 0, {timeoutMs: 30_000});
    const second = await svctl(['deploy', '--env', 'test', '--image-tag', 'v2']);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(await kubectl(kubeconfig, ['get', 'deployment/rotating', '-n', ns.name, '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).toMatchObject({stdout: 'registry.example.com/platform/rotating:v2'});
    const status = await svctl(['status', '--env', 'test', '--json']);
    expect(status.exitCode, status.stderr).toBe(0);
  });
});
