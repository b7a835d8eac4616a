import {chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {FileSafetyError} from './errors.js';
import {checkSecretTarget, writeSecretFile, writeSecretFileSync, writeSecretFilesSync} from './secret.js';

let dir: string;
let umask: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bcl-files-secret-'));
  // The loosest umask: a secret is 0600 anyway.
  umask = process.umask(0);
});
afterEach(() => {
  process.umask(umask);
  rmSync(dir, {recursive: true, force: true});
});

function refusal(fn: () => unknown): FileSafetyError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(FileSafetyError);
    return error as FileSafetyError;
  }
  throw new Error('expected a refusal');
}

const mode = (file: string) => statSync(file).mode & 0o777;

describe('writeSecretFile', () => {
  it('creates a new file 0600 (or 0400 when asked) and leaves no temporary file', async () => {
    writeSecretFileSync(join(dir, 'key.pem'), 'PRIVATE');
    await writeSecretFile(join(dir, 'token'), Buffer.from('t0k3n'), {mode: 0o400});
    expect(mode(join(dir, 'key.pem'))).toBe(0o600);
    expect(mode(join(dir, 'token'))).toBe(0o400);
    expect(readFileSync(join(dir, 'key.pem'), 'utf8')).toBe('PRIVATE');
    expect(readdirSync(dir).sort()).toEqual(['key.pem', 'token']);
  });

  it('replaces an existing 0600 (or narrower) file of the user with a new 0600 inode', () => {
    const file = join(dir, 'key.pem');
    writeFileSync(file, 'OLD', {mode: 0o400});
    writeSecretFileSync(file, 'NEW');
    expect(readFileSync(file, 'utf8')).toBe('NEW');
    expect(mode(file)).toBe(0o600);
  });

  it('refuses an existing file the group or others can read, and leaves it as it was', () => {
    const file = join(dir, 'ca.key');
    writeFileSync(file, 'OLD');
    chmodSync(file, 0o644);
    const e = refusal(() => writeSecretFileSync(file, 'NEW'));
    expect(e).toMatchObject({problem: 'too_open', path: file, mode: 0o644});
    expect(e.message).toBe(`${file} exists with mode 0644, readable or writable by other users; a secret is not written into it`);
    expect(e.hint).toContain(`chmod 600 ${file}`);
    expect(readFileSync(file, 'utf8')).toBe('OLD');
    expect(mode(file)).toBe(0o644);
    chmodSync(file, 0o620);
    expect(refusal(() => writeSecretFileSync(file, 'NEW')).problem).toBe('too_open');
  });

  it('refuses a symlink to a file, and a dangling symlink, creating nothing at its target', () => {
    const target = join(dir, 'elsewhere.pem');
    writeFileSync(target, 'THEIRS', {mode: 0o600});
    symlinkSync(target, join(dir, 'link.pem'));
    expect(refusal(() => writeSecretFileSync(join(dir, 'link.pem'), 'NEW')).problem).toBe('symlink');
    expect(readFileSync(target, 'utf8')).toBe('THEIRS');
    symlinkSync(join(dir, 'not-yet.pem'), join(dir, 'dangling.pem'));
    const e = refusal(() => writeSecretFileSync(join(dir, 'dangling.pem'), 'NEW'));
    expect(e.problem).toBe('symlink');
    expect(e.message).toContain('is a symbolic link');
    expect(existsSync(join(dir, 'not-yet.pem'))).toBe(false);
    expect(lstatSync(join(dir, 'dangling.pem')).isSymbolicLink()).toBe(true);
  });

  it('refuses a directory, an existing file with overwrite: false, and a mode for the group or others', () => {
    mkdirSync(join(dir, 'sub'));
    expect(refusal(() => writeSecretFileSync(join(dir, 'sub'), 'x')).problem).toBe('not_regular');
    writeFileSync(join(dir, 'kept'), 'K', {mode: 0o600});
    expect(refusal(() => writeSecretFileSync(join(dir, 'kept'), 'x', {overwrite: false})).problem).toBe('exists');
    expect(readFileSync(join(dir, 'kept'), 'utf8')).toBe('K');
    expect(() => writeSecretFileSync(join(dir, 'open'), 'x', {mode: 0o640})).toThrow(TypeError);
    expect(existsSync(join(dir, 'open'))).toBe(false);
  });

  it("refuses another user's file", () => {
    const file = join(dir, 'theirs');
    writeFileSync(file, 'T', {mode: 0o600});
    // As root the file is given away; as anyone else, root's own /etc/passwd is another user's file.
    const target = process.getuid?.() === 0 ? (chownSync(file, 65534, 65534), file) : '/etc/passwd';
    expect(refusal(() => checkSecretTarget(target)).problem).toBe('not_owner');
  });
});

describe('writeSecretFilesSync', () => {
  it('replaces a set of secrets together, each 0600, leaving no temporary file', () => {
    writeSecretFileSync(join(dir, 'id'), 'old key');
    writeSecretFileSync(join(dir, 'id-cert.pub'), 'old cert');
    writeSecretFilesSync([
      {path: join(dir, 'id'), data: 'new key'},
      {path: join(dir, 'id-cert.pub'), data: 'new cert'},
    ]);
    expect(readFileSync(join(dir, 'id'), 'utf8')).toBe('new key');
    expect(readFileSync(join(dir, 'id-cert.pub'), 'utf8')).toBe('new cert');
    expect(mode(join(dir, 'id'))).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['id', 'id-cert.pub']);
  });

  it('checks every target before it writes any: one refused, none replaced', () => {
    writeSecretFileSync(join(dir, 'id'), 'old key');
    writeFileSync(join(dir, 'elsewhere'), 'theirs');
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'id-cert.pub'));
    expect(refusal(() => writeSecretFilesSync([
      {path: join(dir, 'id'), data: 'new key'},
      {path: join(dir, 'id-cert.pub'), data: 'new cert'},
    ])).problem).toBe('symlink');
    expect(readFileSync(join(dir, 'id'), 'utf8')).toBe('old key');
    expect(readFileSync(join(dir, 'elsewhere'), 'utf8')).toBe('theirs');
    expect(readdirSync(dir).sort()).toEqual(['elsewhere', 'id', 'id-cert.pub']);
  });

  it('writes one directory at a time', () => {
    mkdirSync(join(dir, 'b'));
    expect(() => writeSecretFilesSync([{path: join(dir, 'a'), data: 'x'}, {path: join(dir, 'b', 'c'), data: 'y'}])).toThrow(/one directory/);
    expect(readdirSync(dir)).toEqual(['b']);
  });
});
