import {closeSync, fsyncSync, openSync} from 'node:fs';
import {dirname} from 'node:path';
import writeFileAtomicLib from 'write-file-atomic';

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
  writeFileAtomicLib.sync(path, asBuffer(data), {mode: options.mode, fsync: options.fsync !== false});
  if (options.fsync !== false) fsyncPath(dirname(path));
}

/** The asynchronous form of writeFileAtomicSync (same rule). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions): Promise<void> {
  checkMode(options.mode);
  await writeFileAtomicLib(path, asBuffer(data), {mode: options.mode, fsync: options.fsync !== false});
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
