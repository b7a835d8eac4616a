// The service spec (service.yaml): schema, loading, per-environment overrides and labels.
// Everything here is light to import (zod and yaml only); svctl's other modules build on it.
export {
  RUNTIMES,
  DEFAULT_RESOURCES,
  serviceSpecSchema,
  environmentOverrideSchema,
  isAutoscaled,
  type Runtime,
  type ServiceSpec,
  type ServiceSpecInput,
  type EnvironmentOverride,
  type Replicas,
  type Autoscaling,
  type Resources,
  type SecretRef,
  type Route,
  type Slo,
  type Metrics,
  type BuildSettings,
  type Caller,
  type Probe,
} from './schema.js';
export {SPEC_FILE_NAME, findSpecFile, loadSpec, parseSpec, checkSpec, type LoadedSpec, type SpecProblem} from './load.js';
export {resolveEnvironment, SVCTL_CLUSTERS, DEFAULT_INGRESS_CONTROLLER, DEFAULT_PROMETHEUS, type ClustersSource, type ClusterSettings, type ClusterPods, type EnvironmentSpec, type EffectiveResources} from './environment.js';
export {LABELS, ANNOTATIONS, MANAGED_BY, ownedSelector, labelValue, isMutableTag} from './labels.js';
export {specRepositoryUrl, deployCommits, gitState, headCommit, type GitState} from './git.js';
