/**
 * Reading a git repository's refs from its files (HEAD, loose refs, packed-refs; a linked
 * worktree's shared refs through its commondir), for commands that only need to know a commit:
 * starting git costs more than the rest of `svctl render` or `pkictl list`. What this reader does
 * not handle is GIT_NEEDED, and the caller asks git itself: GIT_DIR and the other variables that
 * move a repository, reftable refs, a repository owned by another user (git may refuse it, see
 * safe.directory), a .git that is neither a directory nor a `gitdir:` file.
 */
const {lstatSync, readFileSync, statSync} = process.getBuiltinModule('node:fs');
const {dirname, join, resolve, sep} = process.getBuiltinModule('node:path');

export const GIT_NEEDED = Symbol('git needed');

export interface GitRepository {
  /** The repository's own git directory (a linked worktree's is under the main one's worktrees/). */
  gitDir: string;
  /** Where the shared refs, objects and config are. */
  commonDir: string;
}

const COMMIT = /^([0-9a-f]{40}|[0-9a-f]{64})$/;
/** Refs kept per worktree; all others live in the common directory. */
const PER_WORKTREE = /^(HEAD|refs\/(bisect|worktree|rewritten)\/)/;
const GIT_ENVIRONMENT = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_COMMON_DIR', 'GIT_CEILING_DIRECTORIES', 'GIT_DISCOVERY_ACROSS_FILESYSTEM', 'GIT_NAMESPACE', 'GIT_OBJECT_DIRECTORY'];

/** The repository of the work tree holding `dir`; undefined when `dir` is in none. */
export function workTreeRepository(dir: string, env: Record<string, string | undefined> = process.env): GitRepository | undefined | typeof GIT_NEEDED {
  if (GIT_ENVIRONMENT.some((name) => env[name] !== undefined)) return GIT_NEEDED;
  const start = resolve(dir);
  let root = start;
  let dotGit;
  for (;;) {
    dotGit = lstatSync(join(root, '.git'), {throwIfNoEntry: false});
    if (dotGit) break;
    if (dirname(root) === root) return undefined;
    root = dirname(root);
  }
  // Inside the .git directory itself, git is not in a work tree.
  if (start.slice(root.length).split(sep).includes('.git')) return GIT_NEEDED;
  let gitDir = join(root, '.git');
  if (dotGit.isFile()) {
    const pointer = /^gitdir: (.+)$/m.exec(readText(gitDir) ?? '');
    if (!pointer) return GIT_NEEDED;
    gitDir = resolve(root, pointer[1]!.trim());
  } else if (!dotGit.isDirectory()) {
    return GIT_NEEDED;
  }
  return repositoryAt(gitDir, env);
}

/** The repository whose git directory is `gitDir` (a bare repository's is the repository itself). */
export function repositoryAt(gitDir: string, env: Record<string, string | undefined> = process.env): GitRepository | typeof GIT_NEEDED {
  if (GIT_ENVIRONMENT.some((name) => env[name] !== undefined)) return GIT_NEEDED;
  const pointer = readText(join(gitDir, 'commondir'));
  const commonDir = pointer === undefined ? gitDir : resolve(gitDir, pointer.trim());
  const owner = statSync(gitDir, {throwIfNoEntry: false});
  if (!owner?.isDirectory() || (process.getuid && owner.uid !== process.getuid())) return GIT_NEEDED;
  if (/^\s*refstorage\s*=\s*reftable\s*$/im.test(readText(join(commonDir, 'config')) ?? '')) return GIT_NEEDED;
  return {gitDir, commonDir};
}

/**
 * The commit a ref names ("HEAD", "refs/heads/main", "refs/remotes/origin/main"), following
 * symbolic refs; undefined when it does not exist (a branch without a commit yet).
 */
export function readRef(repo: GitRepository, name: string): string | undefined | typeof GIT_NEEDED {
  let packed: Map<string, string> | undefined;
  const packedRef = (ref: string) => {
    packed ??= new Map(
      (readText(join(repo.commonDir, 'packed-refs')) ?? '')
        .split('\n')
        .filter((line) => line && !line.startsWith('#') && !line.startsWith('^'))
        .map((line) => [line.slice(line.indexOf(' ') + 1).trim(), line.slice(0, line.indexOf(' '))] as const),
    );
    return packed.get(ref);
  };
  let ref = name;
  for (let depth = 0; depth < 5; depth++) {
    if (ref !== 'HEAD' && (!/^refs\/[^\0\\]+$/.test(ref) || ref.split('/').some((s) => s === '..' || s === '.' || s === ''))) return GIT_NEEDED;
    const content = (readText(join(PER_WORKTREE.test(ref) ? repo.gitDir : repo.commonDir, ref)) ?? packedRef(ref))?.trim();
    if (content === undefined) return undefined;
    if (COMMIT.test(content)) return content;
    if (!content.startsWith('ref: ')) return GIT_NEEDED;
    // A symbolic ref points to another (HEAD -> refs/heads/alias -> refs/heads/main).
    ref = content.slice('ref: '.length).trim();
  }
  return GIT_NEEDED;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
