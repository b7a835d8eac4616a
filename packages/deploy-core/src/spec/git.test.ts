import {execFileSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {headCommit} from './git.js';

// headCommit reads the repository's files instead of starting git; every case is checked against
// what git itself answers, in real repositories.
let base: string;
// Without the variables of a git that runs this test (a hook's GIT_DIR would move the repository).
const saved = Object.entries(process.env).filter(([k]) => k.startsWith('GIT_'));
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'bcl-head-'));
  for (const [k] of saved) delete process.env[k];
});
afterEach(() => {
  rmSync(base, {recursive: true, force: true});
  for (const [k, v] of saved) process.env[k] = v;
});

const env = {...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com'};
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, {cwd, env, encoding: 'utf8'}).trim();
const revParse = (cwd: string) => git(cwd, 'rev-parse', 'HEAD');

function repo(name = 'repo'): string {
  const dir = join(base, name);
  mkdirSync(dir, {recursive: true});
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'service.yaml'), 'name: a\n');
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'first');
  return dir;
}

function commit(dir: string, message: string): void {
  writeFileSync(join(dir, `${message}.txt`), message);
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', message);
}

describe('headCommit', () => {
  it('is the commit of the branch checked out (a loose ref), also from a subdirectory', async () => {
    const dir = repo();
    commit(dir, 'second');
    mkdirSync(join(dir, 'services', 'a'), {recursive: true});
    expect(await headCommit(dir)).toBe(revParse(dir));
    expect(await headCommit(join(dir, 'services', 'a'))).toBe(revParse(dir));
  });

  it('reads packed refs', async () => {
    const dir = repo();
    git(dir, 'pack-refs', '--all');
    expect(await headCommit(dir)).toBe(revParse(dir));
    commit(dir, 'after-pack');
    expect(await headCommit(dir)).toBe(revParse(dir));
  });

  it('reads a detached HEAD and a symbolic ref to another branch', async () => {
    const dir = repo();
    const first = revParse(dir);
    commit(dir, 'second');
    git(dir, 'checkout', '-q', '--detach', first);
    expect(await headCommit(dir)).toBe(first);
    git(dir, 'checkout', '-q', 'main');
    git(dir, 'symbolic-ref', 'refs/heads/alias', 'refs/heads/main');
    git(dir, 'symbolic-ref', 'HEAD', 'refs/heads/alias');
    expect(await headCommit(dir)).toBe(revParse(dir));
  });

  it('reads a linked worktree on its own branch, and one detached', async () => {
    const dir = repo();
    git(dir, 'worktree', 'add', '-q', '-b', 'feature', join(base, 'feature'));
    commit(join(base, 'feature'), 'on-feature');
    git(dir, 'pack-refs', '--all');
    git(dir, 'worktree', 'add', '-q', '--detach', join(base, 'detached'), 'main');
    expect(await headCommit(join(base, 'feature'))).toBe(revParse(join(base, 'feature')));
    expect(await headCommit(join(base, 'detached'))).toBe(revParse(dir));
    expect(await headCommit(join(base, 'feature'))).not.toBe(revParse(dir));
  });

  it('is undefined outside a repository and before the first commit', async () => {
    mkdirSync(join(base, 'plain'));
    expect(await headCommit(join(base, 'plain'))).toBeUndefined();
    mkdirSync(join(base, 'empty'));
    git(join(base, 'empty'), 'init', '-q', '-b', 'main');
    expect(await headCommit(join(base, 'empty'))).toBeUndefined();
  });

  it('asks git about what it does not read itself (here a .git that is a symlink)', async () => {
    const real = repo('real');
    mkdirSync(join(base, 'linked'));
    symlinkSync(join(real, '.git'), join(base, 'linked', '.git'));
    expect(await headCommit(join(base, 'linked'))).toBe(revParse(join(base, 'linked')));
  });
});
