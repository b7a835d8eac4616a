import {readdirSync} from 'node:fs';
import {join} from 'node:path';
import {fsyncPath} from '@bcl/files';
import {denied} from '../errors.js';

// Reading release tarballs, with node-tar hardened for hostile input. The writer, which makes the
// same tree always give the same bytes, is the publisher's (@bcl/release).

/**
 * Unpacks a release tarball into `dest` (which must be new). Only regular files and directories
 * are accepted; absolute paths, "..", links and devices are refused. Files and directories are
 * fsynced, so a crash after this returns never leaves a half-written tree. Entries in `skip` are
 * left out (a runtime the installer already has).
 */
export async function extractTarGz(file: string, dest: string, what: string, skip: readonly string[] = []): Promise<void> {
  const tar = await import('tar');
  const refused: string[] = [];
  try {
    await tar.x({
      file,
      cwd: dest,
      strict: true,
      preserveOwner: false,
      noMtime: false,
      filter: (path, entry) => {
        const type = (entry as {type?: string}).type;
        if (type !== 'File' && type !== 'Directory') {
          refused.push(`${path} (${type})`);
          return false;
        }
        return !skip.includes(path);
      },
    });
  } catch (error) {
    // The filesystem's own failures (a full disk...) are not the archive's fault.
    if ((error as NodeJS.ErrnoException).syscall) throw error;
    throw denied('update.artifact_invalid', `cannot unpack ${what}: ${(error as Error).message}`, {cause: error});
  }
  if (refused.length > 0) {
    throw denied('update.artifact_invalid', `${what} holds entries a release never has: ${refused.slice(0, 3).join(', ')}`, {
      hint: 'Only files and directories are accepted; nothing was installed.',
    });
  }
  fsyncTree(dest);
}

export function fsyncTree(root: string): void {
  for (const entry of readdirSync(root, {withFileTypes: true})) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) fsyncTree(path);
    else if (entry.isFile()) fsyncPath(path);
  }
  fsyncPath(root);
}
