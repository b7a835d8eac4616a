import {type Stats, unwatchFile, watchFile} from 'node:fs';

/**
 * Calls `onChange` when any of the files changes (mtime, size or inode), by polling stat: it
 * sees editors' and deploy tools' atomic renames, which inotify watches on the old inode miss.
 */
export function watchFiles(files: readonly string[], onChange: (file: string) => void, intervalMs = 500): () => void {
  const listeners = files.map((file) => {
    const listener = (curr: Stats, prev: Stats) => {
      if (curr.mtimeMs !== prev.mtimeMs || curr.ino !== prev.ino || curr.size !== prev.size) onChange(file);
    };
    watchFile(file, {interval: intervalMs, persistent: false}, listener);
    return [file, listener] as const;
  });
  return () => {
    for (const [file, listener] of listeners) unwatchFile(file, listener);
  };
}
