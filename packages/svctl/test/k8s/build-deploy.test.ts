import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {type GrafanaDouble, type JenkinsDouble, kubectl, startGrafanaDouble, startJenkinsDouble, testNamespace, type TestNamespace} from '@bcl/testkit';
import {type ServiceRepo, serviceRepo, svctl, svctlHome, testSpec} from '../helpers.js';

// svctl build --deploy: a build on the Jenkins double, then svctl deploy's core against the real
// local control plane (kwok plays the pods; a "-crashloop" tag crash-loops).
const kubeconfig = inject('kubeconfig');

describe('svctl build --deploy', () => {
  let ns: TestNamespace;
  let repo: ServiceRepo;
  let jenkins: JenkinsDouble;
  let grafana: GrafanaDouble;
  const home = svctlHome(kubeconfig);
  const run = (args: string[]) => svctl(args, {env: {...home.cliEnv, JENKINS_TOKEN: jenkins.token, GRAFANA_TOKEN: grafana.token}, cwd: repo.dir});

  beforeAll(async () => {
    jenkins = await startJenkinsDouble();
    grafana = await startGrafanaDouble();
    ns = await testNamespace(kubeconfig, 'svctl-build');
    repo = await serviceRepo(testSpec('built', ns.name, 'git: {url: https://git.example.com/platform/built.git}'));
    const config = join(home.xdg.config, 'bcl', 'config.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace('svctl:\n', `svctl:\n  jenkins:\n    ci: {url: "${jenkins.url}", user: ${jenkins.user}, tokenEnv: JENKINS_TOKEN}\n  grafana: {url: "${grafana.url}", tokenEnv: GRAFANA_TOKEN}\n`));
    expect((await run(['pipeline', 'sync'])).exitCode).toBe(0);
  });
  afterAll(async () => {
    await jenkins?.stop();
    await grafana?.stop();
    await ns?.remove();
    repo?.remove();
    home.remove();
  });

  it('deploys the built tag after a SUCCESS, and reports both', async () => {
    const res = await run(['build', '--image-tag', '1.0.0', '--deploy', '--env', 'test', '--json']);
    expect(res.exitCode, res.stdout + res.stderr).toBe(0);
    const result = res.json<{result: {result: string; deploy: {outcome: string; image: string; revision: number}}}>().result;
    expect(result.result).toBe('SUCCESS');
    expect(result.deploy).toMatchObject({outcome: 'succeeded', image: 'registry.example.com/platform/built:1.0.0', revision: 1});
    const image = await kubectl(kubeconfig, ['get', 'deployment', 'built', '-n', ns.name, '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
    expect(image.stdout).toBe('registry.example.com/platform/built:1.0.0');
    expect(jenkins.job('built')!.builds.at(-1)!.parameters).toMatchObject({IMAGE_TAG: '1.0.0', ENV: 'test'});
    // The deploy is marked on the dashboards (their "Deploys" annotation query: these tags).
    expect(grafana.annotations).toEqual([expect.objectContaining({tags: ['svctl-deploy', 'service:built', 'env:test'], text: 'Deployed registry.example.com/platform/built:1.0.0 to test (revision 1)'})]);
  });

  it('does not deploy after a failed build', async () => {
    jenkins.planBuild('built', {result: 'FAILURE', log: 'tests failed\n'});
    const res = await run(['build', '--image-tag', '1.1.0', '--deploy', '--env', 'test']);
    expect(res.exitCode).toBe(7);
    const image = await kubectl(kubeconfig, ['get', 'deployment', 'built', '-n', ns.name, '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
    expect(image.stdout).toBe('registry.example.com/platform/built:1.0.0');
  });

  it('a build whose image crash-loops is rolled back by the deploy: exit 7', async () => {
    const res = await run(['build', '--image-tag', '1.2.0-crashloop', '--deploy', '--env', 'test']);
    expect(res.exitCode, res.stderr).toBe(7);
    expect(res.stderr).toContain('the build succeeded but the deploy to test');
    expect(grafana.annotations).toHaveLength(1);
    const image = await kubectl(kubeconfig, ['get', 'deployment', 'built', '-n', ns.name, '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
    expect(image.stdout).toBe('registry.example.com/platform/built:1.0.0');
  });

  it('svctl deploy marks its deploys on the dashboards too', async () => {
    const res = await run(['deploy', '--env', 'test', '--image-tag', '1.3.0', '--allow-dirty']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(grafana.annotations.at(-1)).toMatchObject({tags: ['svctl-deploy', 'service:built', 'env:test'], text: expect.stringContaining('Deployed registry.example.com/platform/built:1.3.0 to test')});
    expect(grafana.annotations).toHaveLength(2);
  });
});
