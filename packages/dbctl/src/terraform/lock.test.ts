import {spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {hostname, tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {acquireLock, FileLockStore, type LockInfo, type LockStore} from './lock.js';

const dir = mkdtempSync(join(tmpdir(), 'dbctl-lock-'));
afterAll(() => rmSync(dir, {recursive: true, force: true}));
const options = {instance: 'shop', operation: 'provision', info: 'shop (db.yaml)', version: '0.1.0', timeoutLabel: '--lock-timeout'};

/** A store whose holder is given, to check the waiting and the messages without a clock. */
function heldBy(lock: LockInfo | undefined, alive: boolean, freeAfter = Infinity): LockStore & {attempts: number} {
  const store = {
    attempts: 0,
    async tryAcquire(info: LockInfo) {
      store.attempts++;
      if (store.attempts > freeAfter) return {held: {info, release: async () => undefined}};
      return {holder: lock, alive};
    },
    holder: async () => (lock ? {lock, alive} : undefined),
    forceRelease: async () => undefined,
    close: async () => undefined,
  };
  return store;
}

const alice: LockInfo = {id: '6f1c7d0a-1111-4a51-9a0e-4b1c2a9d7f10', path: 'pg schema dbctl_shop', operation: 'provision', who: 'alice@laptop', version: '0.1.0', created: '2026-12-01T08:00:00.000Z', info: 'shop (db.yaml)'};

describe("dbctl's instance lock", () => {
  it('waits while a live run holds it, then exits 6 naming the holder and since when', async () => {
    let t = Date.parse('2026-12-01T09:00:00Z');
    const sleeps: number[] = [];
    const store = heldBy(alice, true);
    const error = await acquireLock(store, {...options, timeoutMs: 1200, now: () => new Date(t), sleep: async (ms) => void (sleeps.push(ms), (t += ms))}).catch((e) => e);
    expect(sleeps).toEqual([500, 500, 200]);
    expect(error).toMatchObject({code: 'dbctl.state_locked', exitCode: 6});
    expect(error.message).toBe('shop is locked by alice@laptop (provision, since 2026-12-01T08:00:00.000Z, lock id 6f1c7d0a-1111-4a51-9a0e-4b1c2a9d7f10); waited 1s');
    expect(store.attempts).toBeGreaterThan(1);
  });

  it('takes it once the holder is done', async () => {
    const store = heldBy(alice, true, 2);
    const held = await acquireLock(store, {...options, timeoutMs: 60_000, sleep: async () => undefined});
    expect(held.info).toMatchObject({operation: 'provision', version: '0.1.0', pid: process.pid, host: hostname()});
  });

  it('reports a lock whose holder is gone at once, with the unlock command', async () => {
    const store = heldBy(alice, false);
    const error = await acquireLock(store, {...options, timeoutMs: 60_000, sleep: async () => undefined}).catch((e) => e);
    expect(store.attempts).toBe(1);
    expect(error).toMatchObject({code: 'dbctl.lock_stale', exitCode: 6, hint: expect.stringContaining('dbctl unlock shop --lock-id 6f1c7d0a-1111-4a51-9a0e-4b1c2a9d7f10')});
  });

  it('file lock: one holder at a time (0600), a dead holder on this host is stale, release removes only its own', async () => {
    const file = join(dir, 'a', 'dbctl.lock');
    const first = await acquireLock(new FileLockStore(file), {...options, timeoutMs: 0});
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await expect(acquireLock(new FileLockStore(file), {...options, timeoutMs: 0})).rejects.toMatchObject({code: 'dbctl.state_locked'});
    await first.release();
    // a holder that died: a real process of this host that has exited
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(file, JSON.stringify({...alice, path: file, pid: Number(dead), host: hostname()}));
    await expect(acquireLock(new FileLockStore(file), {...options, timeoutMs: 0})).rejects.toMatchObject({code: 'dbctl.lock_stale'});
    await new FileLockStore(file).forceRelease('another-id');
    expect(JSON.parse(readFileSync(file, 'utf8')).id).toBe(alice.id);
    await new FileLockStore(file).forceRelease(alice.id);
    await acquireLock(new FileLockStore(file), {...options, timeoutMs: 0});
  });
});
