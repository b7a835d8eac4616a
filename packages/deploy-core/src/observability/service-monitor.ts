import type {EnvironmentSpec} from '../spec/index.js';
import {LABELS} from '../spec/index.js';
import type {RuleFile} from './alerts.js';

/** A Kubernetes object as svctl renders it. */
type KubeObject = {apiVersion: string; kind: string; metadata: {name: string; namespace?: string; labels?: Record<string, string>}; [key: string]: unknown};

/** The API group of the Prometheus operator's CRDs. */
export const MONITORING_GROUP = 'monitoring.coreos.com';

/**
 * Whether the cluster serves the Prometheus operator's ServiceMonitor (and PrometheusRule) kinds,
 * from API discovery: `apis` is what GET /apis answers (an APIGroupList), and `resources` what
 * GET /apis/monitoring.coreos.com/v1 answers (an APIResourceList), when the group is there.
 */
export function prometheusOperatorKinds(apis: {groups?: {name: string; versions?: {version: string}[]}[]}, resources?: {resources?: {kind: string}[]}): {serviceMonitor: boolean; prometheusRule: boolean} {
  const group = apis.groups?.find((g) => g.name === MONITORING_GROUP);
  const v1 = group?.versions?.some((v) => v.version === 'v1') ?? false;
  const kinds = new Set((resources?.resources ?? []).map((r) => r.kind));
  return {serviceMonitor: v1 && kinds.has('ServiceMonitor'), prometheusRule: v1 && kinds.has('PrometheusRule')};
}

/**
 * The ServiceMonitor that makes the Prometheus operator scrape the service: the `http` port (or
 * `metrics` when the spec gives a separate metrics port) at the spec's metrics path, every 30s.
 * The target label `service` is the Service's name, which dashboards and alerts select on.
 */
export function serviceMonitor(spec: EnvironmentSpec): KubeObject {
  const port = spec.metrics.port && spec.metrics.port !== spec.port ? 'metrics' : 'http';
  return {
    apiVersion: `${MONITORING_GROUP}/v1`,
    kind: 'ServiceMonitor',
    metadata: {name: spec.name, namespace: spec.namespace},
    spec: {
      selector: {matchLabels: {[LABELS.name]: spec.name, [LABELS.instance]: spec.name}},
      namespaceSelector: {matchNames: [spec.namespace]},
      endpoints: [{port, path: spec.metrics.path, interval: '30s', scrapeTimeout: '10s'}],
      targetLabels: [LABELS.team],
    },
  };
}

/** The alert rules as a PrometheusRule object, for clusters whose Prometheus reads those. */
export function prometheusRule(spec: EnvironmentSpec, rules: RuleFile): KubeObject {
  return {
    apiVersion: `${MONITORING_GROUP}/v1`,
    kind: 'PrometheusRule',
    metadata: {name: spec.name, namespace: spec.namespace},
    spec: rules,
  };
}

/**
 * The monitoring objects `svctl deploy` adds to a service's manifests (RenderOptions.extraObjects):
 * nothing when metrics are off or the cluster lacks the Prometheus operator's CRDs.
 */
export function monitoringObjects(spec: EnvironmentSpec, kinds: {serviceMonitor: boolean; prometheusRule: boolean}, rules?: RuleFile): KubeObject[] {
  if (!spec.metrics.enabled) return [];
  const objects: KubeObject[] = [];
  if (kinds.serviceMonitor) objects.push(serviceMonitor(spec));
  if (kinds.prometheusRule && rules) objects.push(prometheusRule(spec, rules));
  return objects;
}

/**
 * Asks the cluster (API discovery) whether it serves the Prometheus operator's kinds. For
 * `svctl deploy`: `monitoringObjects(spec, await detectMonitoringKinds(clients), rules)` gives the
 * objects to pass as RenderOptions.extraObjects.
 */
export async function detectMonitoringKinds(clients: import('../kube/index.js').KubeClients): Promise<{serviceMonitor: boolean; prometheusRule: boolean}> {
  const apis = await clients.kc.makeApiClient(clients.k8s.ApisApi).getAPIVersions();
  if (!apis.groups.some((g) => g.name === MONITORING_GROUP)) return {serviceMonitor: false, prometheusRule: false};
  const resources = await clients.kc.makeApiClient(clients.k8s.CustomObjectsApi).getAPIResources({group: MONITORING_GROUP, version: 'v1'});
  return prometheusOperatorKinds(apis as Parameters<typeof prometheusOperatorKinds>[0], resources as Parameters<typeof prometheusOperatorKinds>[1]);
}
