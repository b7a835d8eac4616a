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

/**
 * What a kind needs to exist before it is applied, as a level: a kind needs only kinds of lower
 * levels, which apply order (ORDER) puts before it. Everything is of a CRD or in a namespace; a
 * binding's escalation check reads its Role; a token Secret is deleted when its ServiceAccount
 * is missing; a workload's pods need their ServiceAccount, ConfigMaps, Secrets and claims, get
 * the Services' environment variables and the PodDisruptionBudget's protection; an autoscaler
 * and an Ingress point at the workload. Kinds of one level only name each other (by name or
 * label selector), which admission does not resolve. Unknown kinds (svctl renders
 * ServiceMonitor and PrometheusRule) go with configuration, as in ORDER.
 */
const LEVELS: Record<string, number> = {
  CustomResourceDefinition: 0,
  Namespace: 0,
  ServiceAccount: 1,
  ClusterRole: 1,
  Role: 1,
  ClusterRoleBinding: 2,
  RoleBinding: 2,
  ConfigMap: 1,
  Secret: 2,
  PersistentVolumeClaim: 1,
  Service: 1,
  NetworkPolicy: 1,
  PodDisruptionBudget: 1,
  Deployment: 3,
  StatefulSet: 3,
  DaemonSet: 3,
  Job: 3,
  HorizontalPodAutoscaler: 4,
  Ingress: 4,
};

/**
 * Objects (in apply order) cut into the steps of an apply: neighbours of one level (LEVELS) form
 * a step, applied at once; the steps go one after another. A kind is thus never applied together
 * with, or before, a kind it needs.
 */
export function applySteps<T extends Pick<KubeObject, 'kind'>>(objects: readonly T[]): T[][] {
  const steps: T[][] = [];
  let last: number | undefined;
  for (const o of objects) {
    const level = LEVELS[o.kind] ?? 1;
    if (level !== last || steps.length === 0) steps.push([]);
    steps.at(-1)!.push(o);
    last = level;
  }
  return steps;
}

/** Kinds whose rollout svctl waits for. */
export const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);
