import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {type IsolatedHome, isolatedHome, run, runCli, tempDir} from '@bcl/testkit';

/** A service checkout: a git repository holding a service.yaml, committed. */
export interface ServiceRepo {
  dir: string;
  /** Replaces service.yaml and commits it; returns the new commit. */
  write(spec: string, message?: string): Promise<string>;
  remove(): void;
}

const git = (dir: string, args: string[]) =>
  run('git', args, {cwd: dir, env: {...process.env, GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 't@example.com'}});

export async function serviceRepo(spec: string, subdir = ''): Promise<ServiceRepo> {
  const root = tempDir('svctl-service-');
  const dir = join(root.path, subdir);
  mkdirSync(dir, {recursive: true});
  await git(root.path, ['init', '-q', '-b', 'main']);
  const repo: ServiceRepo = {
    dir,
    async write(text, message = 'service spec') {
      writeFileSync(join(dir, 'service.yaml'), text);
      await git(root.path, ['add', '-A']);
      await git(root.path, ['commit', '-q', '--allow-empty', '-m', message]);
      return (await git(root.path, ['rev-parse', 'HEAD'])).stdout.trim();
    },
    remove: root.remove,
  };
  await repo.write(spec);
  return repo;
}

/** A spec for tests: small, in the given namespace for environment "test". */
export function testSpec(name: string, namespace: string, extra = '', envExtra = ''): string {
  return `name: ${name}
team: platform
image: registry.example.com/platform/${name}
runtime: node
port: 3000
replicas: 2
env: {GREETING: hello}
rollout: {progressDeadlineSeconds: 30}
# No ServiceMonitor: another test file installs and removes the Prometheus operator's CRDs
# (cluster-wide) while this one runs.
metrics: {enabled: false}
${extra}
environments:
  test:
    namespace: ${namespace}
${envExtra}`;
}

/** An isolated HOME whose BCL config maps environment "test" to the local cluster's context. */
export function svctlHome(kubeconfig?: string): IsolatedHome & {cliEnv: Record<string, string>} {
  const home = isolatedHome();
  mkdirSync(join(home.xdg.config, 'bcl'), {recursive: true});
  writeFileSync(join(home.xdg.config, 'bcl', 'config.yaml'), 'svctl:\n  clusters:\n    test: {context: bcl-local}\n');
  return {...home, cliEnv: {...home.env, ...(kubeconfig ? {KUBECONFIG: kubeconfig} : {}), USER: 'tester'}};
}

export function svctl(args: string[], options: {env: Record<string, string>; cwd: string; interruptAfterMs?: number; timeoutMs?: number}) {
  return runCli('svctl', args, options);
}
