import {type ChildProcess, execFileSync, spawn} from 'node:child_process';
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {hostname, tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {acquireFileLock, LockHeldError} from '../src/index.js';

// Several real processes on one lock file (test/locker.mjs runs the built package).
const locker = fileURLToPath(new URL('./locker.mjs', import.meta.url));
let dir: string;
const children: ChildProcess[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bcl-files-procs-'));
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  rmSync(dir, {recursive: true, force: true});
});

function start(job: Record<string, unknown>): {child: ChildProcess; exited: Promise<{code: number | null; stderr: string}>; stdout: () => string} {
  const child = spawn(process.execPath, [locker, JSON.stringify(job)], {stdio: ['ignore', 'pipe', 'pipe']});
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<{code: number | null; stderr: string}>((resolve) => child.on('close', (code) => resolve({code, stderr: err})));
  return {child, exited, stdout: () => out};
}

async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const deadPid = () => Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).toString());

describe('one lock, several processes', () => {
  it('serialises concurrent lockers: no two inside at once, no update lost', async () => {
    const lock = join(dir, 'counter.lock');
    const counter = join(dir, 'counter');
    writeFileSync(counter, '0');
    const workers = Array.from({length: 4}, () => start({mode: 'count', lock, counter, inside: join(dir, 'inside'), times: 25}));
    const results = await Promise.all(workers.map((w) => w.exited));
    for (const r of results) expect(r, r.stderr).toMatchObject({code: 0});
    expect(readFileSync(counter, 'utf8')).toBe('100');
    expect(readdirSync(dir).sort()).toEqual(['counter']);
  });

  it('a stale lock met by several contenders at the same instant has exactly one new holder, every time', async () => {
    const lock = join(dir, 'stale.lock');
    const rounds = 20;
    const contenders = 4;
    const procs = Array.from({length: contenders}, (_, id) => start({mode: 'contend', lock, dir, rounds, id}));
    const dead = deadPid();
    for (let round = 0; round < rounds; round++) {
      // Each round starts from the lock of a process that died holding it (a kill -9).
      writeFileSync(lock, `${JSON.stringify({pid: dead, host: hostname(), since: new Date().toISOString(), token: round.toString(16).padStart(16, '0')})}\n`);
      writeFileSync(join(dir, `go-${round}`), String(Date.now() + 150));
      const outcomes = await until(`round ${round}`, () => {
        const files = Array.from({length: contenders}, (_, id) => join(dir, `result-${round}-${id}`));
        return files.every((f) => existsSync(f)) ? files.map((f) => readFileSync(f, 'utf8')) : undefined;
      });
      expect(outcomes.filter((o) => o === 'won'), `round ${round}: ${outcomes.join(', ')}`).toHaveLength(1);
      expect(outcomes.filter((o) => o === "held"), outcomes.join(", ")).toHaveLength(contenders - 1);
      writeFileSync(join(dir, `release-${round}`), '');
      await until(`the round ${round} winner to release`, () => !existsSync(lock));
    }
    for (const p of procs) expect((await p.exited).code).toBe(0);
    // No claim or temporary file is left behind.
    expect(readdirSync(dir).filter((f) => f.startsWith('stale.lock'))).toEqual([]);
  });

  it('after kill -9 of the holder, the next taker gets the lock at once', async () => {
    const lock = join(dir, 'held.lock');
    const holder = start({mode: 'hold', lock});
    await until('the holder', () => holder.stdout().includes('locked'));
    const e = await acquireFileLock(lock).catch((error: unknown) => error);
    expect(e).toBeInstanceOf(LockHeldError);
    expect((e as LockHeldError).holder).toMatchObject({pid: holder.child.pid, host: hostname()});
    holder.child.kill('SIGKILL');
    await holder.exited;
    const taken = await acquireFileLock(lock, {timeoutMs: 0});
    expect(taken.holder.pid).toBe(process.pid);
    taken.release();
    expect(readdirSync(dir)).toEqual([]);
  });
});
