import {invalidInput, unavailable, denied, conflict, BclError, ExitCode} from '@bcl/core/errors';
import type * as k8s from '@kubernetes/client-node';

/** The API clients of one cluster (one kubeconfig context). Created only by deploy/diff/status code paths. */
export interface KubeClients {
  k8s: typeof k8s;
  kc: k8s.KubeConfig;
  context: string;
  server: string;
  objects: k8s.KubernetesObjectApi;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  coordination: k8s.CoordinationV1Api;
}

export interface ConnectOptions {
  /** The kubeconfig context; undefined: the kubeconfig's current context. */
  context: string | undefined;
  /** The environment variable KUBECONFIG, as the kubeconfig loader reads it. */
  kubeconfig?: string | undefined;
  /** What named the context, for messages ("svctl.clusters.prod.context"). */
  source?: string;
}

/** Starts loading the client library (a few hundred ms) so it overlaps with other work. */
export async function preloadClient(): Promise<void> {
  await import('@kubernetes/client-node').catch(() => undefined);
}

/**
 * Loads the kubeconfig (KUBECONFIG honoured, else ~/.kube/config) and makes the clients of a
 * context. An unknown context is exit 3 naming the configuration key that chose it.
 */
export async function connect(options: ConnectOptions): Promise<KubeClients> {
  const lib = await import('@kubernetes/client-node');
  const kc = new lib.KubeConfig();
  try {
    if (options.kubeconfig) {
      // KUBECONFIG may list several files, merged like kubectl does.
      const files = options.kubeconfig.split(':').filter(Boolean);
      kc.loadFromFile(files[0]!);
      for (const extra of files.slice(1)) {
        const more = new lib.KubeConfig();
        more.loadFromFile(extra);
        kc.mergeConfig(more, true); // the first file's current-context wins, as with kubectl
      }
    } else {
      kc.loadFromDefault();
    }
  } catch (error) {
    throw invalidInput('svctl.kubeconfig_invalid', `cannot read the kubeconfig${options.kubeconfig ? ` ${options.kubeconfig}` : ''}: ${(error as Error).message}`, {
      hint: 'Point KUBECONFIG at a valid kubeconfig file.',
    });
  }
  const context = options.context ?? kc.getCurrentContext();
  if (!context || !kc.getContextObject(context)) {
    const known = kc.getContexts().map((c) => c.name);
    throw invalidInput('svctl.context_unknown', `kubeconfig context "${context ?? ''}"${options.source ? ` (from ${options.source})` : ''} does not exist in ${options.kubeconfig ?? '~/.kube/config'}`, {
      hint: known.length > 0 ? `Contexts in the kubeconfig: ${known.join(', ')}.` : 'The kubeconfig has no contexts; set KUBECONFIG to the file of your cluster.',
      details: {context, known},
    });
  }
  kc.setCurrentContext(context);
  reuseConnections(kc);
  const server = kc.getCurrentCluster()?.server ?? '';
  return {
    k8s: lib,
    kc,
    context,
    server,
    objects: lib.KubernetesObjectApi.makeApiClient(kc),
    core: kc.makeApiClient(lib.CoreV1Api),
    apps: kc.makeApiClient(lib.AppsV1Api),
    coordination: kc.makeApiClient(lib.CoordinationV1Api),
  };
}

/** The agent options client-node makes its TLS connections with (what a kept agent must match). */
const TLS_OPTIONS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

type DispatcherFactory = (cluster: {server?: string; proxyUrl?: string} | null, options: Record<string, unknown>) => {close(): Promise<void>} | undefined;

/**
 * Makes a KubeConfig keep its connections to the API server. client-node 2 makes a new undici
 * Agent for every request (KubeConfig.createDispatcher, called by applySecurityAuthentication),
 * so every call paid a new TCP connection and TLS handshake: 12 ms instead of 4 for a read on
 * the local control plane. The agent is kept per set of TLS options: other options (a client
 * certificate an exec plugin rotated) get an agent of their own, and the oldest of more than a
 * few is closed once its requests are done. Authentication headers are still set per request.
 */
export function reuseConnections(kc: k8s.KubeConfig): void {
  const target = kc as unknown as {createDispatcher: DispatcherFactory};
  const make = target.createDispatcher.bind(kc);
  const kept = new Map<string, ReturnType<DispatcherFactory>>();
  target.createDispatcher = (cluster, options) => {
    const key = JSON.stringify([cluster?.server ?? null, cluster?.proxyUrl ?? null, ...TLS_OPTIONS.map((k) => (options[k] === undefined ? null : Buffer.isBuffer(options[k]) ? options[k].toString('base64') : String(options[k])))]);
    if (kept.has(key)) return kept.get(key);
    const dispatcher = make(cluster, options);
    kept.set(key, dispatcher);
    if (kept.size > 4) {
      const [oldest, old] = kept.entries().next().value!;
      kept.delete(oldest);
      void old?.close().catch(() => undefined);
    }
    return dispatcher;
  };
}

