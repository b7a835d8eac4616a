import {createHash} from 'node:crypto';
import {chmodSync, cpSync, existsSync, linkSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {type HttpClient, invalidInput, interrupted, type ProcessRunner, type Ui, workspaceTools} from '@bcl/core';
import type {Platform, ReleaseInfo} from '@bcl/core/distribution';
import {bundleOclifPackage} from './bundle.js';
import {nodeRuntime} from './runtime.js';
import {treeEntries, writeTarGz} from './tarball.js';

/** The tools a release can be built for: the bcl host and every tool of the workspace (`"bcl": {"tool": true}`). */
export function releasableTools(workspaceRoot: string): string[] {
  return ['bcl', ...Object.keys(workspaceTools(workspaceRoot))];
}

/** A tool's package directory in the workspace. */
function packageRootOf(workspaceRoot: string, tool: string): string {
  return tool === 'bcl' ? join(workspaceRoot, 'bcl') : workspaceTools(workspaceRoot)[tool]!;
}

export interface ReleaseBuildOptions {
  workspaceRoot: string;
  tools: readonly string[];
  platforms: readonly Platform[];
  outDir: string;
  /** Stamp this version instead of each package.json's. */
  version?: string;
  /** The Node version bundled for each platform. */
  nodeVersion: (platform: Platform) => string;
}

export interface ReleaseBuildIo {
  http: HttpClient;
  registry: string;
  runtimeCache: string;
  runner: ProcessRunner;
  ui: Ui;
  env: Record<string, string | undefined>;
  signal: AbortSignal;
}

export interface BuiltArtifact {
  platform: Platform;
  /** The tarball's file name inside the build directory. */
  file: string;
  sha256: string;
  size: number;
  node: string;
  /** sha256 of runtime/bin/node. */
  runtimeSha256: string;
}

/** build.json: what `bcl release publish` reads from a build directory. */
export interface BuildRecord {
  schema: 1;
  commit: string;
  tools: {tool: string; version: string; artifacts: BuiltArtifact[]}[];
}

export const BUILD_RECORD = 'build.json';

export async function buildReleases(options: ReleaseBuildOptions, io: ReleaseBuildIo): Promise<BuildRecord> {
  const ws = options.workspaceRoot;
  const releasable = releasableTools(ws);
  for (const tool of options.tools) {
    if (!releasable.includes(tool)) {
      throw invalidInput('release.tool', `--tool: unknown tool "${tool}"`, {hint: `Expected one of ${releasable.join(', ')}.`});
    }
  }
  const {commit, mtime} = await sourceIdentity(ws, io);
  io.ui.step('Building the workspace');
  await io.runner.run(process.execPath, [join(ws, 'scripts', 'build.mjs')], {cwd: ws});

  mkdirSync(options.outDir, {recursive: true});
  const work = join(options.outDir, '.work');
  rmSync(work, {recursive: true, force: true});
  const record: BuildRecord = {schema: 1, commit, tools: []};
  try {
    for (const tool of options.tools) {
      const packageRoot = packageRootOf(ws, tool);
      const pkgVersion = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {version: string}).version;
      const version = options.version ?? pkgVersion;
      io.ui.step(`Bundling ${tool} ${version}`);
      const lib = join(work, tool, 'lib');
      const gate = join(ws, 'bcl', 'dist', 'distribution', 'gate.js');
      const bundle = await bundleOclifPackage({packageRoot, outDir: lib, version, workspaceRoot: ws, build: {commit}, gate});
      const artifacts: BuiltArtifact[] = [];
      for (const platform of options.platforms) {
        if (io.signal.aborted) throw interrupted();
        const node = options.nodeVersion(platform);
        const runtime = await nodeRuntime(platform, node, {http: io.http, registry: io.registry, cacheDir: io.runtimeCache, info: (m) => io.ui.info(m)});
        const tree = join(work, tool, platform);
        const runtimeSha256 = createHash('sha256').update(readFileSync(join(runtime.dir, 'bin', 'node'))).digest('hex');
        assembleTree({tree, lib, runtimeDir: runtime.dir, tool, version, platform, node, runtimeSha256, commit, packageName: bundle.name});
        const file = `${tool}-${version}-${platform}.tar.gz`;
        io.ui.info(`${tool} ${version} ${platform}: writing ${file}`);
        const {sha256, size} = await writeTarGz(treeEntries(tree), join(options.outDir, file), mtime);
        artifacts.push({platform, file, sha256, size, node, runtimeSha256});
      }
      record.tools.push({tool, version, artifacts});
    }
  } finally {
    rmSync(work, {recursive: true, force: true});
  }
  const previous = readBuildRecord(options.outDir, true);
  const merged: BuildRecord = {schema: 1, commit, tools: [...(previous?.commit === commit ? previous.tools : []).filter((t) => !record.tools.some((r) => r.tool === t.tool && r.version === t.version)), ...record.tools]};
  merged.tools.sort((a, b) => (a.tool + a.version < b.tool + b.version ? -1 : 1));
  writeFileSync(join(options.outDir, BUILD_RECORD), `${JSON.stringify(merged, null, 2)}\n`);
  return record;
}

