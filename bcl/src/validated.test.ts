import {chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {fileValidationMemo} from './validated.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bcl-memo-'));
});
afterEach(() => rmSync(dir, {recursive: true, force: true}));

describe('fileValidationMemo', () => {
  it('gives back what was kept for exactly the same input and kind, as a new object, in a later run', () => {
    const file = join(dir, 'svctl-abc@1.json');
    fileValidationMemo(file).set('svctl.service-spec', 'name: a\n', {name: 'a', env: {}});
    const later = fileValidationMemo(file);
    const value = later.get('svctl.service-spec', 'name: a\n') as {name: string};
    expect(value).toEqual({name: 'a', env: {}});
    value.name = 'changed';
    expect(later.get('svctl.service-spec', 'name: a\n')).toEqual({name: 'a', env: {}});
    expect(later.get('svctl.service-spec', 'name: a \n')).toBeUndefined();
    expect(later.get('config.svctl', 'name: a\n')).toBeUndefined();
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('keeps nothing that JSON would change, and only a few inputs per kind', () => {
    const file = join(dir, 'm@1.json');
    const memo = fileValidationMemo(file);
    memo.set('k', 'dated', {at: new Date(0)});
    memo.set('k', 'undefined member', {a: undefined});
    expect(fileValidationMemo(file).get('k', 'dated')).toBeUndefined();
    expect(fileValidationMemo(file).get('k', 'undefined member')).toBeUndefined();
    for (let i = 0; i < 20; i++) memo.set('k', `input ${i}`, {i});
    const again = fileValidationMemo(file);
    expect(again.get('k', 'input 19')).toEqual({i: 19});
    expect(again.get('k', 'input 0')).toBeUndefined();
  });

  it('ignores a file others may write, and replaces the memos of earlier versions of the build', () => {
    const file = join(dir, 'svctl-abc@2.json');
    writeFileSync(join(dir, 'svctl-abc@1.json'), '{"version":1,"entries":{}}', {mode: 0o600});
    writeFileSync(join(dir, 'dbctl-abc@1.json'), '{"version":1,"entries":{}}', {mode: 0o600});
    fileValidationMemo(file).set('k', 'x', {ok: true});
    expect(readdirSync(dir).sort()).toEqual(['dbctl-abc@1.json', 'svctl-abc@2.json']);
    chmodSync(file, 0o666);
    expect(fileValidationMemo(file).get('k', 'x')).toBeUndefined();
    writeFileSync(join(dir, 'broken@1.json'), 'not json', {mode: 0o600});
    expect(fileValidationMemo(join(dir, 'broken@1.json')).get('k', 'x')).toBeUndefined();
    expect(existsSync(file)).toBe(true);
  });
});
