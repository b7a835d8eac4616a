import {conflict, invalidInput, usageError} from '@bcl/core/errors';
import {isValidImageTag, renderService} from '../render/index.js';
import {type ClusterSettings, type EnvironmentSpec, gitState, isMutableTag, type LoadedSpec, resolveEnvironment} from '../spec/index.js';
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
  if (options.imageTag !== undefined && !isValidImageTag(options.imageTag)) {
    throw invalidInput('svctl.image_tag_invalid', `--image-tag: "${options.imageTag}" is not a valid image tag`, {hint: 'Letters, digits, "_", "." and "-", at most 128 characters, not starting with "." or "-".'});
  }
  const targets: DeployTarget[] = [];
  for (const {spec, dir, path} of specs) {
    const envSpec = resolveEnvironment(spec, options.environment, options.clusters);
    const git = await gitState(dir);
    if (options.imageTag === undefined && git?.dirty && !options.allowDirty) {
      throw conflict('svctl.dirty_tree', `the checkout of ${path} has uncommitted changes (${git.changed.join(', ')}${git.changed.length === 10 ? ', ...' : ''}): a deploy must be reproducible from a commit`, {
        hint: 'Commit or stash the changes, or pass --allow-dirty to deploy anyway.',
        details: {changed: git.changed},
      });
    }
    const imageTag = options.imageTag ?? git?.commit;
    if (!imageTag) throw usageError(`${dir} is not in a git checkout with a commit, so there is no default image tag: pass --image-tag`);
    if (options.warn && options.imageTag !== undefined) checkImmutable(envSpec, imageTag, path, options.warn);
    const rendered = renderService(envSpec, {imageTag});
    targets.push({spec: envSpec, rendered, imageTag, gitSha: git?.commit});
  }
  return targets;
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
