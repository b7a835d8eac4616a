import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {StagedDirectory, writeNewFileSync} from './staged.js';

let dir: string;
let umask: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bcl-files-staged-'));
  umask = process.umask(0o077);
});
afterEach(() => {
  process.umask(umask);
  rmSync(dir, {recursive: true, force: true});
});

const mode = (file: string) => statSync(file).mode & 0o777;

describe('writeNewFileSync', () => {
  it('creates the file with exactly its mode, whatever the umask', () => {
    writeNewFileSync(join(dir, 'public.pem'), 'PUBLIC', 0o644);
    expect(mode(join(dir, 'public.pem'))).toBe(0o644);
    expect(readFileSync(join(dir, 'public.pem'), 'utf8')).toBe('PUBLIC');
  });

  it('never writes into something already there, a link least of all', () => {
    writeFileSync(join(dir, 'target'), 'theirs');
    symlinkSync(join(dir, 'target'), join(dir, 'link'));
    expect(() => writeNewFileSync(join(dir, 'link'), 'mine', 0o600)).toThrow(/EEXIST/);
    expect(() => writeNewFileSync(join(dir, 'target'), 'mine', 0o600)).toThrow(/EEXIST/);
    expect(readFileSync(join(dir, 'target'), 'utf8')).toBe('theirs');
  });
});

describe('StagedDirectory', () => {
  it('is private and hidden while it is built, then appears whole at its place', () => {
    const parent = join(dir, 'credentials');
    const stage = StagedDirectory.create(parent);
    try {
      expect(readdirSync(parent)).toEqual([expect.stringMatching(/^\.partial-[0-9a-f]{12}$/)]);
      expect(mode(stage.path)).toBe(0o700);
      stage.write('key.pem', 'PRIVATE', 0o600);
      stage.write('cert.pem', 'CERT', 0o644);
      expect(existsSync(join(parent, 'abc'))).toBe(false);
      stage.publish(join(parent, 'abc'));
    } finally {
      stage.discard();
    }
    expect(readdirSync(parent)).toEqual(['abc']);
    expect(readdirSync(join(parent, 'abc')).sort()).toEqual(['cert.pem', 'key.pem']);
    expect(mode(join(parent, 'abc', 'key.pem'))).toBe(0o600);
    expect(mode(join(parent, 'abc', 'cert.pem'))).toBe(0o644);
  });

  it('leaves nothing when it is not published', () => {
    const stage = StagedDirectory.create(dir);
    try {
      stage.write('key.pem', 'PRIVATE', 0o600);
    } finally {
      stage.discard();
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a name with directories in it, and a place that is taken', () => {
    mkdirSync(join(dir, 'taken'));
    writeFileSync(join(dir, 'taken', 'old'), 'old');
    const stage = StagedDirectory.create(dir);
    try {
      expect(() => stage.write('../escape', 'x', 0o644)).toThrow(/without directories/);
      expect(() => stage.publish(join(dir, 'taken'))).toThrow(/ENOTEMPTY|EEXIST/);
      expect(() => stage.publish(join(tmpdir(), 'elsewhere'))).toThrow(/not beside/);
    } finally {
      stage.discard();
    }
    expect(readdirSync(dir)).toEqual(['taken']);
    expect(readFileSync(join(dir, 'taken', 'old'), 'utf8')).toBe('old');
  });

  it('removes what a killed process left staged a day ago, not what another is building now', () => {
    const old = StagedDirectory.create(dir);
    old.write('key.pem', 'PRIVATE', 0o600);
    const recent = StagedDirectory.create(dir);
    const dayAgo = (Date.now() - 86_400_000 - 60_000) / 1000;
    utimesSync(old.path, dayAgo, dayAgo);
    mkdirSync(join(dir, 'abc'));
    utimesSync(join(dir, 'abc'), dayAgo, dayAgo);
    const next = StagedDirectory.create(dir);
    try {
      expect(existsSync(old.path)).toBe(false);
      expect(existsSync(recent.path)).toBe(true);
      expect(existsSync(join(dir, 'abc'))).toBe(true);
    } finally {
      next.discard();
      recent.discard();
    }
  });
});
