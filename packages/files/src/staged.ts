import {randomBytes} from 'node:crypto';
import {closeSync, constants, fchmodSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync} from 'node:fs';
import {basename, dirname, join} from 'node:path';
import {fsyncPath} from './atomic.js';

/**
 * Creates `path`, which must not exist (O_EXCL, and O_NOFOLLOW so a link put there is never
 * followed), with exactly `mode` whatever the umask, writes all of `data` and fsyncs it. A file
 * left half-written by a failure is removed.
 */
export function writeNewFileSync(path: string, data: string | Uint8Array, mode: number): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  let done = false;
  try {
    fchmodSync(fd, mode);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
    done = true;
  } finally {
    closeSync(fd);
    if (!done) rmSync(path, {force: true});
  }
}

/** What names a staging directory; readers of the parent skip names starting with a dot. */
const PREFIX = '.partial-';
/** How old a staging directory is when it is taken for one a killed process left. */
const SWEEP_AFTER_MS = 86_400_000;

/**
 * A directory built in private and published whole. It is made beside its future place, 0700,
 * under a random name starting with a dot (`.partial-…`), so listings of the parent can skip it.
 * Its files are new files (writeNewFileSync: created exclusively at their mode, fsynced), so they
 * need no temporary name of their own; publish() fsyncs the directory, renames it to its place
 * and fsyncs the parent. A reader, or a crash, sees no directory there or the whole of it.
 * discard() removes whatever was not published: call it in a `finally`.
 */
export class StagedDirectory {
  readonly path: string;
  #published = false;

  private constructor(path: string) {
    this.path = path;
  }

  /**
   * A new staging directory in `parent` (created 0700 if missing). Staging directories there
   * older than a day are removed first: what a killed process left (perhaps a private key of a
   * request that never completed) does not stay for ever.
   */
  static create(parent: string): StagedDirectory {
    mkdirSync(parent, {recursive: true, mode: 0o700});
    StagedDirectory.#sweep(parent, Date.now() - SWEEP_AFTER_MS);
    const path = join(parent, `${PREFIX}${randomBytes(6).toString('hex')}`);
    mkdirSync(path, {mode: 0o700});
    return new StagedDirectory(path);
  }

  static #sweep(parent: string, before: number): void {
    for (const entry of readdirSync(parent, {withFileTypes: true})) {
      if (!entry.isDirectory() || !entry.name.startsWith(PREFIX)) continue;
      const path = join(parent, entry.name);
      try {
        if (lstatSync(path).mtimeMs < before) rmSync(path, {recursive: true, force: true});
      } catch {
        // Gone meanwhile, or not ours to remove: it only costs space.
      }
    }
  }

  /** Writes the file `name` (a plain name, no directories) with `mode`. */
  write(name: string, data: string | Uint8Array, mode: number): void {
    if (this.#published) throw new Error(`${this.path} is published already`);
    if (name !== basename(name) || name === '.' || name === '..') throw new TypeError(`a staged file is named without directories, got ${JSON.stringify(name)}`);
    writeNewFileSync(join(this.path, name), data, mode);
  }

  /** Moves the directory to `target` (in the same parent; it must not exist, or be an empty directory). */
  publish(target: string): void {
    if (dirname(target) !== dirname(this.path)) throw new TypeError(`${target} is not beside ${this.path}`);
    fsyncPath(this.path);
    renameSync(this.path, target);
    this.#published = true;
    fsyncPath(dirname(target));
  }

  discard(): void {
    if (!this.#published) rmSync(this.path, {recursive: true, force: true});
  }
}
