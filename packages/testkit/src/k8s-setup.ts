// vitest globalSetup of the k8s project: one local Kubernetes control plane for the whole run.
// Tests read its kubeconfig with `inject('kubeconfig')` (or BCL_TEST_KUBECONFIG in child processes).
import type {TestProject} from 'vitest/node';
import {startLocalCluster} from './k8s.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startLocalCluster();
  process.env.BCL_TEST_KUBECONFIG = cluster.kubeconfig;
  project.provide('kubeconfig', cluster.kubeconfig);
  return () => cluster.stop();
}
