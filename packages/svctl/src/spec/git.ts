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
