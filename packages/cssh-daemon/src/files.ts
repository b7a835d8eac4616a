import {readFileSync} from 'node:fs';
import {writeFileAtomicSync} from '@bcl/files';
import {basename, dirname, join} from 'node:path';

/**
 * Replaces a file so that a reader (sshd) sees either the old content or the new, never a
 * missing or half-written file (@bcl/files: temporary file, fsync, rename, directory fsync).
 */
export function writeFileAtomic(path: string, data: string | Buffer, mode: number): void {
  writeFileAtomicSync(path, data, {mode});
}

export function readIfExists(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
