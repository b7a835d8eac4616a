import {conflict} from '@bcl/core/errors';
import {type KubeClients, kubeError, statusOf} from '../kube/index.js';
import {type KubeObject, objectRef} from '../render/objects.js';
import {LABELS, MANAGED_BY, ownedSelector} from '../spec/index.js';
import {RECORD_LABEL} from './history.js';

export const FIELD_MANAGER = 'svctl';

/** Kinds a deploy of svctl renders, hence may prune (with their API versions). */
export const PRUNABLE_KINDS: readonly {apiVersion: string; kind: string; optional?: boolean}[] = [
  {apiVersion: 'v1', kind: 'ServiceAccount'},
  {apiVersion: 'v1', kind: 'ConfigMap'},
  {apiVersion: 'v1', kind: 'Service'},
  {apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy'},
  {apiVersion: 'policy/v1', kind: 'PodDisruptionBudget'},
  {apiVersion: 'apps/v1', kind: 'Deployment'},
  {apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler'},
  {apiVersion: 'networking.k8s.io/v1', kind: 'Ingress'},
  // Added when the cluster has the Prometheus operator (listing them elsewhere finds nothing).
  {apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', optional: true},
  {apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', optional: true},
];

export interface AppliedObject {
  ref: string;
  action: 'created' | 'configured' | 'unchanged';
  object: KubeObject;
}

/** Creates the namespace when it does not exist (never changes or deletes an existing one). */
export async function ensureNamespace(clients: KubeClients, namespace: string, labels: Record<string, string>): Promise<boolean> {
  try {
    await clients.core.readNamespace({name: namespace});
    return false;
  } catch (error) {
    if (statusOf(error) !== 404) throw kubeError(error, `reading namespace ${namespace}`, clients.server);
  }
  try {
    await clients.core.createNamespace({body: {metadata: {name: namespace, labels: {[LABELS.managedBy]: MANAGED_BY, ...labels}}}});
    return true;
  } catch (error) {
    if (statusOf(error) === 409) return false;
    throw kubeError(error, `creating namespace ${namespace}`, clients.server);
  }
}

/** Every object svctl applied for this service and environment, by "Kind/name" (its own records excluded). */
export async function listOwned(clients: KubeClients, namespace: string, service: string, environment: string, objects: readonly {apiVersion: string; kind: string}[] = []): Promise<Map<string, KubeObject>> {
  const selector = `${ownedSelector(service, environment)},!${RECORD_LABEL}`;
  const kinds = [...PRUNABLE_KINDS, ...objects.filter((k, i) => !PRUNABLE_KINDS.some((p) => p.kind === k.kind) && objects.findIndex((o) => o.kind === k.kind) === i).map(({apiVersion, kind}) => ({apiVersion, kind}))];
  const lists = await Promise.all(
    kinds.map(async ({apiVersion, kind, optional}: {apiVersion: string; kind: string; optional?: boolean}) => {
      try {
        const list = await clients.objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, selector);
        return list.items.map((item) => ({...(item as unknown as KubeObject), apiVersion, kind}));
      } catch (error) {
        // A kind the cluster does not serve (an optional CRD) has nothing to prune.
        if (statusOf(error) === 404 || /Unrecognized API version and kind/i.test((error as Error)?.message ?? '')) return [];
        // An optional kind whose CRD is being installed or removed right now: nothing to prune of it.
        if (optional && !objects.some((o) => o.kind === kind)) return [];
        throw kubeError(error, `listing ${kind} objects of ${service} in ${namespace}`, clients.server);
      }
    }),
  );
  return new Map(lists.flat().map((o) => [objectRef(o), o]));
}

/**
 * Refuses to take over objects svctl did not create: an object of the same name without
 * svctl's labels for this service and environment is exit 6, and nothing is applied.
 */
export async function checkOwnership(clients: KubeClients, objects: readonly KubeObject[], owned: ReadonlyMap<string, KubeObject>, service: string, environment: string): Promise<void> {
  const unknown = objects.filter((o) => !owned.has(objectRef(o)));
  const found = await Promise.all(
    unknown.map(async (o) => {
      try {
        return (await clients.objects.read({apiVersion: o.apiVersion, kind: o.kind, metadata: {name: o.metadata.name, namespace: o.metadata.namespace ?? 'default'}})) as unknown as KubeObject;
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw kubeError(error, `reading ${objectRef(o)}`, clients.server);
      }
    }),
  );
  const foreign = found.filter((o): o is KubeObject => o !== undefined);
  if (foreign.length > 0) {
    const names = foreign.map((o) => {
      const l = o.metadata.labels ?? {};
      const owner = l[LABELS.managedBy] === MANAGED_BY ? `svctl (service ${l[LABELS.name] ?? '?'}, environment ${l[LABELS.environment] ?? '?'})` : l[LABELS.managedBy] ? l[LABELS.managedBy] : 'not svctl';
      return `${objectRef(o)} (managed by ${owner})`;
    });
    throw conflict('svctl.not_owned', `${names.join(', ')} already exist${foreign.length === 1 ? 's' : ''} in namespace ${foreign[0]!.metadata.namespace} and ${foreign.length === 1 ? 'is' : 'are'} not svctl's for ${service} in ${environment}; nothing was applied`, {
      hint: 'svctl never takes over objects it did not create: rename the service, deploy to another namespace, or delete or relabel those objects yourself.',
      details: {objects: foreign.map(objectRef)},
    });
  }
}

/**
 * The object as client-node's serializer expects it. The client serializes built-in kinds through
 * its TypeScript models, whose property names differ from the JSON ones where JSON uses a reserved
 * word, and it silently drops the JSON name: a NetworkPolicy rule's `from` would vanish, and the
 * rule would then let everyone in. Of the kinds svctl renders, that is the only such field.
 */
export function forClientSerializer(object: KubeObject): KubeObject {
  if (object.kind !== 'NetworkPolicy' || !object.apiVersion.startsWith('networking.k8s.io/')) return object;
  const spec = object.spec as {ingress?: Record<string, unknown>[]} | undefined;
  if (!spec?.ingress) return object;
  return {...object, spec: {...spec, ingress: spec.ingress.map(({from, ...rule}) => (from === undefined ? rule : {...rule, _from: from}))}};
}

/** Server-side apply of one object with field manager svctl (forced: svctl owns the fields it renders). */
export async function applyObject(clients: KubeClients, object: KubeObject, before: KubeObject | undefined, dryRun = false): Promise<AppliedObject> {
  try {
    const applied = (await clients.objects.patch(forClientSerializer(object) as never, undefined, dryRun ? 'All' : undefined, FIELD_MANAGER, true, clients.k8s.PatchStrategy.ServerSideApply)) as unknown as KubeObject;
    const action = !before ? 'created' : before.metadata.resourceVersion === applied.metadata.resourceVersion ? 'unchanged' : 'configured';
    return {ref: objectRef(object), action, object: applied};
  } catch (error) {
    throw kubeError(error, `applying ${objectRef(object)}${dryRun ? ' (dry run)' : ''}`, clients.server);
  }
}

/** Deletes owned objects that are no longer rendered (kapp-like: by svctl's labels only, reverse apply order). */
export async function pruneObjects(clients: KubeClients, owned: ReadonlyMap<string, KubeObject>, keep: readonly KubeObject[]): Promise<string[]> {
  const keepRefs = new Set(keep.map(objectRef));
  const stale = [...owned.values()].filter((o) => !keepRefs.has(objectRef(o)) && o.metadata.labels?.[LABELS.managedBy] === MANAGED_BY).reverse();
  const pruned: string[] = [];
  for (const o of stale) {
    try {
      await clients.objects.delete({apiVersion: o.apiVersion, kind: o.kind, metadata: {name: o.metadata.name, namespace: o.metadata.namespace!}}, undefined, undefined, undefined, undefined, 'Background');
      pruned.push(objectRef(o));
    } catch (error) {
      if (statusOf(error) === 404) continue;
      throw kubeError(error, `pruning ${objectRef(o)}`, clients.server);
    }
  }
  return pruned;
}
