import {closeSync, fsyncSync, openSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname} from 'node:path';

type WriteFileAtomic = typeof import('write-file-atomic');
let library: WriteFileAtomic | undefined;

/**
 * write-file-atomic, loaded by the first write: with what it requires (worker_threads,
 * signal-exit) it costs about 4 ms, and most commands that import this package never write. A
 * bundle (esbuild) sees the plain require() and loads its own copy; unbundled ES modules have no
 * require() and take Node's.
 */
function writeFileAtomicLib(): WriteFileAtomic {
  library ??= (typeof require === 'function' ? require('write-file-atomic') : createRequire(import.meta.url)('write-file-atomic')) as WriteFileAtomic;
  return library;
}

/**
 * Loads what atomic writes need now, not at the first write: a process that replaces the tree it
 * runs from (an update reinstalling its own version) cannot load a module from it afterwards.
 */
export function preloadAtomicWrites(): void {
  writeFileAtomicLib();
}

export interface AtomicWriteOptions {
  /** The file's permission bits, always set explicitly (never copied from a file it replaces). */
  mode: number;
  /** fsync the file and its directory (default true): the new content survives a crash once this returns. */
  fsync?: boolean;
}

/**
 * Replaces `path` with `data` so that a reader (or a crash) sees the old content or the new one,
 * never a mix: a temporary file in the same directory, written, fsynced, given `mode`, renamed
 * over `path`, then the directory fsynced. The directory must exist. A symlink at `path` is
 * followed (its target is replaced), as editors do; secrets use writeSecretFile, which refuses it.
 * Implemented by write-file-atomic, plus the directory fsync it leaves out.
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, options: AtomicWriteOptions): void {
  checkMode(options.mode);
  writeFileAtomicLib().sync(path, asBuffer(data), {mode: options.mode, fsync: options.fsync !== false});
  if (options.fsync !== false) fsyncPath(dirname(path));
}

/** The asynchronous form of writeFileAtomicSync (same rule). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions): Promise<void> {
  checkMode(options.mode);
  await writeFileAtomicLib()(path, asBuffer(data), {mode: options.mode, fsync: options.fsync !== false});
  if (options.fsync !== false) fsyncPath(dirname(path));
}

/**
 * fsyncs a file or a directory (that of a directory makes a rename in it durable). Some
 * filesystems refuse it on directories, which only costs durability: the rename stays atomic.
 */
export function fsyncPath(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch {
    // Not supported here: the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function asBuffer(data: string | Uint8Array): string | Buffer {
  return typeof data === 'string' || Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function checkMode(mode: number): void {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new TypeError(`mode must be permission bits such as 0o644, got ${String(mode)}`);
}