export function readBuildRecord(dir: string, optional = false): BuildRecord | undefined {
  const file = join(dir, BUILD_RECORD);
  if (!existsSync(file)) {
    if (optional) return undefined;
    throw invalidInput('release.no_build', `${dir} holds no ${BUILD_RECORD}: it is not a build directory`, {hint: 'Build one with `bcl release build --out <dir>`.'});
  }
  try {
    const record = JSON.parse(readFileSync(file, 'utf8')) as BuildRecord;
    if (record.schema !== 1 || !Array.isArray(record.tools)) throw new Error('unknown schema');
    return record;
  } catch (error) {
    throw invalidInput('release.no_build', `${file}: not a build record (${(error as Error).message})`);
  }
}

/** The commit being built and the one timestamp every archive entry gets (SOURCE_DATE_EPOCH, else the commit's time). */
async function sourceIdentity(ws: string, io: ReleaseBuildIo): Promise<{commit: string; mtime: number}> {
  let commit = 'unknown';
  let mtime = 0;
  try {
    commit = (await io.runner.run('git', ['rev-parse', 'HEAD'], {cwd: ws})).stdout.trim();
    mtime = Number((await io.runner.run('git', ['log', '-1', '--format=%ct'], {cwd: ws})).stdout.trim()) || 0;
  } catch {
    io.ui.warn(`${ws} is not a git checkout: the release records commit "unknown"`);
  }
  const epoch = io.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && /^\d+$/.test(epoch)) mtime = Number(epoch);
  return {commit, mtime};
}

interface TreeSpec extends Omit<ReleaseInfo, 'schema'> {
  tree: string;
  lib: string;
  runtimeDir: string;
  packageName: string;
}

/**
 * One platform's release tree:
 *   bin/<tool>        the launcher (sh): the bundled Node runs lib/bin/run.js
 *   lib/              the bundle (package.json, oclif.manifest.json, bin/run.js, dist/...)
 *   runtime/bin/node  Node from the npm registry, with its LICENSE
 *   release.json      tool, version, platform, node, commit
 */
function assembleTree(spec: TreeSpec): void {
  const {tree} = spec;
  rmSync(tree, {recursive: true, force: true});
  mkdirSync(join(tree, 'bin'), {recursive: true});
  mkdirSync(join(tree, 'runtime', 'bin'), {recursive: true});
  cpSync(spec.lib, join(tree, 'lib'), {recursive: true});
  const helpFile = join(tree, 'lib', 'dist', 'help.json');
  const pages = JSON.parse(readFileSync(helpFile, 'utf8')) as Record<string, string>;
  // Help was rendered on the build machine; the VERSION line names the release's platform and Node.
  const stamp = new RegExp(`${spec.packageName.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/\\S+ \\S+ node-v\\S+`, 'g');
  for (const id of Object.keys(pages)) pages[id] = pages[id]!.replace(stamp, `${spec.packageName}/${spec.version} ${spec.platform} node-v${spec.node}`);
  writeFileSync(helpFile, JSON.stringify(pages));
  try {
    linkSync(join(spec.runtimeDir, 'bin', 'node'), join(tree, 'runtime', 'bin', 'node'));
  } catch {
    copyFileSync(join(spec.runtimeDir, 'bin', 'node'), join(tree, 'runtime', 'bin', 'node'));
  }
  chmodSync(join(tree, 'runtime', 'bin', 'node'), 0o755);
  copyFileSync(join(spec.runtimeDir, 'LICENSE'), join(tree, 'runtime', 'LICENSE'));
  const launcher = join(tree, 'bin', spec.tool);
  writeFileSync(launcher, launcherScript(spec));
  chmodSync(launcher, 0o755);
  const info: ReleaseInfo = {schema: 1, tool: spec.tool, version: spec.version, platform: spec.platform, node: spec.node, runtimeSha256: spec.runtimeSha256, commit: spec.commit};
  writeFileSync(join(tree, 'release.json'), `${JSON.stringify(info, null, 2)}\n`);
}

function launcherScript(spec: TreeSpec): string {
  return `#!/bin/sh
# ${spec.tool} ${spec.version} for ${spec.platform}: the bundled tool on its bundled Node ${spec.node}.
# The physical directory is resolved once, so a running command keeps its version while
# \`${spec.tool} update\` switches the installed one.
# (Parameter expansion, not dirname: each program started costs about a millisecond.)
self=$0
while [ -L "$self" ]; do
  target=$(readlink "$self")
  case $target in /*) self=$target ;; *) self=\${self%/*}/$target ;; esac
done
case $self in */*) dir=\${self%/*} ;; *) dir=. ;; esac
root=$(cd "$dir/.." && pwd -P) || exit 1
exec "$root/runtime/bin/node" "$root/lib/bin/run.js" "$@"
`;
}
