import {existsSync, mkdirSync, statSync} from 'node:fs';
import {dirname} from 'node:path';
import {writeFileAtomicSync} from '@bcl/files';

/** Replaces the file atomically (@bcl/files), keeping the mode it had: readers never see half a file. */
export function writeAtomically(file: string, content: string, mode = 0o644): void {
  mkdirSync(dirname(file), {recursive: true});
  writeFileAtomicSync(file, content, {mode: existsSync(file) ? statSync(file).mode & 0o777 : mode});
}
