/**
 * The Git store: a private working clone per store under $XDG_CACHE_HOME/bcl/pkictl/stores/,
 * synchronised before every command. Every change is one commit; a push that is not a fast-forward
 * is retried after fetch and rebase (or, when the rebase conflicts, by redoing the change on the
 * new tip), so concurrent requesters and admins never lose each other's work.
 */
import {createHash} from 'node:crypto';
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {GIT_NEEDED, readRef, repositoryAt, workTreeRepository} from '@bcl/core/git-refs';
import {dirname, join, relative, resolve, sep} from 'node:path';
import {conflict, interrupted, invalidInput, unavailable, denied} from '@bcl/core';
import type {SimpleGit} from 'simple-git';

export interface StoreIdentity {
  name: string;
  email: string;
}

export interface OpenOptions {
  /** The store: a local path or a git URL. */
  store: string;
  cwd: string;
  /** $XDG_CACHE_HOME/bcl/pkictl */
  cacheDir: string;
  identity: StoreIdentity;
  signal?: AbortSignal;
  /** Creates an empty bare repository when a local path does not exist (ca init). */
  createIfMissing?: boolean;
  debug?: (message: string) => void;
}

const BRANCH = 'main';
/** Ambient git variables passed on: how to reach and authenticate to the remote. */
const GIT_ENV_ALLOWED = ['GIT_TERMINAL_PROMPT', 'GIT_SSH_COMMAND', 'GIT_SSH', 'GIT_SSL_CAINFO', 'GIT_SSL_CAPATH', 'GIT_SSL_CERT', 'GIT_SSL_KEY', 'GIT_CONFIG_GLOBAL', 'GIT_CONFIG_NOSYSTEM', 'GIT_ASKPASS'];
const MAX_ATTEMPTS = 40;

/** Anything that looks like a URL or scp-style remote is passed to git as is; the rest is a path. */
export function isRemoteUrl(store: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(store) || /^[^/\\]+@[^/:]+:/.test(store);
}

export class GitStore {
  private constructor(
    readonly url: string,
    readonly dir: string,
    /** simple-git for the working clone, loaded when git must run (a current local store needs none). */
    private readonly connect: () => Promise<SimpleGit>,
    private readonly options: OpenOptions,
    /** Whether the remote has no commit yet. */
    public empty: boolean,
    /** Releases the lock on the working clone. */
    readonly close: () => void,
  ) {}

  /** Set when a change failed half-way: the next sync also removes untracked files. */
  private dirty = false;
  private git?: SimpleGit;

  private async client(): Promise<SimpleGit> {
    this.git ??= await this.connect();
    return this.git;
  }

  static async open(options: OpenOptions): Promise<GitStore> {
    const url = isRemoteUrl(options.store) ? options.store : resolve(options.cwd, options.store);
    if (!isRemoteUrl(options.store) && !existsSync(url)) {
      if (!options.createIfMissing) {
        throw invalidInput('pkictl.store_missing', `the store ${url} does not exist`, {
          hint: 'Set pkictl.store (or --store) to the PKI repository; a CA admin creates it with `pkictl ca init --store <path>`.',
          details: {store: url},
        });
      }
      mkdirSync(url, {recursive: true});
      await runGit(['init', '--quiet', '--bare', `--initial-branch=${BRANCH}`, url], options);
    }
    const dir = join(options.cacheDir, 'stores', createHash('sha256').update(url).digest('hex').slice(0, 16));
    mkdirSync(dirname(dir), {recursive: true, mode: 0o700});
    const release = await acquireLock(`${dir}.lock`, options.signal);
    try {
      return await GitStore.openLocked(url, dir, options, release);
    } catch (error) {
      release();
      throw error;
    }
  }

  private static async openLocked(url: string, dir: string, options: OpenOptions, release: () => void): Promise<GitStore> {
    // git must never wait for a password on a terminal, and its messages are matched in English.
    // simple-git strips ambient GIT_* variables unless allowed: keep the ones that reach a remote.
    process.env.GIT_TERMINAL_PROMPT = '0';
    process.env.LC_ALL = 'C';
    const make = async (baseDir: string) =>
      (await import('simple-git')).simpleGit({
        baseDir,
        config: [`user.name=${options.identity.name}`, `user.email=${options.identity.email}`, 'commit.gpgsign=false', 'core.autocrlf=false'],
        allowEnvironment: GIT_ENV_ALLOWED,
        ...(options.signal ? {abort: options.signal} : {}),
      });
    if (!existsSync(join(dir, '.git'))) {
      rmSync(dir, {recursive: true, force: true});
      mkdirSync(dir, {recursive: true});
      try {
        await (await make(dir)).clone(url, dir, ['--quiet', '--no-tags']);
      } catch (error) {
        rmSync(dir, {recursive: true, force: true});
        throw storeError(error, url, 'clone');
      }
    }
    const store = new GitStore(url, dir, () => make(dir), options, false, release);
    if (!store.matchesLocalStore()) await store.sync();
    return store;
  }

