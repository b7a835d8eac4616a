/** A Kubernetes object as svctl renders and reads it: plain data, no client types. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    ownerReferences?: {kind: string; name: string; uid: string; controller?: boolean}[];
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** "Deployment/hello" (kubectl's form), for messages. */
export function objectRef(o: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return `${o.kind}/${o.metadata.name}`;
}

/**
 * Apply order, like kapp: namespaces, then identities and RBAC, then configuration, then
 * services, then workloads and what scales or exposes them. Unknown kinds go after services.
 */
const ORDER = [
  'CustomResourceDefinition',
  'Namespace',
  'ServiceAccount',
  'ClusterRole',
  'Role',
  'ClusterRoleBinding',
  'RoleBinding',
  'ConfigMap',
  'Secret',
  'PersistentVolumeClaim',
  'Service',
  'NetworkPolicy',
  '*',
  'PodDisruptionBudget',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'HorizontalPodAutoscaler',
  'Ingress',
];

export function applyRank(kind: string): number {
  const i = ORDER.indexOf(kind);
  return i === -1 ? ORDER.indexOf('*') : i;
}

/** Sorts objects into apply order (stable within a kind). */
export function inApplyOrder<T extends Pick<KubeObject, 'kind'>>(objects: readonly T[]): T[] {
  return objects
    .map((o, i) => ({o, i}))
    .sort((a, b) => applyRank(a.o.kind) - applyRank(b.o.kind) || a.i - b.i)
    .map((x) => x.o);
}

/** Kinds whose rollout svctl waits for. */
export const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);
