import {conflict, usageError} from '@bcl/core/errors';
import {GIT_NEEDED, readRef, workTreeRepository} from '@bcl/core/git-refs';
import type {ServiceSpec} from './schema.js';

/**
 * The git repository of a service: `git.url` of the spec, else the `origin` remote of the
 * checkout holding the spec; undefined when neither exists. (simple-git loads here, lazily.)
 */
export async function specRepositoryUrl(spec: ServiceSpec, specDir: string): Promise<string | undefined> {
  if (spec.git.url) return spec.git.url;
  const {simpleGit} = await import('simple-git');
  try {
    const git = simpleGit({baseDir: specDir});
    if (!(await git.checkIsRepo())) return undefined;
    const remotes = await git.getRemotes(true);
    const origin = remotes.find((r) => r.name === 'origin') ?? remotes[0];
    return origin?.refs.fetch || undefined;
  } catch {
    return undefined;
  }
}

/** The commit a deploy tags its image with, and whether the checkout has uncommitted changes. */
export interface GitState {
  commit: string;
  dirty: boolean;
  /** Tracked files with uncommitted changes (at most 10), for the message. */
  changed: string[];
}

/**
 * HEAD and cleanliness of the checkout holding `dir`; undefined when it is not in a git
 * repository or has no commit yet. Untracked files do not make a tree dirty.
 * The image tag svctl deploys by default, and Jenkins builds, is the full commit hash.
 */
export async function gitState(dir: string): Promise<GitState | undefined> {
  const {simpleGit} = await import('simple-git');
  const git = simpleGit({baseDir: dir});
  try {
    if (!(await git.checkIsRepo())) return undefined;
    const commit = (await git.revparse(['HEAD'])).trim();
    const status = await git.raw(['status', '--porcelain', '--untracked-files=no']);
    const changed = status.split('\n').filter(Boolean).map((l) => l.slice(3));
    return {commit, dirty: changed.length > 0, changed: changed.slice(0, 10)};
  } catch {
    return undefined;
  }
}

/**
 * The commit checked out in the repository holding `dir`, as `git rev-parse HEAD` says it, read
 * from the repository's files (@bcl/core/git-refs): starting git costs more than the rest of
 * `svctl render`. Undefined when `dir` is not in a work tree or HEAD has no commit yet; what the
 * reader does not handle is asked of git (gitState).
 */
export async function headCommit(dir: string): Promise<string | undefined> {
  const repo = workTreeRepository(dir);
  const commit = repo === undefined || repo === GIT_NEEDED ? repo : readRef(repo, 'HEAD');
  return commit === GIT_NEEDED ? (await gitState(dir))?.commit : commit;
}

/**
 * What a deploy needs of the checkout holding `dir`: with a given image tag only the commit (for
 * the history), read from the repository's files; without one also whether the tree is dirty,
 * which takes git. Undefined outside a git checkout.
 */
export async function deployGitState(dir: string, imageTag: string | undefined): Promise<Pick<GitState, 'commit'> & Partial<GitState> | undefined> {
  if (imageTag === undefined) return gitState(dir);
  const commit = await headCommit(dir);
  return commit === undefined ? undefined : {commit};
}

/**
 * The image tag and commit each spec's checkout deploys: the given tag, else the checkout's
 * commit, and then a dirty checkout is exit 6 unless `allowDirty`, and no commit at all exit 2.
 * Every checkout is read at once; the checks go in the order of the specs.
 */
export async function deployCommits(specs: readonly {dir: string; path: string}[], options: {imageTag?: string | undefined; allowDirty?: boolean | undefined}): Promise<{imageTag: string; gitSha: string | undefined}[]> {
  const states = await Promise.all(specs.map(({dir}) => deployGitState(dir, options.imageTag)));
  return specs.map(({dir, path}, i) => {
    const git = states[i];
    if (options.imageTag === undefined && git?.dirty && !options.allowDirty) {
      const changed = git.changed ?? [];
      throw conflict('svctl.dirty_tree', `the checkout of ${path} has uncommitted changes (${changed.join(', ')}${changed.length === 10 ? ', ...' : ''}): a deploy must be reproducible from a commit`, {
        hint: 'Commit or stash the changes, or pass --allow-dirty to deploy anyway.',
        details: {changed},
      });
    }
    const imageTag = options.imageTag ?? git?.commit;
    if (!imageTag) throw usageError(`${dir} is not in a git checkout with a commit, so there is no default image tag: pass --image-tag`);
    return {imageTag, gitSha: git?.commit};
  });
}
