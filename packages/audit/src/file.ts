import {mkdirSync} from 'node:fs';
import {withFileLock} from '@bcl/files';
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

  /** Writers of several processes take turns (@bcl/files' lock: a dead holder is taken over by exactly one). */
  async #withLock<T>(fn: () => Promise<T>): Promise<T> {
    return withFileLock(`${this.path}.lock`, fn, {timeoutMs: this.#lockTimeoutMs});
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
