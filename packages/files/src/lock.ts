import {randomBytes} from 'node:crypto';
import {closeSync, linkSync, lstatSync, openSync, readdirSync, readFileSync, rmSync, statSync, type Stats, unlinkSync, utimesSync, writeSync} from 'node:fs';
import {hostname, uptime} from 'node:os';
import {basename, dirname, join} from 'node:path';
import {describeHolder, LockHeldError, type LockHolder} from './errors.js';

export interface FileLockOptions {
  /**
   * A lock whose file was not refreshed for this long is stale (default 30 s). The holder
   * refreshes it four times per period; a holder on this machine whose process is gone is stale
   * at once, whatever the age.
   */
  staleMs?: number;
  /** How long to wait for a live holder (default 0: fail at once with LockHeldError). */
  timeoutMs?: number;
  /** Stops the wait: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface FileLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** True once another process took the lock over (this one was judged stale). */
  readonly lost: boolean;
  /** Removes the lock file if it is still ours; idempotent. */
  release(): void;
}

interface LockRecord extends LockHolder {
  token: string;
}

/** What is at a lock (or claim) path now. */
interface Seen {
  record: LockRecord | undefined;
  /** The holder, also for a lock written by an older version (a bare pid). */
  holder: LockHolder | undefined;
  /** Stable identity of this holding: the token, else the inode and mtime. */
  id: string;
  mtimeMs: number;
}

const DEFAULT_STALE_MS = 30_000;
const MAX_CLAIMS = 8;

/**
 * Takes the lock file at `path` (its directory must exist). The file holds the holder's pid,
 * host, start time and a random token, and is created complete, by link(2) of a temporary file,
 * so nobody ever reads half of it.
 *
 * A stale holder (see FileLockOptions.staleMs) is taken over without the race of
 * "check, remove, create": to remove the lock of holder T, a contender must first create the
 * claim file `<path>.takeover-<T's token>-1` exclusively; only that winner re-reads the lock,
 * and removes it only if it still holds T. A lock removed once is never T's again, so a late
 * contender that wins a claim later finds another token and backs off. A claimant that died
 * holding its claim is itself judged by the same rule, and the next claim number is tried.
 */
export async function acquireFileLock(path: string, options: FileLockOptions = {}): Promise<FileLock> {
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const started = Date.now();
  const me: LockRecord = {pid: process.pid, host: hostname(), since: '', token: randomBytes(8).toString('hex')};
  for (let round = 0; ; round++) {
    options.signal?.throwIfAborted();
    me.since = new Date().toISOString();
    if (createExclusive(path, me)) return held(path, me, staleMs);
    const seen = inspect(path);
    if (!seen) continue;
    if (isStale(seen, staleMs)) {
      // Lost to another contender taking it over: a moment for it to finish, not a busy loop
      // that would keep its process (and this one's event loop) from running.
      if (!takeOver(path, seen, me, staleMs)) await pause(5 + Math.random() * 20, options.signal);
      continue;
    }
    const waited = Date.now() - started;
    if (waited >= (options.timeoutMs ?? 0)) throw new LockHeldError(path, seen.holder, waited);
    await pause(Math.min(25 * 2 ** Math.min(round, 3), 200) * (0.5 + Math.random()), options.signal);
  }
}

/** Runs `fn` holding the lock at `path`, and releases it however `fn` ends. */
export async function withFileLock<T>(path: string, fn: (lock: FileLock) => Promise<T> | T, options: FileLockOptions = {}): Promise<T> {
  const lock = await acquireFileLock(path, options);
  try {
    return await fn(lock);
  } finally {
    lock.release();
  }
}

/** Who holds the lock at `path` now, if anyone (also a stale holder). */
export function readLockHolder(path: string): LockHolder | undefined {
  return inspect(path)?.holder;
}

