// Per-kind rollout rules, pure: an object (and what it owns) in, {done, ok, message} out.
export {deploymentRollout, currentReplicaSet, type DeploymentRollout, type DeploymentProgress} from './deployment.js';
export {podFailure, podReady} from './pod.js';
export {genericRollout, jobRollout} from './generic.js';
export type {RolloutState, PodFailure, LiveObject} from './types.js';
