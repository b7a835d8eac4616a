// SHA-256 in plain JS (@noble/hashes): node:crypto costs about 7 ms to load, more than the rest of `render`.
import {invalidInput} from '@bcl/core/errors';
import {sha256} from '@noble/hashes/sha2.js';
import {bytesToHex, utf8ToBytes} from '@noble/hashes/utils.js';
import {type EnvironmentSpec, isAutoscaled, LABELS, labelValue, MANAGED_BY, type Probe, type Runtime} from '../spec/index.js';
import {inApplyOrder, type KubeObject} from './objects.js';
import {compareAsLocale} from '@bcl/core/text';

export interface RenderOptions {
  /** The image tag to deploy (default at the command: the git commit). */
  imageTag: string;
  /** Objects other modules add (e.g. a ServiceMonitor); they get the standard labels too. */
  extraObjects?: readonly KubeObject[];
}

/** What a rendered service consists of, in apply order. */
export interface RenderedService {
  service: string;
  environment: string;
  namespace: string;
  image: string;
  objects: KubeObject[];
}

/**
 * Directories a container may write to; the rest of its filesystem is read-only. /tmp for every
 * runtime (the JVM's hsperfdata, uploads, temp files); nginx also keeps its cache directory.
 */
export const WRITABLE_PATHS: Record<Runtime, readonly string[]> = {
  node: ['/tmp'],
  go: ['/tmp'],
  python: ['/tmp'],
  java: ['/tmp'],
  static: ['/tmp', '/var/cache/nginx'],
};

/** The uid and gid of the containers (the USER of every Dockerfile svctl init writes). */
export const RUN_AS = 10001;

/** How often the startup probe asks; its failure threshold is probes.startupSeconds / this. */
export const STARTUP_PERIOD_SECONDS = 5;

/** Docker's tag grammar. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export function isValidImageTag(tag: string): boolean {
  return TAG.test(tag);
}

/** An image tag svctl can deploy; exit 3 naming --image-tag otherwise. */
export function assertImageTag(tag: string): void {
  if (!isValidImageTag(tag)) {
    throw invalidInput('svctl.image_tag_invalid', `--image-tag: "${tag}" is not a valid image tag`, {hint: 'Letters, digits, "_", "." and "-", at most 128 characters, not starting with "." or "-".'});
  }
}

/** Labels that select the pods of a service; never changed after the first deploy (selectors are immutable). */
export function selectorLabels(spec: Pick<EnvironmentSpec, 'name'>): Record<string, string> {
  return {[LABELS.name]: spec.name, [LABELS.instance]: spec.name};
}

/** The standard labels every rendered object carries. */
export function standardLabels(spec: EnvironmentSpec, imageTag: string): Record<string, string> {
  return {
    ...selectorLabels(spec),
    [LABELS.partOf]: spec.partOf ?? spec.name,
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.version]: labelValue(imageTag) || 'unknown',
    [LABELS.team]: spec.team,
    [LABELS.environment]: spec.environment,
  };
}

/**
 * The manifests of one service in one environment: ServiceAccount, ConfigMap (env), Service,
 * PodDisruptionBudget, Deployment, HorizontalPodAutoscaler (min/max), Ingress (routes).
 * Pure and deterministic: the same spec and tag give the same objects, so an unchanged
 * deploy changes nothing in the cluster and starts no new ReplicaSet.
 */
