import {execFileSync} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync} from 'node:fs';
import {hostname, tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {LockHeldError} from './errors.js';
import {acquireFileLock, readLockHolder, withFileLock} from './lock.js';

let dir: string;
let lockFile: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bcl-files-lock-'));
  lockFile = join(dir, '.lock');
});
afterEach(() => rmSync(dir, {recursive: true, force: true}));

/** The pid of a process that has exited. */
const deadPid = () => Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).toString());

function lockRecord(fields: {pid: number; host?: string; since?: string; token?: string}): string {
  return `${JSON.stringify({host: hostname(), since: new Date().toISOString(), token: 'ab'.repeat(8), ...fields})}\n`;
}

async function held(promise: Promise<unknown>): Promise<LockHeldError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(LockHeldError);
    return error as LockHeldError;
  }
  throw new Error('expected the lock to be held');
}

describe('file lock', () => {
  it('names its holder, refuses a second taker at once, and is free again after release', async () => {
    const lock = await acquireFileLock(lockFile);
    expect(lock.holder).toMatchObject({pid: process.pid, host: hostname()});
    expect(readLockHolder(lockFile)).toEqual(lock.holder);
    const e = await held(acquireFileLock(lockFile));
    expect(e.holder).toEqual(lock.holder);
    expect(e.message).toBe(`${lockFile} is held by pid ${process.pid} on ${hostname()} since ${lock.holder.since}`);
    lock.release();
    lock.release();
    expect(existsSync(lockFile)).toBe(false);
    await withFileLock(lockFile, () => expect(existsSync(lockFile)).toBe(true));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('waits up to timeoutMs for a live holder, and a signal stops the wait at once', async () => {
    const first = await acquireFileLock(lockFile);
    setTimeout(() => first.release(), 150);
    const second = await acquireFileLock(lockFile, {timeoutMs: 10_000});
    expect(second.lost).toBe(false);
    const controller = new AbortController();
    const waiting = acquireFileLock(lockFile, {timeoutMs: 60_000, signal: controller.signal});
    setTimeout(() => controller.abort(new Error('stopped by the user')), 50);
    await expect(waiting).rejects.toThrow('stopped by the user');
    second.release();
  });

  it('takes over the lock of a process of this machine that is gone, also in the old bare-pid form', async () => {
    writeFileSync(lockFile, lockRecord({pid: deadPid()}));
    (await acquireFileLock(lockFile)).release();
    writeFileSync(lockFile, `${deadPid()}\n`);
    (await acquireFileLock(lockFile)).release();
    // The old form with a live pid is still a holder.
    writeFileSync(lockFile, `${process.pid}\n`);
    expect((await held(acquireFileLock(lockFile))).holder?.pid).toBe(process.pid);
    // pkictl's old lock: a directory holding "pid".
    rmSync(lockFile);
    mkdirSync(lockFile);
    writeFileSync(join(lockFile, 'pid'), String(deadPid()));
    (await acquireFileLock(lockFile)).release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('waits, without blocking its event loop, while another contender takes a stale lock over', async () => {
    // A dead holder, and a live contender's claim on taking it over (this process's pid).
    const token = 'cd'.repeat(8);
    writeFileSync(lockFile, lockRecord({pid: deadPid(), token}));
    const claim = `${lockFile}.takeover-${token}-1`;
    writeFileSync(claim, lockRecord({pid: process.pid, token: 'ef'.repeat(8)}));
    // The contender finishes (its claim goes) 100 ms from now: a timer of this event loop.
    let claimGone = 0;
    setTimeout(() => {
      rmSync(claim);
      claimGone = performance.now();
    }, 100);
    const started = performance.now();
    // staleMs 2 s: a loop that kept the timer from running would only get the lock once the
    // claim itself had aged stale, 2 s from now.
    const lock = await acquireFileLock(lockFile, {staleMs: 2000});
    const took = performance.now();
    lock.release();
    expect(claimGone).toBeGreaterThan(0);
    expect(took).toBeGreaterThanOrEqual(claimGone);
    expect(took - started).toBeLessThan(1500);
  });

  it('a holder on another machine is stale only once its file has not been refreshed for staleMs', async () => {
    writeFileSync(lockFile, lockRecord({pid: 1, host: 'other-host'}));
    expect((await held(acquireFileLock(lockFile, {staleMs: 5_000}))).holder?.host).toBe('other-host');
    const old = new Date(Date.now() - 10_000);
    utimesSync(lockFile, old, old);
    (await acquireFileLock(lockFile, {staleMs: 5_000})).release();
  });

  it('keeps its file fresh while held, so it is never judged stale by age', async () => {
    const lock = await acquireFileLock(lockFile, {staleMs: 1_000});
    await new Promise((r) => setTimeout(r, 1_600));
    expect((await held(acquireFileLock(lockFile, {staleMs: 1_000}))).holder?.pid).toBe(process.pid);
    lock.release();
  });

  it('knows when it was taken over, and then never removes the new holder', async () => {
    const lock = await acquireFileLock(lockFile, {staleMs: 1_000});
    rmSync(lockFile);
    writeFileSync(lockFile, lockRecord({pid: process.pid, token: 'cd'.repeat(8)}));
    await new Promise((r) => setTimeout(r, 600));
    expect(lock.lost).toBe(true);
    lock.release();
    expect(JSON.parse(readFileSync(lockFile, 'utf8')).token).toBe('cd'.repeat(8));
  });
});
