import type {KubeObject} from '../../render/objects.js';

/** The answer of a rule: is this object done rolling out, and did it succeed? */
export interface RolloutState {
  done: boolean;
  /** Meaningful when done: false means the rollout failed and waiting longer will not help. */
  ok: boolean;
  /** One line a person can follow ("2 of 3 updated, 1 available"). */
  message: string;
}

/** Why a pod cannot become ready. `fatal` failures end the wait at once (krane's fail-fast). */
export interface PodFailure {
  pod: string;
  container?: string;
  reason: string;
  message: string;
  fatal: boolean;
}

/** An object as read from the API (status included). */
export type LiveObject = KubeObject & {status?: Record<string, unknown>; spec?: Record<string, unknown>};