export function renderService(spec: EnvironmentSpec, options: RenderOptions): RenderedService {
  const {imageTag} = options;
  const image = `${spec.image}:${imageTag}`;
  const labels = standardLabels(spec, imageTag);
  const meta = (name: string) => ({name, namespace: spec.namespace, labels: {...labels}});
  const envConfigMap = `${spec.name}-env`;
  const objects: KubeObject[] = [];

  objects.push({apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(spec.name), automountServiceAccountToken: false});

  objects.push({apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(envConfigMap), data: sortedObject(spec.env)});

  const metricsPort = spec.metrics.enabled && spec.metrics.port && spec.metrics.port !== spec.port ? spec.metrics.port : undefined;
  const servicePorts: Record<string, unknown>[] = [{name: 'http', port: spec.port, targetPort: 'http', protocol: 'TCP'}];
  if (metricsPort) servicePorts.push({name: 'metrics', port: metricsPort, targetPort: 'metrics', protocol: 'TCP'});
  objects.push({apiVersion: 'v1', kind: 'Service', metadata: meta(spec.name), spec: {type: 'ClusterIP', selector: selectorLabels(spec), ports: servicePorts}});

  objects.push(networkPolicy(spec, meta(spec.name), metricsPort ? 'metrics' : 'http'));

  objects.push({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(spec.name),
    spec: {maxUnavailable: 1, selector: {matchLabels: selectorLabels(spec)}},
  });

  const podAnnotations: Record<string, string> = {
    // A change of the env ConfigMap rolls the pods, which read it only at start.
    'svctl.bcl.io/config-hash': hash(spec.env),
  };
  if (spec.metrics.enabled) {
    podAnnotations['prometheus.io/scrape'] = 'true';
    podAnnotations['prometheus.io/port'] = String(metricsPort ?? spec.port);
    podAnnotations['prometheus.io/path'] = spec.metrics.path;
  }
  const containerPorts: Record<string, unknown>[] = [{name: 'http', containerPort: spec.port, protocol: 'TCP'}];
  if (metricsPort) containerPorts.push({name: 'metrics', containerPort: metricsPort, protocol: 'TCP'});
  const writable = WRITABLE_PATHS[spec.runtime].map((path) => ({path, name: path === '/tmp' ? 'tmp' : path.slice(1).replace(/[^a-z0-9]+/g, '-')}));
  // Files from ConfigMaps and Secrets, read-only; Secrets readable by the service's user only.
  const files = Object.entries(spec.files)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([path, source], i) => ({path, name: `files-${i}`, source}));
  const secretEnv = Object.entries(spec.secrets)
    .sort(([a], [b]) => compareAsLocale(a, b))
    .map(([name, ref]) => ({name, valueFrom: {secretKeyRef: {name: ref.secret, key: ref.key, ...(ref.optional ? {optional: true} : {})}}}));
  const container: Record<string, unknown> = {
    name: spec.name,
    image,
    imagePullPolicy: 'IfNotPresent',
    ports: containerPorts,
    envFrom: [{configMapRef: {name: envConfigMap}}],
    ...(secretEnv.length > 0 ? {env: secretEnv} : {}),
    resources: {requests: kubeResources(spec.resources.requests), limits: kubeResources(spec.resources.limits)},
    // Liveness and readiness start only once this has answered, so a slow start is not a crash.
    startupProbe: {
      httpGet: {path: spec.probes.readiness.path, port: 'http', ...(spec.scheme === 'https' ? {scheme: 'HTTPS'} : {})},
      periodSeconds: STARTUP_PERIOD_SECONDS,
      failureThreshold: Math.ceil(spec.probes.startupSeconds / STARTUP_PERIOD_SECONDS),
      timeoutSeconds: spec.probes.readiness.timeoutSeconds,
    },
    readinessProbe: probe(spec.probes.readiness, spec.scheme),
    livenessProbe: probe(spec.probes.liveness, spec.scheme),
    // The uid and gid every svctl Dockerfile runs as: above 10000, so they match no user of the node.
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: RUN_AS, runAsGroup: RUN_AS, capabilities: {drop: ['ALL']}},
    volumeMounts: [...writable.map((w) => ({name: w.name, mountPath: w.path})), ...files.map((f) => ({name: f.name, mountPath: f.path, readOnly: true}))],
  };
  const autoscaled = isAutoscaled(spec.replicas);
  objects.push({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(spec.name),
    spec: {
      // With an autoscaler the replica count belongs to it: applying one would fight it.
      ...(autoscaled ? {} : {replicas: spec.replicas}),
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: spec.rollout.progressDeadlineSeconds,
      strategy: {type: 'RollingUpdate', rollingUpdate: {maxSurge: spec.rollout.maxSurge, maxUnavailable: spec.rollout.maxUnavailable}},
      selector: {matchLabels: selectorLabels(spec)},
      template: {
        metadata: {labels: {...labels}, annotations: podAnnotations},
        spec: {
          serviceAccountName: spec.name,
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 30,
          securityContext: {runAsNonRoot: true, seccompProfile: {type: 'RuntimeDefault'}},
          ...(spreads(spec) ? {topologySpreadConstraints: spreadConstraints(spec)} : {}),
          containers: [container],
          volumes: [
            ...writable.map((w) => ({name: w.name, emptyDir: {}})),
            ...files.map((f) => ('secret' in f.source ? {name: f.name, secret: {secretName: f.source.secret, defaultMode: 0o400}} : {name: f.name, configMap: {name: f.source.configMap}})),
          ],
        },
      },
    },
  });

  if (isAutoscaled(spec.replicas)) {
    objects.push({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: meta(spec.name),
      spec: {
        scaleTargetRef: {apiVersion: 'apps/v1', kind: 'Deployment', name: spec.name},
        minReplicas: spec.replicas.min,
        maxReplicas: spec.replicas.max,
        metrics: [{type: 'Resource', resource: {name: 'cpu', target: {type: 'Utilization', averageUtilization: spec.replicas.cpuUtilization}}}],
      },
    });
  }

  if (spec.routes.length > 0) {
    const hosts = [...new Set(spec.routes.map((r) => r.host))];
    const tls = hosts
      .map((host) => ({host, secret: spec.routes.find((r) => r.host === host && r.tlsSecret)?.tlsSecret}))
      .filter((t) => t.secret)
      .map((t) => ({hosts: [t.host], secretName: t.secret}));
    objects.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: meta(spec.name),
      spec: {
        ...(tls.length > 0 ? {tls} : {}),
        rules: hosts.map((host) => ({
          host,
          http: {
            paths: spec.routes
              .filter((r) => r.host === host)
              .map((r) => ({path: r.path, pathType: 'Prefix', backend: {service: {name: spec.name, port: {name: 'http'}}}})),
          },
        })),
      },
    });
  }

  for (const extra of options.extraObjects ?? []) {
    objects.push({...extra, metadata: {...extra.metadata, namespace: extra.metadata.namespace ?? spec.namespace, labels: {...extra.metadata.labels, ...labels}}});
  }

  return {service: spec.name, environment: spec.environment, namespace: spec.namespace, image, objects: inApplyOrder(objects)};
}