/** The HTTP status of a client error, when it has one. */
export function statusOf(error: unknown): number | undefined {
  const e = error as {code?: unknown; statusCode?: unknown};
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}

/** The API server's own message of a failed request (its Status body), else the error's. */
export function messageOf(error: unknown): string {
  const body = (error as {body?: unknown})?.body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as {message?: string};
      if (parsed.message) return parsed.message;
    } catch {
      if (body.trim()) return body.trim().split('\n')[0]!;
    }
  } else if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') {
    return body.message;
  }
  const message = (error as Error)?.message ?? String(error);
  // client-node puts the whole response in the message; keep its first line.
  return message.split('\n')[0]!;
}

/** Turns a client error into a BclError with the documented exit code; `what` says what was being done. */
export function kubeError(error: unknown, what: string, server?: string): BclError {
  if (error instanceof BclError) return error;
  const status = statusOf(error);
  const message = `${what}: ${messageOf(error)}`;
  if (status === 401) return denied('svctl.kube_unauthenticated', message, {hint: 'Your credentials for this cluster are missing or expired; log in again.', cause: error});
  if (status === 403) return denied('svctl.kube_forbidden', message, {hint: 'Ask for the RBAC permissions this needs in the namespace.', cause: error});
  if (status === 409) return conflict('svctl.kube_conflict', message, {cause: error});
  if (status === 422 || status === 400) return new BclError('svctl.kube_rejected', message, ExitCode.failed, {hint: 'The API server rejected the object; check the spec values named above.', cause: error});
  if (status !== undefined && status >= 500) return unavailable('svctl.kube_unavailable', message, {cause: error});
  if (status === undefined) {
    return unavailable('svctl.kube_unreachable', `${what}: cannot reach the API server${server ? ` at ${server}` : ''}: ${messageOf(error)}`, {
      hint: 'Check that the cluster runs and that KUBECONFIG and the context point at it.',
      cause: error,
    });
  }
  return new BclError('svctl.kube_error', message, ExitCode.failed, {cause: error});
}

/** Connects to the cluster of an environment: svctl.clusters.<cluster>.context must name a kubeconfig context. */
export async function connectEnvironment(target: {environment: string; cluster: string; context: string | undefined}, env: Record<string, string | undefined>): Promise<KubeClients> {
  if (!target.context) {
    throw invalidInput('svctl.cluster_not_configured', `environment ${target.environment} has no cluster: svctl.clusters.${target.cluster}.context is not set`, {
      hint: `Map it to a kubeconfig context: bcl config set svctl.clusters.${target.cluster}.context <context>`,
      details: {environment: target.environment, cluster: target.cluster},
    });
  }
  return connect({context: target.context, kubeconfig: env.KUBECONFIG || undefined, source: `svctl.clusters.${target.cluster}.context`});
}

/** The client methods that change a cluster (everything else deploys do is a read or a watch). */
const WRITES = {
  objects: ['create', 'replace', 'patch', 'delete'],
  core: ['createNamespace', 'replaceNamespace', 'patchNamespace', 'deleteNamespace'],
  apps: ['createNamespacedDeployment', 'replaceNamespacedDeployment', 'patchNamespacedDeployment', 'deleteNamespacedDeployment'],
  coordination: ['createNamespacedLease', 'replaceNamespacedLease', 'patchNamespacedLease', 'deleteNamespacedLease'],
} as const;

/**
 * The same clients with `fence` called before every write: a run that lost its lock elsewhere
 * (a server replica whose operation was taken over) writes nothing more, whatever it was doing.
 */
export function fencedClients(clients: KubeClients, fence: () => void): KubeClients {
  const guard = <T extends object>(api: T, writes: readonly string[]): T =>
    new Proxy(api, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        if (typeof prop === 'string' && writes.includes(prop)) {
          return (...args: unknown[]) => {
            fence();
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
  return {
    ...clients,
    objects: guard(clients.objects, WRITES.objects),
    core: guard(clients.core, WRITES.core),
    apps: guard(clients.apps, WRITES.apps),
    coordination: guard(clients.coordination, WRITES.coordination),
  };
}
