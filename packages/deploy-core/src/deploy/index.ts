// Deploys to Kubernetes: server-side apply in kapp order, watched rollouts with per-kind rules,
// automatic rollback, the deploy lease and history, status and diff. The Kubernetes client
// loads only when a cluster is connected (kube/), and the diff library only in diffService.
export * from './apply.js';
export * from './deploy.js';
export * from './diff.js';
export * from './history.js';
export * from './lease.js';
export * from './logs.js';
export * from './outcome.js';
export * from './rules/index.js';
export * from './status.js';
export * from './targets.js';
export * from './watch.js';