/** Whether replicas are spread: more than one of them, or an autoscaler that may add more. */
function spreads(spec: EnvironmentSpec): boolean {
  return isAutoscaled(spec.replicas) || spec.replicas > 1;
}

/**
 * Spread over nodes (and zones, when the cluster has them), counting only the pods of the same
 * ReplicaSet (matchLabelKeys), so a rollout is judged on its new pods. ScheduleAnyway: a spread
 * that cannot be met (a small cluster, a zone down) never stops a pod from running.
 */
function spreadConstraints(spec: EnvironmentSpec): Record<string, unknown>[] {
  const keys = ['kubernetes.io/hostname', ...(spec.clusterInfo.zones ? ['topology.kubernetes.io/zone'] : [])];
  return keys.map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: {matchLabels: selectorLabels(spec)},
    matchLabelKeys: ['pod-template-hash'],
  }));
}

/**
 * Who may connect to the pods: the callers the spec names (default: every pod of the namespace)
 * on the service port, the ingress controller when there are routes, Prometheus on the metrics
 * port. Any other inbound connection is denied.
 */
function networkPolicy(spec: EnvironmentSpec, metadata: KubeObject['metadata'], metricsPortName: string): KubeObject {
  const namespaceSelector = (namespace: string) => ({matchLabels: {'kubernetes.io/metadata.name': namespace}});
  const http = [{protocol: 'TCP', port: 'http'}];
  const rules: Record<string, unknown>[] = [];
  const callers = spec.network.callers;
  if (callers === undefined) {
    rules.push({from: [{podSelector: {}}], ports: http});
  } else if (callers.length > 0) {
    const peers = callers.map((c) => ({
      ...(c.namespace !== undefined ? {namespaceSelector: namespaceSelector(c.namespace)} : {}),
      ...(c.service !== undefined ? {podSelector: {matchLabels: {[LABELS.name]: c.service}}} : {}),
    }));
    rules.push({from: peers, ports: http});
  }
  if (spec.routes.length > 0) {
    const ic = spec.clusterInfo.ingressController;
    rules.push({from: [{namespaceSelector: namespaceSelector(ic.namespace), podSelector: {matchLabels: ic.podLabels}}], ports: http});
  }
  if (spec.metrics.enabled) {
    const prometheus = spec.clusterInfo.prometheus;
    rules.push({from: [{namespaceSelector: namespaceSelector(prometheus.namespace), podSelector: {matchLabels: prometheus.podLabels}}], ports: [{protocol: 'TCP', port: metricsPortName}]});
  }
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata,
    spec: {podSelector: {matchLabels: selectorLabels(spec)}, policyTypes: ['Ingress'], ingress: rules},
  };
}

function kubeResources(r: {cpu: string; memory: string; ephemeralStorage: string}): Record<string, string> {
  return {cpu: r.cpu, memory: r.memory, 'ephemeral-storage': r.ephemeralStorage};
}

function probe(p: Probe, scheme: 'http' | 'https'): Record<string, unknown> {
  return {
    httpGet: {path: p.path, port: 'http', ...(scheme === 'https' ? {scheme: 'HTTPS'} : {})},
    initialDelaySeconds: p.initialDelaySeconds,
    periodSeconds: p.periodSeconds,
    failureThreshold: p.failureThreshold,
    timeoutSeconds: p.timeoutSeconds,
  };
}

function sortedObject(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => compareAsLocale(a, b)));
}

function hash(value: unknown): string {
  return bytesToHex(sha256(utf8ToBytes(JSON.stringify(sortedObject(value as Record<string, string>))))).slice(0, 16);
}
