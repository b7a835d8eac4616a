import {invalidInput} from '@bcl/core/errors';
import {assertImageTag, renderService} from '../render/index.js';
import {type ClusterSettings, deployCommits, type EnvironmentSpec, isMutableTag, type LoadedSpec, resolveEnvironment, type ServiceSpec} from '../spec/index.js';
import type {DeployTarget} from './deploy.js';

export interface TargetOptions {
  environment: string;
  clusters: Record<string, ClusterSettings>;
  imageTag?: string | undefined;
  /** Deploy from a checkout with uncommitted changes (refused otherwise). */
  allowDirty?: boolean;
  /** Whether the tag defaults to the commit (deploy) and the tree must be clean. */
  requireGit?: boolean;
  /**
   * Where a mutable tag (imagePolicy.mutableTags) is told: given, a deploy is meant; a mutable
   * tag is then refused for a production environment and passed to this elsewhere.
   */
  warn?: (message: string) => void;
}

/**
 * What each spec deploys: its environment's effective spec, the image tag (--image-tag, else
 * the checkout's commit, and then a dirty checkout is exit 6 unless --allow-dirty) and the manifests.
 */
export async function buildTargets(specs: readonly LoadedSpec[], options: TargetOptions): Promise<DeployTarget[]> {
  if (options.imageTag !== undefined) assertImageTag(options.imageTag);
  const targets: DeployTarget[] = [];
  const commits = await deployCommits(specs, options);
  for (const [i, {spec, path}] of specs.entries()) {
    const {imageTag, gitSha} = commits[i]!;
    targets.push(deployTarget(spec, path, {environment: options.environment, clusters: options.clusters, imageTag, gitSha, ...(options.warn && options.imageTag !== undefined ? {warn: options.warn} : {})}));
  }
  return targets;
}

// Where commands check a tag without loading the deploy code (render/manifests.ts).
export {assertImageTag} from '../render/index.js';

/**
 * One service's target from its spec and the tag to deploy: the environment's effective spec, the
 * manifests, and (given `warn`, when the tag was chosen rather than the commit) the mutable-tag
 * rule. svctl's direct mode and svapp build their targets with it.
 */
export function deployTarget(spec: ServiceSpec, path: string, options: {environment: string; clusters: Record<string, ClusterSettings>; imageTag: string; gitSha?: string | undefined; warn?: (message: string) => void}): DeployTarget {
  const envSpec = resolveEnvironment(spec, options.environment, options.clusters);
  if (options.warn) checkImmutable(envSpec, options.imageTag, path, options.warn);
  const rendered = renderService(envSpec, {imageTag: options.imageTag});
  return {spec: envSpec, rendered, imageTag: options.imageTag, gitSha: options.gitSha};
}

/** The target of a rollback: the service and where it runs; what is re-applied comes from its history. */
export function rollbackTarget(spec: EnvironmentSpec): DeployTarget {
  return {spec, rendered: {service: spec.name, environment: spec.environment, namespace: spec.namespace, image: '', objects: []}, imageTag: ''};
}

/** A tag that names another image tomorrow defeats rollback: refused in production, warned elsewhere. */
function checkImmutable(spec: EnvironmentSpec, tag: string, path: string, warn: (message: string) => void): void {
  const pattern = isMutableTag(spec.imagePolicy, tag);
  if (pattern === undefined) return;
  const why = `--image-tag ${tag} is mutable (imagePolicy.mutableTags ${JSON.stringify(pattern)} in ${path}): what it names can change, so history and rollback cannot say what ran`;
  if (spec.production) {
    throw invalidInput('svctl.image_tag_mutable', `${why}; environment ${spec.environment} is production, where only immutable tags are deployed`, {
      hint: 'Deploy a tag that is never reused: a release version or the commit (the default without --image-tag).',
      details: {environment: spec.environment, tag, pattern},
    });
  }
  warn(`${spec.name}: ${why}`);
}
