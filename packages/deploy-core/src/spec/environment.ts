import {invalidInput} from '@bcl/core/errors';
import {DEFAULT_RESOURCES, type Replicas, type Route, type SecretRef, type ServiceSpec} from './schema.js';

/** `svctl.clusters.<name>` of the BCL configuration: a kubeconfig context and a default namespace. */
export interface ClusterSettings {
  context: string;
  namespace?: string | undefined;
  /** A production cluster: mutable image tags are refused there. */
  production?: boolean | undefined;
  /** Whether the nodes carry topology.kubernetes.io/zone. */
  zones?: boolean | undefined;
  ingressController?: ClusterPods | undefined;
  prometheus?: ClusterPods | undefined;
}

/** Pods of another namespace that a NetworkPolicy lets in. */
export interface ClusterPods {
  namespace: string;
  podLabels: Record<string, string>;
}

/** Where the ingress controller and Prometheus run unless svctl.clusters.<cluster> says otherwise (ingress-nginx's and kube-prometheus' defaults). */
export const DEFAULT_INGRESS_CONTROLLER: ClusterPods = {namespace: 'ingress-nginx', podLabels: {'app.kubernetes.io/name': 'ingress-nginx'}};
export const DEFAULT_PROMETHEUS: ClusterPods = {namespace: 'monitoring', podLabels: {'app.kubernetes.io/name': 'prometheus'}};

/** Requests and limits with every value filled in. */
export interface EffectiveResources {
  requests: {cpu: string; memory: string; ephemeralStorage: string};
  limits: {cpu: string; memory: string; ephemeralStorage: string};
}

/**
 * A service as deployed to one environment: the spec with that environment's overrides merged in
 * (maps key by key, lists and replicas replaced) and where it goes.
 */
export interface EnvironmentSpec extends Omit<ServiceSpec, 'environments' | 'resources' | 'replicas' | 'routes' | 'env' | 'secrets'> {
  /** The environment's name (the --env value). */
  environment: string;
  /** The `svctl.clusters` entry it deploys to. */
  cluster: string;
  /** The kubeconfig context of that cluster; undefined when the configuration does not name one. */
  context: string | undefined;
  namespace: string;
  env: Record<string, string>;
  secrets: Record<string, SecretRef>;
  resources: EffectiveResources;
  replicas: Replicas;
  routes: Route[];
  /** Marked production in the spec or in svctl.clusters. */
  production: boolean;
  /** What the cluster is like, from svctl.clusters (NetworkPolicy peers, zones). */
  clusterInfo: {zones: boolean; ingressController: ClusterPods; prometheus: ClusterPods};
}

/** Where the clusters come from, for messages: svctl's configuration, or a server's own. */
export interface ClustersSource {
  /** The key that configures them: `svctl.clusters`, or `svapp's clusters`. */
  key: string;
  /** How a person adds one for an environment. */
  howToAdd(environment: string): string;
}

export const SVCTL_CLUSTERS: ClustersSource = {
  key: 'svctl.clusters',
  howToAdd: (environment) => `map it to a kubeconfig context with \`bcl config set svctl.clusters.${environment}.context <context>\``,
};

/**
 * Applies an environment's overrides. The environment must be declared in the spec's
 * `environments` or configured in the clusters (`svctl.clusters`, or what `source` names);
 * anything else is exit 3 naming both lists.
 */
export function resolveEnvironment(spec: ServiceSpec, environment: string, clusters: Record<string, ClusterSettings> = {}, source: ClustersSource = SVCTL_CLUSTERS): EnvironmentSpec {
  const override = spec.environments[environment];
  if (!override && !clusters[environment]) {
    const declared = Object.keys(spec.environments);
    const configured = Object.keys(clusters);
    throw invalidInput('svctl.unknown_environment', `environment "${environment}" is neither declared in the spec of ${spec.name} nor configured in ${source.key}`, {
      hint:
        declared.length + configured.length > 0
          ? `Known environments: ${[...new Set([...declared, ...configured])].sort().join(', ')}.`
          : `Declare it under environments: in service.yaml, and ${source.howToAdd(environment)}.`,
      details: {environment, declared, configured},
    });
  }
  const o = override ?? {};
  const cluster = o.cluster ?? environment;
  const clusterSettings = clusters[cluster];
  if (o.cluster && !clusterSettings && Object.keys(clusters).length > 0) {
    throw invalidInput('svctl.unknown_cluster', `environments.${environment}.cluster names "${o.cluster}", which ${source.key} does not configure`, {
      hint: `Configured clusters: ${Object.keys(clusters).sort().join(', ')}.`,
      details: {environment, cluster: o.cluster},
    });
  }
  const routes = o.routes ?? spec.routes;
  if (spec.scheme === 'https' && routes.length > 0) {
    throw invalidInput('svctl.spec_invalid', `${spec.name} serves https itself (scheme: https), so it cannot have routes in environment ${environment}: an Ingress would end its TLS and drop client certificates`, {
      hint: 'Remove routes, and expose the Service with TLS passthrough or a LoadBalancer.',
      details: {key: 'routes', environment},
    });
  }
  const {environments: _environments, ...base} = spec;
  const env = {...spec.env, ...o.env};
  const secrets = {...spec.secrets, ...o.secrets};
  for (const name of Object.keys(secrets)) {
    if (name in env) {
      throw invalidInput('svctl.spec_invalid', `${name} is both a plain env variable and a secret reference in environment ${environment}`, {
        hint: `Keep ${name} under either env: or secrets:, not both.`,
        details: {key: `env.${name}`, environment},
      });
    }
  }
  return {
    ...base,
    environment,
    cluster,
    context: clusterSettings?.context,
    namespace: o.namespace ?? spec.namespace ?? clusterSettings?.namespace ?? spec.team,
    env,
    secrets,
    resources: {
      requests: {...DEFAULT_RESOURCES.requests, ...definedOnly(spec.resources.requests), ...definedOnly(o.resources?.requests)},
      limits: {...DEFAULT_RESOURCES.limits, ...definedOnly(spec.resources.limits), ...definedOnly(o.resources?.limits)},
    },
    replicas: o.replicas ?? spec.replicas,
    routes,
    production: o.production === true || clusterSettings?.production === true,
    clusterInfo: {
      zones: clusterSettings?.zones === true,
      ingressController: clusterSettings?.ingressController ?? DEFAULT_INGRESS_CONTROLLER,
      prometheus: clusterSettings?.prometheus ?? DEFAULT_PROMETHEUS,
    },
  };
}

function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  if (!value) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
