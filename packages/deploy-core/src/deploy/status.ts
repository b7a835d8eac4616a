import type {KubeClients} from '../kube/index.js';
import {kubeError, statusOf} from '../kube/index.js';
import {ANNOTATIONS, type EnvironmentSpec, LABELS} from '../spec/index.js';
import {DeployHistory, type RevisionRecord, withAbandoned} from './history.js';
import {readLeaseState} from './lease.js';
import {deploymentRollout, type LiveObject, podFailure, podReady} from './rules/index.js';
import {compareAsLocale} from '@bcl/core/text';

export interface PodStatus {
  name: string;
  phase: string;
  ready: boolean;
  restarts: number;
  image: string;
  problem?: string;
}

export interface ServiceStatus {
  service: string;
  environment: string;
  namespace: string;
  context: string;
  deployed: boolean;
  /** The revision whose apply is live (annotation on the Deployment). */
  revision: number | null;
  image: string | null;
  state: 'available' | 'progressing' | 'failed' | 'not deployed';
  message: string;
  replicas: {desired: number; updated: number; ready: number; available: number} | null;
  pods: PodStatus[];
  lastDeploy: RevisionRecord | null;
  /** A deploy holding the lease right now. */
  deployInProgress: {holder: string; since: string | undefined} | null;
}

/** What runs now for a service in an environment: one read of the Deployment, its pods, history and lease. */
export async function serviceStatus(clients: KubeClients, spec: EnvironmentSpec): Promise<ServiceStatus> {
  const {namespace, name} = spec;
  const selector = `${LABELS.name}=${name},${LABELS.environment}=${spec.environment}`;
  const base = {service: name, environment: spec.environment, namespace, context: clients.context};
  const [deployment, replicaSets, pods, history, lease] = await Promise.all([
    clients.objects.read({apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name, namespace}}).then(
      (d) => d as unknown as LiveObject,
      (error) => {
        if (statusOf(error) === 404) return undefined;
        throw kubeError(error, `reading Deployment ${namespace}/${name}`, clients.server);
      },
    ),
    list(clients, 'apps/v1', 'ReplicaSet', namespace, selector),
    list(clients, 'v1', 'Pod', namespace, selector),
    new DeployHistory(clients, namespace, name, spec.environment).list(),
    readLeaseState(clients, namespace, name, spec.environment).catch(() => ({live: false}) as Awaited<ReturnType<typeof readLeaseState>>),
  ]);
  const deployInProgress = lease.live ? {holder: lease.holder!, since: lease.since} : null;
  // A record left "in-progress" by a run that died is shown as what it is: abandoned.
  const lastDeploy = withAbandoned(history, lease).at(-1) ?? null;
  if (!deployment || deployment.metadata.labels?.[LABELS.environment] !== spec.environment) {
    return {...base, deployed: false, revision: null, image: null, state: 'not deployed', message: `no Deployment ${name} of environment ${spec.environment} in namespace ${namespace}`, replicas: null, pods: [], lastDeploy, deployInProgress};
  }
  const rollout = deploymentRollout(deployment, replicaSets, pods);
  const containers = ((deployment.spec as {template?: {spec?: {containers?: {image?: string}[]}}})?.template?.spec?.containers ?? []) as {image?: string}[];
  const revision = Number(deployment.metadata.annotations?.[ANNOTATIONS.revision]);
  return {
    ...base,
    deployed: true,
    revision: Number.isFinite(revision) ? revision : null,
    image: containers[0]?.image ?? null,
    state: rollout.done ? (rollout.ok ? 'available' : 'failed') : 'progressing',
    message: rollout.message,
    replicas: {desired: rollout.progress.desired, updated: rollout.progress.updated, ready: rollout.progress.ready, available: rollout.progress.available},
    pods: pods
      .filter((p) => !p.metadata.deletionTimestamp)
      .map((p) => {
        const statuses = ((p.status?.containerStatuses ?? []) as {restartCount?: number}[]);
        const failure = podFailure(p);
        const images = ((p.spec as {containers?: {image?: string}[]})?.containers ?? []).map((c) => c.image ?? '');
        return {
          name: p.metadata.name,
          phase: String(p.status?.phase ?? 'Unknown'),
          ready: podReady(p),
          restarts: statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0),
          image: images[0] ?? '',
          ...(failure ? {problem: `${failure.reason}: ${failure.message}`} : {}),
        };
      })
      .sort((a, b) => compareAsLocale(a.name, b.name)),
    lastDeploy,
    deployInProgress,
  };
}

async function list(clients: KubeClients, apiVersion: string, kind: string, namespace: string, selector: string): Promise<LiveObject[]> {
  try {
    const result = await clients.objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, selector);
    return result.items as unknown as LiveObject[];
  } catch (error) {
    throw kubeError(error, `listing ${kind} objects in ${namespace}`, clients.server);
  }
}
