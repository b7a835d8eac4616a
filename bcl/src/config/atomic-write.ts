import {chmodSync, existsSync, mkdirSync, renameSync, statSync, writeFileSync} from 'node:fs';
import {dirname} from 'node:path';

/** Writes under a temporary name beside the file, then renames: readers never see half a file. */
export function writeAtomically(file: string, content: string, mode = 0o644): void {
  mkdirSync(dirname(file), {recursive: true});
  const existingMode = existsSync(file) ? statSync(file).mode & 0o777 : mode;
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, content, {mode: existingMode});
  chmodSync(tmp, existingMode);
  renameSync(tmp, file);
}
