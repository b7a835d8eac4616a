import {mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {issue, type Person, type Pki, setupPki} from './support.js';

// A store on a local path whose tip the working clone already has is read without starting git;
// anything else (a new commit in the store, a clone left half-changed) is fetched as before.
let pki: Pki;
let ann: Person;
let noGit: Record<string, string>;
beforeAll(async () => {
  pki = await setupPki();
  ann = pki.person('ann@example.com');
  await issue(pki, ann);
  // A PATH where only node is found (the launcher's), so a started git would fail the command.
  const bin = join(pki.dir, 'bin-without-git');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  noGit = {PATH: `${bin}:${dirname(process.execPath)}`};
});
afterAll(() => pki.remove());

describe('pkictl list on a store on a local path', () => {
  it('reads the working clone without git while it is the store tip', async () => {
    expect((await ann.pk(['list'])).exitCode).toBe(0);
    const res = await ann.pk(['list'], noGit);
    expect(res.exitCode, res.stdout).toBe(0);
    expect((res.json().result as {email: string}[]).map((c) => c.email)).toEqual(['ann@example.com']);
  });

  it('fetches once the store has moved on', async () => {
    const bob = pki.person('bob@example.com');
    await issue(pki, bob);
    // Without git, the moved store cannot be read: the command says so instead of listing old data.
    expect((await ann.pk(['list'], noGit)).exitCode).not.toBe(0);
    const res = await ann.pk(['list']);
    expect((res.json().result as {email: string}[]).map((c) => c.email).sort()).toEqual(['ann@example.com', 'bob@example.com']);
  });

  it('syncs a working clone whose last sync did not finish', async () => {
    expect((await ann.pk(['list'])).exitCode).toBe(0);
    const stores = join(ann.home.xdg.cache, 'bcl', 'pkictl', 'stores');
    const clone = join(stores, readdirSync(stores).find((n) => !n.includes('.'))!);
    // As an interrupted change leaves it: a file in the clone, and no mark of a finished sync.
    writeFileSync(join(clone, 'inventory.json'), '{}');
    rmSync(`${clone}.synced`);
    expect((await ann.pk(['list'], noGit)).exitCode).not.toBe(0);
    const res = await ann.pk(['list']);
    expect(res.exitCode, res.stdout).toBe(0);
    expect((res.json().result as unknown[]).length).toBe(2);
  });
});
