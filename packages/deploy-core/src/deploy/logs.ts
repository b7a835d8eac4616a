import type {KubeClients} from '../kube/index.js';
import {messageOf} from '../kube/index.js';
import type {PodFailure} from './rules/index.js';

export interface PodLogs {
  pod: string;
  container: string;
  /** The last lines, when the kubelet answered. */
  lines?: string[];
  /** Why there are no lines (the kubelet is unreachable, the container never started...). */
  unavailable?: string;
}

/**
 * The last log lines of the failing containers (their previous run for a crash loop). A log
 * fetch goes through the kubelet, which may be unreachable (fake nodes have none): each fetch
 * is capped at `timeoutMs` and a failure is reported as such, never thrown.
 */
export async function lastLogLines(clients: KubeClients, namespace: string, failures: readonly PodFailure[], options: {lines?: number; timeoutMs?: number; maxPods?: number} = {}): Promise<PodLogs[]> {
  const {lines = 20, timeoutMs = 3000, maxPods = 2} = options;
  const wanted = failures.filter((f) => f.container).slice(0, maxPods);
  return Promise.all(
    wanted.map(async (f) => {
      const container = f.container!;
      const previous = f.reason === 'CrashLoopBackOff';
      try {
        const text = await fetchLog(clients, namespace, f.pod, container, {tailLines: lines, previous}, timeoutMs);
        return {pod: f.pod, container, lines: text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1)};
      } catch (error) {
        const why = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError' ? `no answer from the node within ${timeoutMs / 1000}s` : messageOf(error);
        return {pod: f.pod, container, unavailable: `the node did not serve them: ${why}`};
      }
    }),
  );
}

async function fetchLog(clients: KubeClients, namespace: string, pod: string, container: string, params: {tailLines: number; previous: boolean}, timeoutMs: number): Promise<string> {
  const {RequestContext, HttpMethod} = clients.k8s;
  const url = new URL(`${clients.server}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`);
  url.searchParams.set('container', container);
  url.searchParams.set('tailLines', String(params.tailLines));
  if (params.previous) url.searchParams.set('previous', 'true');
  const ctx = new RequestContext(url.toString(), HttpMethod.GET);
  await clients.kc.applySecurityAuthentication(ctx);
  const {fetch} = await import('undici');
  const response = await fetch(url, {
    headers: ctx.getHeaders(),
    dispatcher: ctx.getDispatcher() as never,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  if (response.status !== 200) {
    let message = text.trim();
    try {
      message = (JSON.parse(text) as {message?: string}).message ?? message;
    } catch {
      // not a Status: keep the text
    }
    throw new Error(message || `HTTP ${response.status}`);
  }
  return text;
}