  /**
   * Whether the working clone already is the store's tip, read from the files of both (a store on
   * a local path): then there is nothing to fetch and git is not started. The clone's marker
   * (`<clone>.synced`, the commit of its last complete sync or push) says nothing was changed or
   * left half-done in it since.
   */
  private matchesLocalStore(): boolean {
    if (isRemoteUrl(this.url) || !existsSync(join(this.dir, '.git'))) return false;
    const store = existsSync(join(this.url, '.git')) ? workTreeRepository(this.url) : repositoryAt(this.url);
    const clone = repositoryAt(join(this.dir, '.git'));
    if (!store || store === GIT_NEEDED || clone === GIT_NEEDED) return false;
    const tip = readRef(store, `refs/heads/${BRANCH}`);
    if (typeof tip !== 'string') return false;
    let marker: string | undefined;
    try {
      marker = readFileSync(`${this.dir}.synced`, 'utf8').trim();
    } catch {
      return false;
    }
    return marker === tip && readRef(clone, 'HEAD') === tip && readRef(clone, `refs/remotes/origin/${BRANCH}`) === tip;
  }

  /** Records that the clone is the commit it is at, cleanly (see matchesLocalStore); undefined forgets it. */
  private async markSynced(synced: boolean): Promise<void> {
    const marker = `${this.dir}.synced`;
    if (!synced) {
      rmSync(marker, {force: true});
      return;
    }
    const clone = repositoryAt(join(this.dir, '.git'));
    const head = clone === GIT_NEEDED ? undefined : readRef(clone, 'HEAD');
    writeFileSync(marker, `${typeof head === 'string' ? head : await this.head()}\n`, {mode: 0o600});
  }

  /** Fetches the remote and resets the working clone to it (the clone is a cache; it has no local work). */
  async sync(): Promise<void> {
    await this.markSynced(false);
    const git = await this.client();
    try {
      await git.fetch(['--quiet', '--prune', 'origin']);
    } catch (error) {
      throw storeError(error, this.url, 'fetch');
    }
    // One reset in the common case; the empty store and a clone left dirty take the long way.
    const reset = await git
      .raw(['reset', '--quiet', '--hard', `origin/${BRANCH}`])
      .then(() => true)
      .catch(() => false);
    this.empty = !reset && (await git.raw(['branch', '-r', '--list', `origin/${BRANCH}`])).trim() === '';
    if (this.empty) {
      await git.raw(['symbolic-ref', 'HEAD', `refs/heads/${BRANCH}`]);
      await git.raw(['read-tree', '--empty']).catch(() => undefined);
      await git.raw(['clean', '-qfdx']);
      return;
    }
    // (The local branch name does not matter: pushes go to HEAD:refs/heads/main.)
    if (!reset || this.dirty) {
      await git.raw(['checkout', '--quiet', '-f', '-B', BRANCH, `origin/${BRANCH}`]);
      await git.raw(['clean', '-qfdx']);
    }
    this.dirty = false;
    await this.markSynced(true);
  }

  /** The commit the working clone is at. */
  async head(): Promise<string> {
    return (await (await this.client()).raw(['rev-parse', 'HEAD'])).trim();
  }

  path(file: string): string {
    const full = resolve(this.dir, file);
    if (full !== this.dir && !full.startsWith(this.dir + sep)) throw new Error(`path outside the store: ${file}`);
    return full;
  }

  exists(file: string): boolean {
    return existsSync(this.path(file));
  }

  read(file: string): string | undefined {
    const full = this.path(file);
    return existsSync(full) && statSync(full).isFile() ? readFileSync(full, 'utf8') : undefined;
  }

  /** Entries of a directory of the store (names only), sorted. */
  list(dir: string): string[] {
    const full = this.path(dir);
    return existsSync(full) ? readdirSync(full).filter((n) => !n.startsWith('.')).sort() : [];
  }

