import {existsSync, mkdirSync, statSync} from 'node:fs';
import {dirname} from 'node:path';

/**
 * Replaces the file atomically (@bcl/files), keeping the mode it had: readers never see half a
 * file. @bcl/files is imported here, not at the top: every command loads this module (through the
 * trust records), and write-file-atomic with what it requires costs about 4 ms to load.
 */
export async function writeAtomically(file: string, content: string, mode = 0o644): Promise<void> {
  const {writeFileAtomicSync} = await import('@bcl/files');
  mkdirSync(dirname(file), {recursive: true});
  writeFileAtomicSync(file, content, {mode: existsSync(file) ? statSync(file).mode & 0o777 : mode});
}
