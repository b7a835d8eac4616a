import {mkdirSync, readdirSync, rmSync, statSync} from 'node:fs';
import {type FileHandle, open, readFile} from 'node:fs/promises';
import {dirname} from 'node:path';
import {type AuditEntry, type AuditRecord, chainEntry, entryLine, type Verification, verifyEntries} from './chain.js';

/**
 * The single-node variant: the same hash-chained entries as JSON lines in one file, appended
 * and fsynced before `append` resolves. Writers in several processes take turns through a lock
 * directory beside the file, and each reads the last entry under the lock, so the chain stays
 * linear.
 */
export class FileAuditLog {
  readonly #now: () => Date;
  constructor(
    readonly path: string,
    options: {now?: () => Date; stream?: {write(line: string): unknown}; lockTimeoutMs?: number} = {},
  ) {
    this.#now = options.now ?? (() => new Date());
    this.#stream = options.stream;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
    mkdirSync(dirname(path), {recursive: true});
  }
  readonly #stream: {write(line: string): unknown} | undefined;
  readonly #lockTimeoutMs: number;
  #queue: Promise<unknown> = Promise.resolve();

  append(record: AuditRecord): Promise<AuditEntry> {
    const run = this.#queue.then(() => this.#withLock(() => this.#append(record)));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #append(record: AuditRecord): Promise<AuditEntry> {
    const fh = await open(this.path, 'a+', 0o640);
    try {
      const last = await lastLine(fh);
      const head = last ? (JSON.parse(last) as AuditEntry) : undefined;
      const entry = chainEntry(record, head ? {seq: head.seq, hash: head.hash} : undefined, this.#now());
      const line = `${entryLine(entry)}\n`;
      await fh.appendFile(line);
      await fh.datasync();
      this.#stream?.write(line);
      return entry;
    } finally {
      await fh.close();
    }
  }

  async verify(options: {expectedHead?: string} = {}): Promise<Verification> {
    let text = '';
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const lines = text.split('\n').filter((l) => l !== '');
    return verifyEntries(
      lines.map((line, i) => {
        let seq = i + 1;
        try {
          seq = (JSON.parse(line) as AuditEntry).seq;
        } catch {
          // verifyEntries reports it
        }
        return {seq, line};
      }),
      options,
    );
  }

  /**
   * A lock directory (mkdir is atomic), holding the owner's pid; one left by a dead process is
   * taken over. The shared file primitives (withFileLock) replace this once they are in place.
   */
  async #withLock<T>(fn: () => Promise<T>): Promise<T> {
    const lock = `${this.path}.lock`;
    const deadline = Date.now() + this.#lockTimeoutMs;
    for (;;) {
      try {
        mkdirSync(lock);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (lockIsStale(lock)) {
          rmSync(lock, {recursive: true, force: true});
          continue;
        }
        if (Date.now() > deadline) throw new Error(`${this.path}: another process has held the audit log lock (${lock}) for over ${this.#lockTimeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 2 + Math.random() * 8));
      }
    }
    try {
      mkdirSync(`${lock}/${process.pid}`);
      return await fn();
    } finally {
      rmSync(lock, {recursive: true, force: true});
    }
  }
}

/** A lock whose owner is gone (or that never got an owner, and is older than a second). */
function lockIsStale(lock: string): boolean {
  try {
    const owners = readdirSync(lock);
    if (owners.length === 0) return Date.now() - statSync(lock).mtimeMs > 1000;
    const pid = Number(owners[0]);
    try {
      process.kill(pid, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  } catch {
    return false;
  }
}

/** The last non-empty line of the file, read from the end. */
async function lastLine(fh: FileHandle): Promise<string | undefined> {
  const size = (await fh.stat()).size;
  let window = 4096;
  for (;;) {
    const start = Math.max(0, size - window);
    const buffer = Buffer.alloc(size - start);
    await fh.read(buffer, 0, buffer.length, start);
    const text = buffer.toString('utf8').replace(/\n+$/, '');
    const nl = text.lastIndexOf('\n');
    if (nl !== -1) return text.slice(nl + 1);
    if (start === 0) return text === '' ? undefined : text;
    window *= 4;
  }
}