/** Creates `path` holding `record`, complete, or returns false when something is there. */
function createExclusive(path: string, record: LockRecord): boolean {
  const tmp = `${path}.${record.token}.new`;
  writeNew(tmp, record);
  try {
    linkSync(tmp, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // No hard links here (some network and FUSE filesystems): an exclusive create instead.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EXDEV') return writeNew(path, record, false);
    throw error;
  } finally {
    rmSync(tmp, {force: true});
  }
}

/** Writes `record` to a file that must not exist; false when it does (only with `mustSucceed` false). */
function writeNew(file: string, record: LockRecord, mustSucceed = true): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (error) {
    if (!mustSucceed && (error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, `${JSON.stringify(record)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

function inspect(path: string): Seen | undefined {
  let stat: Stats | undefined;
  let text = '';
  try {
    stat = lstatSync(path);
    if (stat.isFile()) text = readFileSync(path, 'utf8');
    // Older versions of pkictl locked with a directory holding a file "pid".
    else if (stat.isDirectory()) text = readFileSync(join(path, 'pid'), 'utf8');
  } catch (error) {
    if (stat && (error as NodeJS.ErrnoException).code === 'ENOENT') return inspectStat(stat, '');
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return inspectStat(stat, text);
}

function inspectStat(stat: Stats, text: string): Seen {
  const record = parseRecord(text);
  // A lock written by an older version: the pid alone, on this machine.
  const legacyPid = record ? undefined : /^\s*(\d+)\s*$/.exec(text)?.[1];
  const holder: LockHolder | undefined = record
    ? {pid: record.pid, host: record.host, since: record.since}
    : legacyPid
      ? {pid: Number(legacyPid), host: hostname(), since: new Date(stat.mtimeMs).toISOString()}
      : undefined;
  return {record, holder, id: record?.token ?? `i${stat.ino}-${stat.mtimeMs}`, mtimeMs: stat.mtimeMs};
}

function parseRecord(text: string): LockRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockRecord>;
    if (Number.isInteger(value.pid) && typeof value.host === 'string' && typeof value.since === 'string' && typeof value.token === 'string' && /^[0-9a-f]{16}$/.test(value.token)) {
      return value as LockRecord;
    }
  } catch {
    // Not a record (being written, or written by something else).
  }
  return undefined;
}

/**
 * Stale: a holder on this machine whose process is gone or that started before the machine's
 * last boot (its pid may have been reused), or a file not refreshed for `staleMs` (a holder on
 * another machine sharing the filesystem, or one that hangs).
 */
function isStale(seen: Seen, staleMs: number): boolean {
  const h = seen.holder;
  if (h && h.host === hostname()) {
    if (!processAlive(h.pid)) return true;
    const bootMs = Date.now() - uptime() * 1000;
    if (Date.parse(h.since) < bootMs - 60_000) return true;
  }
  return Date.now() - seen.mtimeMs > staleMs;
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the lock of the stale holding `stale` if this process wins the right to (then true); see acquireFileLock. */
function takeOver(path: string, stale: Seen, me: LockRecord, staleMs: number): boolean {
  const claim = (n: number) => `${path}.takeover-${stale.id}-${n}`;
  let won = 0;
  for (let n = 1; n <= MAX_CLAIMS && won === 0; n++) {
    if (writeNew(claim(n), me, false)) {
      won = n;
      break;
    }
    const other = inspect(claim(n));
    // A live contender is taking it over (or has just done so): let it, and look again.
    if (!other || !isStale(other, staleMs)) return false;
  }
  if (won === 0) return false;
  try {
    if (inspect(path)?.id === stale.id) rmSync(path, {recursive: true, force: true});
  } finally {
    // The lock is no longer `stale`'s, so these claims can never matter again.
    for (let n = 1; n <= won; n++) rmSync(claim(n), {force: true});
  }
  return true;
}

function held(path: string, me: LockRecord, staleMs: number): FileLock {
  let released = false;
  let lost = false;
  const ours = () => inspect(path)?.id === me.token;
  const timer = setInterval(
    () => {
      try {
        if (!ours()) {
          lost = true;
          clearInterval(timer);
          return;
        }
        const now = new Date();
        utimesSync(path, now, now);
      } catch {
        // A failed refresh is retried at the next tick; the lock goes stale only after staleMs.
      }
    },
    Math.max(250, Math.floor(staleMs / 4)),
  );
  timer.unref();
  sweepLeftovers(path);
  return {
    path,
    holder: {pid: me.pid, host: me.host, since: me.since},
    get lost() {
      return lost;
    },
    release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      try {
        if (ours()) unlinkSync(path);
      } catch {
        // Gone already.
      }
    },
  };
}

/**
 * Once the lock is ours, claims and temporary files of earlier holders are garbage: a claim
 * names a token that can never be at `path` again. Old ones only, so a contender's file in use
 * this very moment is left alone.
 */
function sweepLeftovers(path: string): void {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  try {
    for (const name of readdirSync(dir)) {
      if (!name.startsWith(prefix) || !/\.new$|\.takeover-/.test(name)) continue;
      const file = join(dir, name);
      try {
        if (Date.now() - statSync(file).mtimeMs > 60_000) rmSync(file, {force: true});
      } catch {
        // Removed meanwhile.
      }
    }
  } catch {
    // An unreadable directory only keeps the leftovers.
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener('abort', abort, {once: true});
  });
}


