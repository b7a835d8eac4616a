import {chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {writeFileAtomic, writeFileAtomicSync} from './atomic.js';

let dir: string;
let umask: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bcl-files-atomic-'));
  // A strict umask: the explicit mode must win anyway.
  umask = process.umask(0o077);
});
afterEach(() => {
  process.umask(umask);
  rmSync(dir, {recursive: true, force: true});
});

const mode = (file: string) => statSync(file).mode & 0o777;

describe('writeFileAtomic', () => {
  it('creates the file with exactly the mode asked, whatever the umask, and leaves no temporary file', async () => {
    writeFileAtomicSync(join(dir, 'a.json'), '{"a":1}\n', {mode: 0o644});
    await writeFileAtomic(join(dir, 'b.sh'), Buffer.from('#!/bin/sh\n'), {mode: 0o755});
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe('{"a":1}\n');
    expect(mode(join(dir, 'a.json'))).toBe(0o644);
    expect(mode(join(dir, 'b.sh'))).toBe(0o755);
    expect(readdirSync(dir).sort()).toEqual(['a.json', 'b.sh']);
  });

  it('replaces an existing file with a new inode carrying the new mode, not the old one', () => {
    const file = join(dir, 'state.json');
    writeFileSync(file, 'old');
    chmodSync(file, 0o666);
    const before = statSync(file).ino;
    writeFileAtomicSync(file, 'new', {mode: 0o640});
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(mode(file)).toBe(0o640);
    expect(statSync(file).ino).not.toBe(before);
  });

  it('writes through a symlink to its target, as an editor does', () => {
    const target = join(dir, 'real.yaml');
    writeFileSync(target, 'a: 1\n');
    symlinkSync('real.yaml', join(dir, 'link.yaml'));
    writeFileAtomicSync(join(dir, 'link.yaml'), 'a: 2\n', {mode: 0o644});
    expect(lstatSync(join(dir, 'link.yaml')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'link.yaml'))).toBe('real.yaml');
    expect(readFileSync(target, 'utf8')).toBe('a: 2\n');
  });

  it('fails without leaving anything when the directory does not exist, and refuses a mode that is not permission bits', () => {
    expect(() => writeFileAtomicSync(join(dir, 'missing', 'x'), 'x', {mode: 0o644})).toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual([]);
    expect(() => writeFileAtomicSync(join(dir, 'x'), 'x', {mode: 0o10000})).toThrow(TypeError);
  });
});
