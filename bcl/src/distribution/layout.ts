import {randomBytes} from 'node:crypto';
import {chmodSync, copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync} from 'node:fs';
import {basename, dirname, join} from 'node:path';
import {acquireFileLock, describeHolder, fsyncPath, LockHeldError, preloadAtomicWrites, writeFileAtomicSync} from '@bcl/files';
import {conflict} from '../errors.js';
import type {BclPaths} from '../paths.js';
import {compareVersions, isValidVersion} from './versions.js';

/**
 * Where installed tools live:
 *   $XDG_DATA_HOME/bcl/tools/<tool>/<version>/   an unpacked release (+ install.json)
 *   $XDG_DATA_HOME/bcl/tools/<tool>/current      symlink to the active version, switched atomically
 *   $XDG_DATA_HOME/bcl/tools/<tool>/state.json   the channel followed, the highest version installed
 *                                                from each channel (rollback protection), history
 *   $XDG_DATA_HOME/bcl/bin/<tool>                the shim on PATH (or bcl.update.binDir)
 *   $XDG_DATA_HOME/bcl/runtimes/<sha256>         one copy of each Node runtime, hard-linked into versions
 * Work in progress is only ever in dot-entries of the tool directory (.staging-*, .download-*,
 * .trash-*, .current-*, .replacing-*), which the next run removes. `current` only ever points at a
 * complete tree: a version directory, or during a forced reinstall of the current version the new
 * tree under a .replacing-* name (which the next run finishes moving to its version directory).
 * The version of a tree is the one its install record names, never its directory name.
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

  /** The version `current` points at (from its install record), if any. */
  currentVersion(): string | undefined {
    const target = this.currentTarget();
    return target === undefined ? undefined : readInstallRecordAt(join(this.dir, target))?.version;
  }

  /** The directory name `current` points at (a version, or a .replacing-* tree during a forced reinstall). */
  currentTarget(): string | undefined {
    try {
      return basename(readlinkSync(this.currentLink));
    } catch {
      return undefined;
    }
  }

  /** Installed, complete versions (a version directory whose install record names it), lowest first. */
  installedVersions(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((name) => !name.startsWith('.') && isValidVersion(name) && readInstallRecordAt(join(this.dir, name))?.version === name)
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
    mkdirSync(this.dir, {recursive: true});
    writeFileAtomicSync(join(this.dir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`, {mode: 0o644});
  }

  /**
   * Takes the tool's update lock (@bcl/files: a lock file naming its holder; a holder killed
   * with kill -9 is taken over at once). Returns the release function.
   */
  async lock(): Promise<() => void> {
    // Whoever holds the lock may replace the tree this process runs from (a forced reinstall of
    // the running version, or repairing one): what it will load from disk is loaded first.
    preloadAtomicWrites();
    mkdirSync(this.dir, {recursive: true});
    const file = join(this.dir, '.lock');
    try {
      const lock = await acquireFileLock(file, {timeoutMs: 0});
      return () => lock.release();
    } catch (error) {
      if (!(error instanceof LockHeldError)) throw error;
      throw conflict('update.locked', `another install or update of ${this.tool} is running (${describeHolder(error.holder)})`, {
        hint: 'Wait for it to finish and try again.',
        details: {lock: file, holder: error.holder},
      });
    }
  }

  /**
   * Finishes what an interrupted run left half done, so every kill point repairs itself: when
   * `current` points at a complete tree that is not its version's directory (a forced reinstall
   * stopped between its switches, or a .staging-* tree an older version pointed it at), that tree
   * becomes its version directory and `current` points there. Returns what it did, if anything.
   */
  async repairCurrent(): Promise<string | undefined> {
    const target = this.currentTarget();
    if (target === undefined) return undefined;
    const record = readInstallRecordAt(join(this.dir, target));
    if (!record || record.version === target || !isValidVersion(record.version)) return undefined;
    await this.replaceVersionWith(target, record.version);
    return `current pointed at ${target}: ${record.version} is its version directory again`;
  }

  /**
   * Makes `tree` (complete, already what `current` points at) the version directory of `version`:
   * the old directory goes, a hard-linked copy of `tree` takes its place (no bytes copied), and
   * `current` is switched to it. Every step leaves `current` on a complete tree.
   */
  async replaceVersionWith(tree: string, version: string, pause?: () => Promise<void>): Promise<void> {
    const dest = this.versionDir(version);
    this.discard(dest);
    const copy = this.workPath('staging', version);
    linkTree(join(this.dir, tree), copy);
    renameSync(copy, dest);
    fsyncPath(this.dir);
    await pause?.();
    await this.switchTo(version);
    this.discard(join(this.dir, tree));
  }

  /** Removes what an interrupted run left behind, except what `current` points at. */
  removeLeftovers(): string[] {
    if (!existsSync(this.dir)) return [];
    const keep = this.currentTarget();
    const removed: string[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!/^\.(staging|download|trash|current|replacing)-/.test(name) || name === keep) continue;
      rmSync(join(this.dir, name), {recursive: true, force: true});
      removed.push(name);
    }
    return removed;
  }

  /** A fresh work path inside the tool directory (same filesystem as the versions: renames are atomic). */
  workPath(kind: 'staging' | 'download' | 'trash' | 'replacing', label: string): string {
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

/** A copy of a tree whose files are hard links to the original's (a filesystem without them copies). */
function linkTree(from: string, to: string): void {
  mkdirSync(to, {recursive: true});
  for (const entry of readdirSync(from, {withFileTypes: true})) {
    const src = join(from, entry.name);
    const dest = join(to, entry.name);
    if (entry.isDirectory()) {
      linkTree(src, dest);
    } else {
      try {
        linkSync(src, dest);
      } catch {
        copyFileSync(src, dest);
        chmodSync(dest, statSync(src).mode & 0o777);
      }
    }
  }
  fsyncPath(to);
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
  mkdirSync(roots.bin, {recursive: true});
  writeFileAtomicSync(path, content, {mode: 0o755});
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

