import {randomBytes} from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  fsyncSync,
} from 'node:fs';
import {basename, dirname, join} from 'node:path';
import {conflict} from '../errors.js';
import type {BclPaths} from '../paths.js';
import {fsyncPath} from './tarball.js';
import {compareVersions} from './versions.js';
import {isProcessAlive} from '../process/alive.js';

/**
 * Where installed tools live:
 *   $XDG_DATA_HOME/bcl/tools/<tool>/<version>/   an unpacked release (+ install.json)
 *   $XDG_DATA_HOME/bcl/tools/<tool>/current      symlink to the active version, switched atomically
 *   $XDG_DATA_HOME/bcl/tools/<tool>/state.json   the channel followed, the highest version installed
 *                                                from each channel (rollback protection), history
 *   $XDG_DATA_HOME/bcl/bin/<tool>                the shim on PATH (or bcl.update.binDir)
 *   $XDG_DATA_HOME/bcl/runtimes/<sha256>         one copy of each Node runtime, hard-linked into versions
 * Work in progress is only ever in dot-entries of the tool directory (.staging-*, .download-*,
 * .trash-*, .current-*), which the next run removes.
 */
export interface InstallRoots {
  tools: string;
  bin: string;
  runtimes: string;
}

export function installRoots(paths: BclPaths, binDir?: string): InstallRoots {
  return {tools: join(paths.data, 'tools'), bin: binDir ?? join(paths.data, 'bin'), runtimes: join(paths.data, 'runtimes')};
}

/** Written into each installed version directory. */
export interface InstallRecord {
  schema: 1;
  tool: string;
  version: string;
  platform: string;
  channel: string | null;
  store: string;
  sha256: string;
  installedAt: string;
}

export interface ToolState {
  schema: 1;
  /** The channel `update` follows when --channel is not given. */
  channel?: string;
  /** Highest version ever installed from each channel: updates never go below it unless asked. */
  highest: Record<string, string>;
  /** Versions made current, oldest first; rollback goes to the one before. */
  history: string[];
}

export const INSTALL_RECORD = 'install.json';
export const RELEASE_INFO = 'release.json';

export class ToolInstall {
  readonly dir: string;

  constructor(
    readonly roots: InstallRoots,
    readonly tool: string,
  ) {
    this.dir = join(roots.tools, tool);
  }

  get currentLink(): string {
    return join(this.dir, 'current');
  }

  versionDir(version: string): string {
    return join(this.dir, version);
  }

  /** The version `current` points at, if any. */
  currentVersion(): string | undefined {
    try {
      const target = readlinkSync(this.currentLink);
      const name = basename(target);
      return existsSync(join(this.dir, name, INSTALL_RECORD)) ? name : readInstallRecordAt(join(this.dir, name))?.version;
    } catch {
      return undefined;
    }
  }

  /** The directory name `current` points at (a version, or a staging dir during a forced reinstall). */
  currentTarget(): string | undefined {
    try {
      return basename(readlinkSync(this.currentLink));
    } catch {
      return undefined;
    }
  }

  /** Installed, complete versions (those with an install record), lowest first. */
  installedVersions(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((name) => !name.startsWith('.') && name !== 'current' && existsSync(join(this.dir, name, INSTALL_RECORD)))
      .sort(compareVersions);
  }

  installRecord(version: string): InstallRecord | undefined {
    return readInstallRecordAt(this.versionDir(version));
  }

  readState(): ToolState {
    try {
      const state = JSON.parse(readFileSync(join(this.dir, 'state.json'), 'utf8')) as ToolState;
      return {schema: 1, highest: state.highest ?? {}, history: state.history ?? [], ...(state.channel ? {channel: state.channel} : {})};
    } catch {
      return {schema: 1, highest: {}, history: []};
    }
  }

  writeState(state: ToolState): void {
    writeFileAtomic(join(this.dir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
  }

  /**
   * Takes the tool's update lock (an O_EXCL file with our pid). A lock whose process is gone
   * (a kill -9) is taken over. Returns the release function.
   */
  lock(): () => void {
    mkdirSync(this.dir, {recursive: true});
    const file = join(this.dir, '.lock');
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(file, 'wx', 0o644);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        return () => rmSync(file, {force: true});
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const pid = Number(readFileSync(file, 'utf8').trim());
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isProcessAlive(pid)) {
          throw conflict('update.locked', `another install or update of ${this.tool} is running (pid ${pid})`, {
            hint: `Wait for it to finish; if no such process exists, remove ${file}.`,
          });
        }
        rmSync(file, {force: true});
      }
    }
    throw conflict('update.locked', `cannot take the lock ${file}`);
  }

  /** Removes what an interrupted run left behind, except what `current` points at. */
  removeLeftovers(): string[] {
    if (!existsSync(this.dir)) return [];
    const keep = this.currentTarget();
    const removed: string[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!/^\.(staging|download|trash|current)-/.test(name) || name === keep) continue;
      rmSync(join(this.dir, name), {recursive: true, force: true});
      removed.push(name);
    }
    return removed;
  }

  /** A fresh work path inside the tool directory (same filesystem as the versions: renames are atomic). */
  workPath(kind: 'staging' | 'download' | 'trash', label: string): string {
    mkdirSync(this.dir, {recursive: true});
    return join(this.dir, `.${kind}-${label}-${randomBytes(4).toString('hex')}`);
  }

  /**
   * Points `current` at `name` atomically: a symlink made under a temporary name, then renamed
   * over `current`. `beforeRename` lets tests stop the process in between.
   */
  async switchTo(name: string, beforeRename?: () => Promise<void>): Promise<void> {
    const tmp = join(this.dir, `.current-${randomBytes(4).toString('hex')}`);
    symlinkSync(name, tmp);
    await beforeRename?.();
    renameSync(tmp, this.currentLink);
    fsyncPath(this.dir);
  }

  /** Moves a directory out of the way (atomically), then deletes it. */
  discard(path: string): void {
    if (!existsSync(path)) return;
    const trash = this.workPath('trash', basename(path));
    renameSync(path, trash);
    rmSync(trash, {recursive: true, force: true});
  }
}