  /**
   * Makes one commit with `message` from the writes `change` returns, and pushes it. `change`
   * runs on the current tip: it must read the store, validate everything, and only then return
   * the files to write. A rejected push is retried after fetch and rebase; when the rebase
   * conflicts (someone changed the same files), `change` runs again on the new tip.
   */
  async commit<T>(message: string, change: () => Promise<StoreChange<T>> | StoreChange<T>): Promise<T> {
    let planned = await change();
    let committed = false;
    const git = await this.client();
    try {
      await this.markSynced(false);
      for (let attempt = 1; ; attempt++) {
        if (this.options.signal?.aborted) throw interrupted('interrupted before the change was pushed; nothing was written');
        if (!committed) {
          this.apply(planned.writes);
          await git.raw(['add', '--all', '--', ...planned.writes.map((w) => relative(this.dir, this.path(w.path)))]);
          await git.raw(['commit', '--quiet', '--no-verify', '--allow-empty', '-m', message]);
          committed = true;
        }
        try {
          await git.raw(['push', '--quiet', 'origin', `HEAD:refs/heads/${BRANCH}`]);
          this.empty = false;
          await this.markSynced(true);
          return planned.result;
        } catch (error) {
          if (!isNonFastForward(error)) throw storeError(error, this.url, 'push');
        }
        if (attempt >= MAX_ATTEMPTS) {
          throw conflict('pkictl.store_busy', `the store ${this.url} kept moving: ${MAX_ATTEMPTS} pushes were rejected`, {hint: 'Try again in a moment.'});
        }
        this.options.debug?.(`push rejected (attempt ${attempt}): fetching and rebasing`);
        await sleep(Math.min(1500, 20 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random()));
        try {
          await git.fetch(['--quiet', 'origin']);
        } catch (error) {
          throw storeError(error, this.url, 'fetch');
        }
        const rebased = await git
          .raw(['rebase', '--quiet', `origin/${BRANCH}`])
          .then(() => true)
          .catch(async () => {
            await git.raw(['rebase', '--abort']).catch(() => undefined);
            return false;
          });
        if (!rebased) {
          await this.sync();
          planned = await change();
          committed = false;
        }
      }
    } catch (error) {
      // Nothing half-written: the working clone goes back to the remote's state.
      this.dirty = true;
      await this.sync().catch(() => undefined);
      throw error;
    }
  }

  private apply(writes: readonly StoreWrite[]): void {
    for (const w of writes) {
      const full = this.path(w.path);
      if (w.content === null) {
        rmSync(full, {force: true, recursive: true});
        continue;
      }
      mkdirSync(dirname(full), {recursive: true});
      writeFileSync(full, w.content);
    }
  }
}

export interface StoreWrite {
  path: string;
  /** null removes the file. */
  content: string | null;
}

export interface StoreChange<T> {
  writes: StoreWrite[];
  result: T;
}

function isNonFastForward(error: unknown): boolean {
  const text = String((error as Error)?.message ?? error);
  return /\[rejected\]|non-fast-forward|fetch first|failed to update ref|cannot lock ref|Updates were rejected/i.test(text) && !/denied|permission/i.test(text);
}

function storeError(error: unknown, url: string, what: string) {
  const text = String((error as Error)?.message ?? error).trim();
  const first = text.split('\n').find((l) => /fatal|error|denied|rejected/i.test(l)) ?? text.split('\n')[0] ?? '';
  if (/permission denied|access denied|authentication failed|could not read Username|403/i.test(text)) {
    return denied('pkictl.store_denied', `git ${what} of ${url} was refused: ${first}`, {hint: 'Check your access to the store repository.', details: {store: url}});
  }
  if (/refusing to update checked out branch|denyCurrentBranch/i.test(text)) {
    return conflict('pkictl.store_not_bare', `the store ${url} is a repository with a checked-out working tree; git refuses pushes to it`, {
      hint: 'Use a bare repository (git init --bare), or run `git config receive.denyCurrentBranch updateInstead` in it.',
      details: {store: url},
    });
  }
  if (/does not appear to be a git repository|not a git repository|repository .* not found/i.test(text)) {
    return invalidInput('pkictl.store_invalid', `${url} is not a git repository`, {hint: 'Set pkictl.store (or --store) to the PKI repository.', details: {store: url}});
  }
  return unavailable('pkictl.store_unreachable', `git ${what} of ${url} failed: ${first}`, {hint: 'Check the store URL and your network, then try again.', details: {store: url}});
}

async function runGit(args: string[], options: OpenOptions): Promise<void> {
  const {simpleGit} = await import('simple-git');
  try {
    await simpleGit({allowEnvironment: GIT_ENV_ALLOWED}).raw(args);
  } catch (error) {
    throw storeError(error, args[args.length - 1] ?? '', 'init');
  }
  void options;
}

/**
 * A lock on one working clone, so two pkictl runs of the same user never share it at once
 * (@bcl/files: a lock file naming its holder; a holder that died is taken over at once).
 */
async function acquireLock(path: string, signal?: AbortSignal): Promise<() => void> {
  // The lock alone: @bcl/files' index also loads write-file-atomic, which a read does not need.
  const [{acquireFileLock}, {describeHolder, LockHeldError}] = await Promise.all([import('@bcl/files/lock'), import('@bcl/files/errors')]);
  try {
    const lock = await acquireFileLock(path, {timeoutMs: 120_000, ...(signal ? {signal} : {})});
    return () => lock.release();
  } catch (error) {
    if (signal?.aborted) throw interrupted('interrupted while waiting for the store lock');
    if (error instanceof LockHeldError) {
      throw conflict('pkictl.store_locked', `another pkictl (${describeHolder(error.holder)}) holds ${path}`, {hint: 'Wait for it to finish, then try again.'});
    }
    throw error;
  }
}


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

