// svapp is a service like the others: svctl deploys it from its own service.yaml (a mutual-TLS
// server: HTTPS probes, its configuration, policy, catalog and credentials mounted as files),
// and its Dockerfile passes hadolint.
import {execFileSync} from 'node:child_process';
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {hadolintPath, isolatedHome, kubectl, repoRoot, runCli} from '@bcl/testkit';
import {afterAll, describe, expect, inject, it} from 'vitest';

const kubeconfig = inject('kubeconfig');
const home = isolatedHome();
afterAll(async () => {
  await kubectl(kubeconfig, ['delete', 'namespace', 'svapp', '--wait=false', '--ignore-not-found'], {allowFailure: true});
  home.remove();
});

describe("svapp's own service.yaml", () => {
  it('is deployed by svctl: HTTPS probes on /v1/healthz and /v1/livez, its files read-only, its secrets as references', async () => {
    mkdirSync(join(home.xdg.config, 'bcl'), {recursive: true});
    writeFileSync(join(home.xdg.config, 'bcl', 'config.yaml'), 'svctl:\n  clusters:\n    local: {context: bcl-local}\n');
    const r = await runCli('svctl', ['deploy', '--env', 'local', '--image-tag', '0.1.0', '--json', join(repoRoot, 'packages/svapp/service.yaml')], {env: {...home.env, KUBECONFIG: kubeconfig}});
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json().result).toMatchObject({outcome: 'succeeded', image: 'registry.example.com/platform/svapp:0.1.0'});
    const deployment = JSON.parse((await kubectl(kubeconfig, ['get', 'deployment/svapp', '-n', 'svapp', '-o', 'json'])).stdout) as {spec: {template: {spec: {containers: Record<string, any>[]; volumes: Record<string, any>[]}}}; status: {availableReplicas: number}};
    const container = deployment.spec.template.spec.containers[0]!;
    expect(container.readinessProbe.httpGet).toEqual({path: '/v1/healthz', port: 'http', scheme: 'HTTPS'});
    expect(container.livenessProbe.httpGet).toEqual({path: '/v1/livez', port: 'http', scheme: 'HTTPS'});
    expect(container.volumeMounts.filter((m: {readOnly?: boolean}) => m.readOnly).map((m: {mountPath: string}) => m.mountPath)).toEqual(['/etc/svapp/clusters', '/etc/svapp/config', '/etc/svapp/services', '/etc/svapp/tls']);
    expect(deployment.spec.template.spec.volumes.find((v) => v.secret?.secretName === 'svapp-tls')).toMatchObject({secret: {defaultMode: 0o400}});
    expect(container.env.map((e: {name: string}) => e.name)).toEqual(['SVAPP_DATABASE_URL', 'SVAPP_JENKINS_TOKEN', 'SVAPP_MIGRATE_URL']);
    expect(deployment.status.availableReplicas).toBe(2);
  });

  it('refuses routes: an Ingress would end its TLS and drop client certificates', async () => {
    const {readFileSync} = await import('node:fs');
    const dir = join(home.home, 'svapp-with-routes');
    mkdirSync(dir, {recursive: true});
    writeFileSync(join(dir, 'service.yaml'), `${readFileSync(join(repoRoot, 'packages/svapp/service.yaml'), 'utf8')}routes: [{host: svapp.example.com}]\n`);
    const r = await runCli('svctl', ['render', '--env', 'local', '--image-tag', '0.1.0'], {env: home.env, cwd: dir});
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/svapp serves https itself \(scheme: https\), so it cannot have routes in environment local/);
  });
});

describe("svapp's Dockerfile", () => {
  it('has no hadolint finding', () => {
    const out = execFileSync(hadolintPath(), ['--format', 'json', join(repoRoot, 'packages/svapp/Dockerfile')], {encoding: 'utf8'});
    expect(JSON.parse(out)).toEqual([]);
  });
});
