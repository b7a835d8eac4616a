import {execFileSync} from 'node:child_process';
import {appendFileSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {parseAllDocuments} from 'yaml';
import {freePort, repoRoot, tempDir} from '@bcl/testkit';
import {serviceRepo, svctl, svctlHome, testSpec} from './helpers.js';

// svctl validate, render and the checks deploy makes before it touches a cluster, through the
// real launcher. (Deploys against a cluster are in test/k8s/.)
const home = svctlHome();
afterAll(() => home.remove());

describe('svctl validate and render', () => {
  it('validates the sample service and every environment', async () => {
    const r = await svctl(['validate', 'packages/svctl/examples/hello', '--json'], {env: home.cliEnv, cwd: repoRoot});
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json<{result: {specs: {name: string; environments: {name: string}[]}[]}}>().result.specs[0]).toMatchObject({name: 'hello', environments: [{name: 'local'}, {name: 'staging'}, {name: 'prod'}]});
  });

  it('exits 3 naming the file, line and key path of a malformed service.yaml', async () => {
    const repo = await serviceRepo(testSpec('hello', 'apps', 'probes: {readyness: /ready}', '    replicas: many'));
    try {
      for (const command of ['validate', 'render', 'deploy']) {
        const r = await svctl([command, '--env', 'test', '--json'], {env: home.cliEnv, cwd: repo.dir});
        expect(r.exitCode, `${command}: ${r.stderr}`).toBe(3);
        const error = r.json().error!;
        expect(error.code).toBe('svctl.spec_invalid');
        expect(error.message).toMatch(/service\.yaml:12:10: probes\.readyness: unknown key \(did you mean "readiness"\?\)/);
        expect(error.message).toMatch(/service\.yaml:\d+:\d+: environments\.test\.replicas: a number of replicas, or \{min, max\} for autoscaling, got string "many"/);
        expect(error.details).toMatchObject({file: expect.stringMatching(/service\.yaml$/), problems: [{path: 'probes.readyness', line: 12, column: 10}, {path: 'environments.test.replicas'}]});
      }
      const human = await svctl(['validate'], {env: home.cliEnv, cwd: repo.dir});
      expect(human.stderr).toMatch(/^Error: 2 problems in \S+service\.yaml:\n {2}\S+service\.yaml:12:10: probes\.readyness/m);
      expect(human.stderr).not.toMatch(/at .*\.js:\d+/);
    } finally {
      repo.remove();
    }
  });

  it('renders the manifests as YAML for an environment, tagged with the commit by default', async () => {
    const repo = await serviceRepo(testSpec('hello', 'apps', 'routes: [{host: hello.example.com}]'));
    try {
      const commit = execFileSync('git', ['rev-parse', 'HEAD'], {cwd: repo.dir}).toString().trim();
      const r = await svctl(['render', '--env', 'test'], {env: home.cliEnv, cwd: repo.dir});
      expect(r.exitCode, r.stderr).toBe(0);
      const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as {kind: string; metadata: {namespace: string}; spec?: {template?: {spec: {containers: {image: string}[]}}}});
      expect(docs.map((d) => d.kind)).toEqual(['ServiceAccount', 'ConfigMap', 'Service', 'NetworkPolicy', 'PodDisruptionBudget', 'Deployment', 'Ingress']);
      expect(docs.every((d) => d.metadata.namespace === 'apps')).toBe(true);
      expect(docs[5]!.spec!.template!.spec.containers[0]!.image).toBe(`registry.example.com/platform/hello:${commit}`);
      const json = await svctl(['render', '--env', 'test', '--image-tag', '1.2.3', '--json'], {env: home.cliEnv, cwd: repo.dir});
      expect(json.json<{result: {services: {image: string}[]}}>().result.services[0]!.image).toBe('registry.example.com/platform/hello:1.2.3');
    } finally {
      repo.remove();
    }
  });

  it('validates a changed spec again: a spec and configuration validated before are kept by their exact text only', async () => {
    const repo = await serviceRepo(testSpec('hello', 'apps'));
    try {
      const first = await svctl(['validate', '--json'], {env: home.cliEnv, cwd: repo.dir});
      expect(first.exitCode, first.stderr).toBe(0);
      // What this build made of the spec and the configuration is kept under $XDG_CACHE_HOME/bcl/validated.
      expect(readdirSync(join(home.xdg.cache, 'bcl', 'validated')).some((f) => /^svctl-.*\.json$/.test(f))).toBe(true);
      expect((await svctl(['validate', '--json'], {env: home.cliEnv, cwd: repo.dir})).stdout).toBe(first.stdout);
      const spec = join(repo.dir, 'service.yaml');
      const text = readFileSync(spec, 'utf8');
      writeFileSync(spec, text.replace('team: ', 'team: Not_A_Label\nowner: '));
      const changed = await svctl(['validate', '--json'], {env: home.cliEnv, cwd: repo.dir});
      expect(changed.exitCode).toBe(3);
      expect(changed.json().error!.message).toMatch(/service\.yaml:\d+:\d+: owner: unknown key/);
      writeFileSync(spec, text);
      const config = join(home.xdg.config, 'bcl', 'config.yaml');
      const configText = readFileSync(config, 'utf8');
      writeFileSync(config, `${configText}    prod: {context: 42}\n`);
      const badConfig = await svctl(['validate', '--json'], {env: home.cliEnv, cwd: repo.dir});
      expect(badConfig.exitCode).toBe(3);
      expect(badConfig.json().error!.message).toContain('svctl.clusters.prod.context');
      writeFileSync(config, configText);
      expect((await svctl(['validate', '--json'], {env: home.cliEnv, cwd: repo.dir})).stdout).toBe(first.stdout);
    } finally {
      repo.remove();
    }
  });

  it('asks for --env (exit 2) and refuses an unknown environment or a bad tag (exit 3)', async () => {
    const repo = await serviceRepo(testSpec('hello', 'apps'));
    try {
      const noEnv = await svctl(['render'], {env: home.cliEnv, cwd: repo.dir});
      expect(noEnv.exitCode).toBe(2);
      expect(noEnv.stderr).toMatch(/--env/);
      const unknown = await svctl(['render', '--env', 'qa'], {env: home.cliEnv, cwd: repo.dir});
      expect(unknown.exitCode).toBe(3);
      expect(unknown.stderr).toMatch(/environment "qa" is neither declared in the spec of hello nor configured in svctl\.clusters/);
      const tag = await svctl(['deploy', '--env', 'test', '--image-tag', '-bad'], {env: home.cliEnv, cwd: repo.dir});
      expect(tag.exitCode).toBe(3);
      expect(tag.stderr).toMatch(/--image-tag: "-bad" is not a valid image tag/);
    } finally {
      repo.remove();
    }
  });
});

