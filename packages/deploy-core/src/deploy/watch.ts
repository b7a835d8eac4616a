import type {KubeClients} from '../kube/index.js';
import {messageOf} from '../kube/index.js';
import {LABELS, MANAGED_BY} from '../spec/index.js';
import {type DeploymentRollout, deploymentRollout, type LiveObject} from './rules/index.js';

type Informer = {
  on(verb: string, cb: (arg?: unknown) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  list(namespace?: string): LiveObject[];
};

export interface PodEvent {
  object: string;
  reason: string;
  message: string;
  type: string;
  at: number;
}

/**
 * One watch per namespace on the Deployments, ReplicaSets and Pods svctl manages, and the
 * namespace's Events: list, then watch from that resourceVersion (client-node's informer),
 * restarted after an error. Every deploy in the namespace reads the same caches, so twenty
 * services deployed at once cost four watches, not eighty.
 */
export class NamespaceWatch {
  private readonly informers: Record<'deployments' | 'replicaSets' | 'pods' | 'events', Informer>;
  private readonly listeners = new Set<() => void>();
  private stopped = false;
  private started: Promise<void> | undefined;
  lastError: string | undefined;

  constructor(
    private readonly clients: KubeClients,
    readonly namespace: string,
  ) {
    const {k8s, kc, apps, core} = clients;
    const selector = `${LABELS.managedBy}=${MANAGED_BY}`;
    const ns = encodeURIComponent(namespace);
    const make = (path: string, list: () => Promise<unknown>, labelSelector?: string) =>
      k8s.makeInformer(kc, path, list as never, labelSelector) as unknown as Informer;
    this.informers = {
      deployments: make(`/apis/apps/v1/namespaces/${ns}/deployments`, () => apps.listNamespacedDeployment({namespace, labelSelector: selector}), selector),
      replicaSets: make(`/apis/apps/v1/namespaces/${ns}/replicasets`, () => apps.listNamespacedReplicaSet({namespace, labelSelector: selector}), selector),
      pods: make(`/api/v1/namespaces/${ns}/pods`, () => core.listNamespacedPod({namespace, labelSelector: selector}), selector),
      events: make(`/api/v1/namespaces/${ns}/events`, () => core.listNamespacedEvent({namespace})),
    };
    for (const informer of Object.values(this.informers)) {
      for (const verb of ['add', 'update', 'delete']) informer.on(verb, () => this.changed());
      informer.on('error', (error) => {
        this.lastError = messageOf(error);
        // The informer stops on an error: start it again unless we are done.
        setTimeout(() => {
          if (!this.stopped) void informer.start().catch(() => undefined);
        }, 1000).unref();
      });
    }
  }

  /** Lists and starts watching (once; again after a start that failed, for a watch kept between runs). */
  start(): Promise<void> {
    this.started ??= Promise.all(Object.values(this.informers).map((i) => i.start())).then(
      () => undefined,
      (error: unknown) => {
        this.started = undefined;
        throw error;
      },
    );
    return this.started;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(Object.values(this.informers).map((i) => i.stop().catch(() => undefined)));
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  deployment(name: string): LiveObject | undefined {
    return this.informers.deployments.list(this.namespace).find((d) => d.metadata.name === name);
  }

  replicaSets(service: string): LiveObject[] {
    return this.informers.replicaSets.list(this.namespace).filter((o) => o.metadata.labels?.[LABELS.name] === service);
  }

  pods(service: string): LiveObject[] {
    return this.informers.pods.list(this.namespace).filter((o) => o.metadata.labels?.[LABELS.name] === service);
  }

  /** Events about the given pods (or their ReplicaSets) since `since`, oldest first. */
  events(names: ReadonlySet<string>, since: number): PodEvent[] {
    // The namespace's events are many more than a rollout's: pick by name before anything else.
    const found: PodEvent[] = [];
    for (const e of this.informers.events.list(this.namespace)) {
      const ev = e as unknown as {involvedObject?: {kind?: string; name?: string}; reason?: string; message?: string; type?: string; lastTimestamp?: string | Date; eventTime?: string | Date; metadata: {creationTimestamp?: string | Date}};
      if (ev.involvedObject?.name === undefined || !names.has(ev.involvedObject.name)) continue;
      const at = new Date(ev.lastTimestamp ?? ev.eventTime ?? ev.metadata.creationTimestamp ?? 0).getTime();
      if (at < since - 1000) continue;
      found.push({object: `${ev.involvedObject.kind}/${ev.involvedObject.name}`, reason: ev.reason ?? '', message: ev.message ?? '', type: ev.type ?? 'Normal', at});
    }
    return found.sort((a, b) => a.at - b.at);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}

export type WaitOutcome = 'succeeded' | 'failed' | 'timeout' | 'interrupted';

export interface WaitResult {
  outcome: WaitOutcome;
  rollout: DeploymentRollout | undefined;
  message: string;
  events: PodEvent[];
}

export interface WaitOptions {
  service: string;
  deployment: string;
  /** The generation our apply produced: older observations are stale. */
  generation: number;
  uid: string | undefined;
  timeoutMs: number;
  signal: AbortSignal;
  /** Called with every new state (for the progress board). */
  onProgress?: (rollout: DeploymentRollout, lastEvent: PodEvent | undefined) => void;
  /** A reason to stop at once (the lease was lost). */
  abortReason?: () => Error | undefined;
}

/**
 * Waits for a Deployment's rollout, fed by the namespace's watch (no polling of the API):
 * the per-kind rules decide; the first fatal pod failure or Progressing=False ends the wait.
 */
export function waitForRollout(watch: NamespaceWatch, options: WaitOptions): Promise<WaitResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    let last: DeploymentRollout | undefined;
    let finished = false;
    const names = () => {
      const set = new Set<string>([options.deployment]);
      for (const o of [...watch.replicaSets(options.service), ...watch.pods(options.service)]) set.add(o.metadata.name);
      return set;
    };
    const finish = (outcome: WaitOutcome, message: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearInterval(tick);
      unsubscribe();
      options.signal.removeEventListener('abort', onAbort);
      resolve({outcome, rollout: last, message, events: watch.events(names(), started)});
    };
    const evaluate = () => {
      if (finished) return;
      const lost = options.abortReason?.();
      if (lost) return finish('interrupted', lost.message);
      const deployment = watch.deployment(options.deployment);
      if (!deployment || (options.uid && deployment.metadata.uid !== options.uid)) return;
      if ((deployment.metadata.generation ?? 0) < options.generation) return;
      const state = deploymentRollout(deployment, watch.replicaSets(options.service), watch.pods(options.service));
      // The latest pod event goes with a new state only (reading the events is the costly part).
      if (!last || last.message !== state.message) options.onProgress?.(state, watch.events(names(), started).at(-1));
      last = state;
      if (state.done) finish(state.ok ? 'succeeded' : 'failed', state.message);
    };
    const onAbort = () => finish('interrupted', 'interrupted while waiting for the rollout');
    const timer = setTimeout(() => {
      const why = last ? last.message : 'the Deployment was never observed';
      finish('timeout', `timed out after ${Math.round(options.timeoutMs / 1000)}s waiting for the rollout: ${why}${watch.lastError ? ` (watch error: ${watch.lastError})` : ''}`);
    }, options.timeoutMs);
    // Re-evaluates the cached state now and then: conditions such as a lost lease have no event.
    const tick = setInterval(evaluate, 1000);
    const unsubscribe = watch.subscribe(() => queueMicrotask(evaluate));
    options.signal.addEventListener('abort', onAbort);
    if (options.signal.aborted) return onAbort();
    evaluate();
  });
}
