import {randomBytes} from 'node:crypto';
import {existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {isProcessAlive} from '@bcl/core';
import {repoRoot} from './cli.js';
import {run} from './run.js';
import {tempDir} from './temp.js';

/**
 * The local Kubernetes control plane (scripts/local-cluster: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler built from source, kwok nodes) for tests.
 *
 * One cluster per test run: `k8sGlobalSetup` is a vitest globalSetup (wired in
 * vitest.config.ts for the k8s project only); it starts the cluster in its own directory, hands
 * the kubeconfig path to tests (`inject('kubeconfig')`, and BCL_TEST_KUBECONFIG) and stops it
 * at the end. Each test works in a namespace of its own (`testNamespace`).
 */

export const LOCAL_CLUSTER = join(repoRoot, 'scripts', 'local-cluster');
/** The kubeconfig context scripts/local-cluster writes. */
export const LOCAL_CONTEXT = 'bcl-local';

export interface LocalCluster {
  dir: string;
  kubeconfig: string;
  context: string;
  stop(): Promise<void>;
}

/** Starts a cluster in a fresh directory (builds the binaries the first time) and waits until it is usable. */
export async function startLocalCluster(options: {nodes?: number} = {}): Promise<LocalCluster> {
  await reapOrphanClusters();
  const dir = tempDir('bcl-k8s-');
  // The owner's pid: a run killed before its teardown leaves a cluster the next run stops.
  writeFileSync(join(dir.path, 'owner.pid'), String(process.pid));
  const args = ['up', '--dir', dir.path, ...(options.nodes ? ['--nodes', String(options.nodes)] : [])];
  let out;
  try {
    out = await run(LOCAL_CLUSTER, args, {timeoutMs: 1_800_000});
  } catch (error) {
    await run(LOCAL_CLUSTER, ['down', '--dir', dir.path, '--purge'], {allowFailure: true});
    dir.remove();
    throw error;
  }
  const kubeconfig = out.stdout.trim().split('\n').at(-1)!;
  if (!existsSync(kubeconfig)) throw new Error(`scripts/local-cluster up printed no kubeconfig path:\n${out.stdout}\n${out.stderr}`);
  return {
    dir: dir.path,
    kubeconfig,
    context: LOCAL_CONTEXT,
    async stop() {
      await run(LOCAL_CLUSTER, ['down', '--dir', dir.path, '--purge'], {allowFailure: true, timeoutMs: 60_000});
      dir.remove();
    },
  };
}

/** Stops the clusters of earlier test runs that were killed before their teardown. */
async function reapOrphanClusters(): Promise<void> {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith('bcl-k8s-')) continue;
    const dir = join(tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8'));
    } catch {
      continue; // not ours to judge: no owner recorded
    }
    if (Number.isInteger(owner) && owner > 0 && isProcessAlive(owner)) continue;
    await run(LOCAL_CLUSTER, ['down', '--dir', dir, '--purge'], {allowFailure: true, timeoutMs: 60_000});
    rmSync(dir, {recursive: true, force: true});
  }
}

/** kubectl of the machine (or the one built with the cluster) against a kubeconfig. */
export function kubectl(kubeconfig: string, args: readonly string[], options: {input?: string; allowFailure?: boolean; timeoutMs?: number} = {}) {
  return run(kubectlPath(), ['--kubeconfig', kubeconfig, ...args], {
    ...(options.input !== undefined ? {input: options.input} : {}),
    ...(options.allowFailure ? {allowFailure: true} : {}),
    timeoutMs: options.timeoutMs ?? 60_000,
  });
}

export function kubectlPath(): string {
  for (const candidate of ['/usr/local/bin/kubectl', '/usr/bin/kubectl']) if (existsSync(candidate)) return candidate;
  return 'kubectl';
}

export interface TestNamespace {
  name: string;
  /** Deletes the namespace (and everything in it) without waiting for its finalization. */
  remove(): Promise<void>;
}

/** A namespace of its own for one test (a random suffix), labelled so leftovers are recognisable. */
export async function testNamespace(kubeconfig: string, prefix = 'test'): Promise<TestNamespace> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`.slice(0, 63);
  await kubectl(kubeconfig, ['create', 'namespace', name]);
  await kubectl(kubeconfig, ['label', 'namespace', name, 'bcl-testkit=true']);
  return {
    name,
    async remove() {
      await kubectl(kubeconfig, ['delete', 'namespace', name, '--wait=false', '--ignore-not-found'], {allowFailure: true});
    },
  };
}

/** The kubeconfig of the run's cluster, for code outside vitest's inject (set by the globalSetup). */
export function testKubeconfig(): string {
  const path = process.env.BCL_TEST_KUBECONFIG;
  if (!path) throw new Error('BCL_TEST_KUBECONFIG is not set: run this test in the vitest k8s project (its globalSetup starts the cluster)');
  return path;
}

// What the k8s project's globalSetup (k8s-setup.ts) provides to tests: `inject('kubeconfig')`.
declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
  }
}

export interface ServedPodLogs {
  /** Stops serving them (deletes the ClusterLogs object and the files). */
  remove(): Promise<void>;
}

/**
 * Makes the local cluster serve log lines for every pod of a namespace, as a kubelet would from
 * the container runtime's log files: kwok (the nodes' kubelet) reads them from files named by a
 * kwok ClusterLogs object. `previous` is what `logs --previous` gives (a crash-looped container's
 * last run). Through the API server's pods/log, exactly as `kubectl logs` and svctl read them.
 */
export async function servePodLogs(kubeconfig: string, namespace: string, lines: {current?: readonly string[]; previous?: readonly string[]}): Promise<ServedPodLogs> {
  const dir = tempDir('bcl-pod-logs-');
  // The CRI log format kubelets keep: "<RFC 3339 nano time> <stream> F <line>".
  const cri = (text: readonly string[] = []) => text.map((l, i) => `${new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString().replace('Z', '000000Z')} stdout F ${l}\n`).join('');
  writeFileSync(join(dir.path, 'current.log'), cri(lines.current));
  writeFileSync(join(dir.path, 'previous.log'), cri(lines.previous));
  const name = `bcl-testkit-${namespace}`.slice(0, 63);
  await kubectl(kubeconfig, ['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'ClusterLogs',
      metadata: {name},
      spec: {selector: {matchNamespaces: [namespace]}, logs: [{logsFile: join(dir.path, 'current.log'), previousLogsFile: join(dir.path, 'previous.log')}]},
    }),
  });
  return {
    async remove() {
      await kubectl(kubeconfig, ['delete', 'clusterlogs', name, '--ignore-not-found'], {allowFailure: true});
      dir.remove();
    },
  };
}

/**
 * Makes the local cluster's API server accept client certificates of another CA as well (a
 * PKI's, as a real cluster's --client-ca-file would list it): the CA is appended to the bundle
 * scripts/local-cluster gives kube-apiserver, which reloads it. `remove()` takes it out again.
 */
export function trustClientCa(kubeconfig: string, caPem: string): {remove(): void} {
  const bundle = join(dirname(kubeconfig), 'pki', 'client-ca.crt');
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: the cluster was not started by this version of scripts/local-cluster`);
  const original = readFileSync(bundle, 'utf8');
  const replace = (text: string) => {
    writeFileSync(`${bundle}.tmp`, text);
    renameSync(`${bundle}.tmp`, bundle);
  };
  replace(`${original.trimEnd()}\n${caPem.trim()}\n`);
  return {remove: () => replace(original)};
}