describe('svctl deploy preconditions', () => {
  it('refuses a dirty checkout (exit 6) unless --allow-dirty, when the tag defaults to the commit', async () => {
    const repo = await serviceRepo(testSpec('hello', 'apps'));
    const noCluster = svctlHome();
    try {
      appendFileSync(join(repo.dir, 'service.yaml'), '# edited\n');
      const dirty = await svctl(['deploy', '--env', 'test', '--json'], {env: noCluster.cliEnv, cwd: repo.dir});
      expect(dirty.exitCode).toBe(6);
      expect(dirty.json().error).toMatchObject({code: 'svctl.dirty_tree', hint: expect.stringMatching(/--allow-dirty/)});
      expect(dirty.json().error!.message).toMatch(/uncommitted changes \(service\.yaml\)/);
      // With --allow-dirty it goes on, to the cluster (none configured here: exit 3 naming the key).
      writeFileSync(join(noCluster.xdg.config, 'bcl', 'config.yaml'), 'svctl: {}\n');
      const allowed = await svctl(['deploy', '--env', 'test', '--allow-dirty', '--json'], {env: noCluster.cliEnv, cwd: repo.dir});
      expect(allowed.exitCode).toBe(3);
      expect(allowed.json().error!.message).toMatch(/svctl\.clusters\.test\.context is not set/);
    } finally {
      repo.remove();
      noCluster.remove();
    }
  });

  it('refuses a mutable image tag for a production environment (exit 3, nothing contacted) and warns elsewhere', async () => {
    const repo = await serviceRepo(testSpec('hello', 'apps', 'imagePolicy: {mutableTags: [latest, "main-*"]}', '    production: true\n  qa: {}'));
    const noCluster = svctlHome();
    try {
      writeFileSync(join(noCluster.xdg.config, 'bcl', 'config.yaml'), 'svctl: {}\n');
      for (const tag of ['latest', 'main-42']) {
        const refused = await svctl(['deploy', '--env', 'test', '--image-tag', tag, '--json'], {env: noCluster.cliEnv, cwd: repo.dir});
        expect(refused.exitCode, refused.stderr).toBe(3);
        expect(refused.json().error).toMatchObject({code: 'svctl.image_tag_mutable', hint: expect.stringMatching(/never reused/)});
        expect(refused.json().error!.message).toMatch(new RegExp(`--image-tag ${tag} is mutable .*environment test is production`));
      }
      // Elsewhere a warning, and the deploy goes on (here to the missing cluster configuration: exit 3 naming it).
      const warned = await svctl(['deploy', '--env', 'qa', '--image-tag', 'latest', '--json'], {env: noCluster.cliEnv, cwd: repo.dir});
      expect(warned.json().error!.message).toMatch(/svctl\.clusters\.qa\.context is not set/);
      expect(JSON.stringify(warned.json<{warnings: unknown[]}>().warnings)).toMatch(/hello: --image-tag latest is mutable \(imagePolicy\.mutableTags \\"latest\\"/);
      const human = await svctl(['deploy', '--env', 'qa', '--image-tag', 'latest'], {env: noCluster.cliEnv, cwd: repo.dir});
      expect(human.stderr).toMatch(/hello: --image-tag latest is mutable \(imagePolicy\.mutableTags "latest"/);
      // An immutable tag in production is deployed as usual.
      const fine = await svctl(['deploy', '--env', 'test', '--image-tag', '1.4.2', '--json'], {env: noCluster.cliEnv, cwd: repo.dir});
      expect(fine.json().error!.message).toMatch(/svctl\.clusters\.test\.context is not set/);
    } finally {
      repo.remove();
      noCluster.remove();
    }
  });

  it('names the kubeconfig context that does not exist (exit 3) and an unreachable API server (exit 5)', async () => {
    const repo = await serviceRepo(testSpec('hello', 'apps'));
    const dir = tempDir('svctl-kubeconfig-');
    try {
      const port = await freePort();
      const kubeconfig = join(dir.path, 'config');
      writeFileSync(
        kubeconfig,
        `apiVersion: v1
kind: Config
clusters: [{name: gone, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: not-a-real-token}}]
contexts: [{name: bcl-local, context: {cluster: gone, user: u}}, {name: other, context: {cluster: gone, user: u}}]
current-context: other
`,
        {mode: 0o600},
      );
      const env = {...home.cliEnv, KUBECONFIG: kubeconfig};
      const unreachable = await svctl(['deploy', '--env', 'test', '--image-tag', 'v1', '--json'], {env, cwd: repo.dir});
      expect(unreachable.exitCode, unreachable.stdout).toBe(5);
      expect(unreachable.json().error!.message).toMatch(new RegExp(`cannot reach the API server at https://127\\.0\\.0\\.1:${port}`));
      expect(unreachable.stdout).not.toMatch(/not-a-real-token/);

      writeFileSync(join(home.xdg.config, 'bcl', 'config.yaml'), 'svctl:\n  clusters:\n    test: {context: prod-eu}\n');
      const unknown = await svctl(['status', '--env', 'test', '--json'], {env, cwd: repo.dir});
      expect(unknown.exitCode).toBe(3);
      expect(unknown.json().error).toMatchObject({code: 'svctl.context_unknown', hint: 'Contexts in the kubeconfig: bcl-local, other.'});
      expect(unknown.json().error!.message).toMatch(/context "prod-eu" \(from svctl\.clusters\.test\.context\) does not exist/);
    } finally {
      writeFileSync(join(home.xdg.config, 'bcl', 'config.yaml'), 'svctl:\n  clusters:\n    test: {context: bcl-local}\n');
      repo.remove();
      dir.remove();
    }
  });

  it('never loads the Kubernetes client for --help, validate or render', () => {
    const script = `
      import {registerHooks} from 'node:module';
      const seen = [];
      registerHooks({resolve(specifier, context, next) { seen.push(specifier); return next(specifier, context); }});
      for (const c of ['validate', 'render', 'deploy', 'diff', 'status', 'history', 'rollback']) await import('./packages/svctl/dist/commands/' + c + '.js');
      process.stdout.write(JSON.stringify(seen.filter((s) => /kubernetes|simple-git|undici|^diff$/.test(s))));
    `;
    const loaded = execFileSync(process.execPath, ['--input-type=module', '-e', script], {cwd: repoRoot}).toString();
    expect(JSON.parse(loaded)).toEqual([]);
  });
});