export function readInstallRecordAt(versionDir: string): InstallRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(versionDir, INSTALL_RECORD), 'utf8')) as InstallRecord;
  } catch {
    return undefined;
  }
}

/** The tools installed under `roots` (those with a `current`). */
export function installedTools(roots: InstallRoots): string[] {
  if (!existsSync(roots.tools)) return [];
  return readdirSync(roots.tools)
    .filter((name) => {
      try {
        return lstatSync(join(roots.tools, name, 'current')).isSymbolicLink();
      } catch {
        return false;
      }
    })
    .sort();
}

/** Writes a file atomically: a temporary file in the same directory, fsynced, renamed over. */
export function writeFileAtomic(file: string, content: string, mode = 0o644): void {
  mkdirSync(dirname(file), {recursive: true});
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    writeFileSync(tmp, content, {mode});
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, {force: true});
    throw error;
  }
}

/** The shim on PATH: runs whatever `current` points at when it starts. */
export function writeShim(roots: InstallRoots, tool: string): {path: string; changed: boolean} {
  const path = join(roots.bin, tool);
  const target = join(roots.tools, tool, 'current', 'bin', tool);
  const content = `#!/bin/sh\n# Installed by bcl: runs the current ${tool} (\`${tool} update\`, \`${tool} update --rollback\` switch it).\nexec ${shellQuote(target)} "$@"\n`;
  let before: string | undefined;
  try {
    before = readFileSync(path, 'utf8');
  } catch {
    before = undefined;
  }
  if (before === content) return {path, changed: false};
  writeFileAtomic(path, content, 0o755);
  return {path, changed: true};
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export const RUNTIME_NODE = 'runtime/bin/node';

/** The shared copy of a runtime with this sha256, if this machine has it. */
export function sharedRuntime(roots: InstallRoots, sha256: string): string | undefined {
  const file = join(roots.runtimes, `node-${sha256}`);
  return existsSync(file) ? file : undefined;
}

/** Puts a shared runtime into an unpacked release that was unpacked without it. */
export function linkRuntime(shared: string, tree: string): void {
  const file = join(tree, RUNTIME_NODE);
  mkdirSync(dirname(file), {recursive: true});
  try {
    linkSync(shared, file);
  } catch {
    copyFileSync(shared, file);
    chmodSync(file, 0o755);
  }
  fsyncPath(dirname(file));
}

/**
 * Replaces the Node runtime of an unpacked release by a hard link to the one copy kept in
 * `roots.runtimes` (by content hash), so several tools and versions share one 120 MB binary.
 * Best effort: a filesystem without hard links keeps its own copy.
 */
export function shareRuntime(roots: InstallRoots, tree: string, sha256: string): boolean {
  const file = join(tree, RUNTIME_NODE);
  const shared = join(roots.runtimes, `node-${sha256}`);
  try {
    mkdirSync(roots.runtimes, {recursive: true});
    if (existsSync(shared) && statSync(shared).size === statSync(file).size) {
      const tmp = `${file}.link-${randomBytes(3).toString('hex')}`;
      linkSync(shared, tmp);
      renameSync(tmp, file);
    } else {
      const tmp = `${shared}.tmp-${randomBytes(3).toString('hex')}`;
      linkSync(file, tmp);
      renameSync(tmp, shared);
    }
    return true;
  } catch {
    return false;
  }
}

/** Deletes shared runtimes no installed version links to any more. */
export function pruneRuntimes(roots: InstallRoots): void {
  if (!existsSync(roots.runtimes)) return;
  for (const name of readdirSync(roots.runtimes)) {
    const file = join(roots.runtimes, name);
    try {
      if (name.includes('.tmp-') || statSync(file).nlink <= 1) unlinkSync(file);
    } catch {
      // Gone already.
    }
  }
}

