import type {LiveObject, PodFailure} from './types.js';

interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: {waiting?: {reason?: string; message?: string}; terminated?: {reason?: string; exitCode?: number; message?: string}; running?: object};
  lastState?: {terminated?: {reason?: string; exitCode?: number; message?: string}};
}

/** Waiting reasons that never resolve by waiting: the pod spec or image is wrong. */
const FATAL_WAITING = new Set(['CrashLoopBackOff', 'CreateContainerConfigError', 'CreateContainerError', 'InvalidImageName', 'RunContainerError', 'ErrImageNeverPull']);
/** Image pull messages that mean the image will not appear by retrying. */
const IMAGE_MISSING = /not found|manifest unknown|repository does not exist|does not exist|unauthorized|denied|no such host/i;

/**
 * Why a pod of a rollout is failing, if it is: the first fatal problem of its containers, else
 * the first problem still worth reporting (an image pull being retried, an unschedulable pod).
 */
export function podFailure(pod: LiveObject): PodFailure | undefined {
  const name = pod.metadata.name;
  const status = (pod.status ?? {}) as {phase?: string; reason?: string; message?: string; containerStatuses?: ContainerStatus[]; conditions?: {type: string; status: string; reason?: string; message?: string}[]};
  if (status.phase === 'Failed') {
    return {pod: name, reason: status.reason ?? 'Failed', message: status.message ?? 'the pod failed', fatal: true};
  }
  let soft: PodFailure | undefined;
  for (const c of status.containerStatuses ?? []) {
    const waiting = c.state?.waiting;
    const reason = waiting?.reason;
    if (!reason || reason === 'ContainerCreating' || reason === 'PodInitializing') continue;
    if (FATAL_WAITING.has(reason)) {
      return {pod: name, container: c.name, reason, message: describeWaiting(reason, waiting?.message, c), fatal: true};
    }
    if (reason === 'ErrImagePull' || reason === 'ImagePullBackOff') {
      const message = waiting?.message ?? 'the image cannot be pulled';
      const failure = {pod: name, container: c.name, reason, message, fatal: IMAGE_MISSING.test(message)};
      if (failure.fatal) return failure;
      soft ??= failure;
    }
  }
  if (soft) return soft;
  const scheduled = status.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return {pod: name, reason: 'Unschedulable', message: scheduled.message ?? 'no node can run the pod', fatal: false};
  }
  return undefined;
}

function describeWaiting(reason: string, message: string | undefined, c: ContainerStatus): string {
  if (reason === 'CrashLoopBackOff') {
    const last = c.lastState?.terminated;
    const exit = last ? `exited with code ${last.exitCode ?? '?'}${last.reason ? ` (${last.reason})` : ''}` : 'keeps exiting';
    return `container ${c.name} ${exit}, restarted ${c.restartCount ?? 0} time(s)`;
  }
  return message ?? reason;
}

/** Whether a pod is Ready (its Ready condition is True). */
export function podReady(pod: LiveObject): boolean {
  const conditions = (pod.status?.conditions ?? []) as {type: string; status: string}[];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}
