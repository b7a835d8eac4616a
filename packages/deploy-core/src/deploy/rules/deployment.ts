import {podFailure} from './pod.js';
import type {LiveObject, PodFailure, RolloutState} from './types.js';

export interface DeploymentProgress {
  desired: number;
  updated: number;
  ready: number;
  available: number;
  /** Pods of older ReplicaSets still running. */
  old: number;
}

export interface DeploymentRollout extends RolloutState {
  progress: DeploymentProgress;
  /** Problems of the new ReplicaSet's pods (fatal ones made the rollout fail). */
  failures: PodFailure[];
}

const REVISION = 'deployment.kubernetes.io/revision';

/** The ReplicaSet of the Deployment's current revision, among those it owns. */
export function currentReplicaSet(deployment: LiveObject, replicaSets: readonly LiveObject[]): LiveObject | undefined {
  const revision = deployment.metadata.annotations?.[REVISION];
  const owned = replicaSets.filter((rs) => rs.metadata.ownerReferences?.some((o) => o.uid === deployment.metadata.uid));
  if (revision === undefined) return undefined;
  return owned.find((rs) => rs.metadata.annotations?.[REVISION] === revision);
}

/**
 * A Deployment's rollout, like `kubectl rollout status` plus krane's fail-fast: done when the
 * controller saw the latest generation and every desired replica is updated and available with
 * no old ones left; failed at once when Progressing is False (progressDeadlineSeconds) or a pod
 * of the new ReplicaSet fails for a reason waiting cannot fix.
 */
export function deploymentRollout(deployment: LiveObject, replicaSets: readonly LiveObject[], pods: readonly LiveObject[]): DeploymentRollout {
  const spec = (deployment.spec ?? {}) as {replicas?: number};
  const status = (deployment.status ?? {}) as {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    conditions?: {type: string; status: string; reason?: string; message?: string}[];
  };
  const desired = spec.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const progress: DeploymentProgress = {
    desired,
    updated,
    ready: status.readyReplicas ?? 0,
    available: status.availableReplicas ?? 0,
    old: Math.max(0, (status.replicas ?? 0) - updated),
  };
  const current = currentReplicaSet(deployment, replicaSets);
  const newPods = current ? pods.filter((p) => p.metadata.ownerReferences?.some((o) => o.uid === current.metadata.uid)) : [];
  const failures = newPods.map(podFailure).filter((f): f is PodFailure => f !== undefined);
  const fatal = failures.filter((f) => f.fatal);

  const generation = deployment.metadata.generation ?? 0;
  if ((status.observedGeneration ?? 0) < generation) {
    return {done: false, ok: false, message: 'waiting for the deployment controller to see the new spec', progress, failures};
  }
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False') {
    return {done: true, ok: false, message: `${progressing.reason ?? 'not progressing'}: ${progressing.message ?? 'the rollout made no progress'}`, progress, failures};
  }
  if (fatal.length > 0) {
    const f = fatal[0]!;
    const more = fatal.length > 1 ? ` (and ${fatal.length - 1} more pod(s))` : '';
    return {done: true, ok: false, message: `pod ${f.pod}: ${f.reason}: ${f.message}${more}`, progress, failures};
  }
  const counts = `${updated}/${desired} updated, ${progress.ready} ready, ${progress.available} available`;
  if (updated < desired) return {done: false, ok: false, message: withSoft(counts, failures), progress, failures};
  if (progress.old > 0) return {done: false, ok: false, message: withSoft(`${counts}, ${progress.old} old pod(s) terminating`, failures), progress, failures};
  if (progress.available < updated) return {done: false, ok: false, message: withSoft(counts, failures), progress, failures};
  return {done: true, ok: true, message: `${desired}/${desired} updated and available`, progress, failures};
}

function withSoft(message: string, failures: readonly PodFailure[]): string {
  const f = failures[0];
  return f ? `${message}; pod ${f.pod}: ${f.reason}: ${f.message}` : message;
}
