import {createHash} from 'node:crypto';
import {createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {writeFileAtomicSync} from '@bcl/files';
import {BclError, conflict, denied, ExitCode, interrupted, operationFailed} from '../errors.js';
import type {Ui} from '../output/ui.js';
import type {ProcessRunner} from '../process/runner.js';
import {
  INSTALL_RECORD,
  linkRuntime,
  RUNTIME_NODE,
  sharedRuntime,
  type InstallRecord,
  type InstallRoots,
  pruneRuntimes,
  RELEASE_INFO,
  shareRuntime,
  ToolInstall,
  writeShim,
} from './layout.js';
import {
  type Artifact,
  type ChannelManifest,
  channelManifestPath,
  channelManifestSchema,
  parseManifest,
  type ReleaseInfo,
  signaturePath,
  versionManifestPath,
  versionManifestSchema,
} from './manifest.js';
import type {Platform} from './platforms.js';
import {type PolicyCache, policyCacheFile, readPolicyCache} from './policy-cache.js';
import {type PublicKey, verifySignatures} from './signing.js';
import type {Store} from './store.js';
import {extractTarGz} from './tarball.js';
import {compareVersions} from './versions.js';

/**
 * Points where an install can be held for tests (BCL_UPDATE_TEST_PAUSE=<point>:<marker file>).
 * replacing and replaced happen only in a forced reinstall of the current version: `current`
 * points at the new tree under its .replacing-* name, then the version directory is rebuilt.
 */
export type PausePoint = 'download' | 'extracted' | 'staged' | 'switch' | 'switched' | 'replacing' | 'replaced';

export interface UpdaterIo {
  store: Store;
  trusted: readonly PublicKey[];
  roots: InstallRoots;
  platform: Platform;
  /** How many previous versions stay installed. */
  keep: number;
  ui: Ui;
  runner: ProcessRunner;
  now: () => Date;
  signal: AbortSignal;
  /** $XDG_CACHE_HOME/bcl: the policy cache goes to update/<tool>.json. */
  cacheDir: string;
  pause: (point: PausePoint) => Promise<void>;
  /** The version directory this process runs from: never pruned under its feet. */
  runningFrom?: string;
  /**
   * The deadline of one install, update or check (bcl.http.timeoutSeconds, default 30 s): its
   * requests, retries and waits share it, so a stalled store fails it in that time.
   */
  timeoutMs?: number;
}

/** The io of one operation: its store requests share one deadline. */
function operation(io: UpdaterIo): UpdaterIo {
  return {...io, store: io.store.within(Date.now() + (io.timeoutMs ?? 30_000))};
}

export interface InstallRequest {
  tool: string;
  /** The channel to read (a flag, the tool's recorded channel, or bcl.update.channel). */
  channel: string;
  /** Whether the channel was asked for explicitly (then it becomes the one the tool follows). */
  channelExplicit: boolean;
  /** An exact version (explicit: may go below the channel's highest). */
  version?: string;
  force: boolean;
  allowDowngrade: boolean;
}

export interface InstallOutcome {
  tool: string;
  channel: string;
  from: string | null;
  to: string;
  action: 'installed' | 'updated' | 'downgraded' | 'reinstalled' | 'unchanged' | 'rolled back';
  /** Whether an artifact was downloaded (false when a kept version was switched to). */
  downloaded: boolean;
  path: string;
  shim: string;
  removed: string[];
}

export interface CheckOutcome {
  tool: string;
  channel: string;
  current: string | null;
  latest: string;
  updateAvailable: boolean;
  published: string;
  expires: string;
  minimumVersion?: string;
  deprecation?: {below: string; message: string};
}

interface ResolvedRelease {
  version: string;
  artifact: Artifact;
  channelManifest?: ChannelManifest;
}

/** Reads a manifest and checks its signature; one re-read covers a publish landing in between. */
async function fetchVerified(io: UpdaterIo, path: string): Promise<Buffer> {
  const where = io.store.where(path);
  for (let attempt = 1; ; attempt++) {
    const bytes = (await io.store.read(path))!;
    const sig = await io.store.read(signaturePath(path), {optional: true});
    if (!sig) {
      throw denied('update.signature_missing', `signature check failed: ${where} has no signature (${io.store.where(signaturePath(path))} does not exist)`, {
        hint: 'Only signed releases are installed; publish with `bcl release publish --key ...`.',
      });
    }
    try {
      verifySignatures(bytes, sig, io.trusted, where);
      return bytes;
    } catch (error) {
      if (attempt >= 2 || !(error instanceof BclError) || error.code !== 'update.signature_invalid') throw error;
      io.ui.debug(`signature of ${where} did not match; reading it again in case a publish was in progress`);
    }
  }
}

/** The channel manifest, verified: signed by a trusted key, for this tool and channel, not expired. */
export async function readChannel(io: UpdaterIo, tool: string, channel: string): Promise<ChannelManifest> {
  const path = channelManifestPath(channel, tool);
  const where = io.store.where(path);
  const manifest = parseManifest(channelManifestSchema, await fetchVerified(io, path), where);
  if (manifest.tool !== tool || manifest.channel !== channel) {
    throw denied('update.manifest_mismatch', `${where} is signed for ${manifest.tool} on channel ${manifest.channel}, not ${tool} on ${channel}`, {
      hint: 'A manifest was copied to the wrong place (or replayed); nothing was installed.',
    });
  }
  const now = io.now();
  if (Date.parse(manifest.expires) <= now.getTime()) {
    throw denied('update.expired', `freshness check failed: the ${channel} manifest of ${tool} expired at ${manifest.expires} (published ${manifest.published})`, {
      hint: 'The store has not been republished in time (a stale mirror, or a release process that stopped); nothing was changed. Tell the release team.',
      details: {expires: manifest.expires, published: manifest.published, now: now.toISOString()},
    });
  }
  writePolicyCache(io, tool, {
    checkedAt: now.toISOString(),
    channel,
    latest: manifest.version,
    ...(manifest.minimumVersion ? {minimumVersion: manifest.minimumVersion} : {}),
    ...(manifest.deprecation ? {deprecation: manifest.deprecation} : {}),
  });
  return manifest;
}

async function resolveRelease(io: UpdaterIo, tool: string, channel: string, version?: string): Promise<ResolvedRelease> {
  if (version) {
    const path = versionManifestPath(tool, version);
    const where = io.store.where(path);
    const manifest = parseManifest(versionManifestSchema, await fetchVerified(io, path), where);
    if (manifest.tool !== tool || manifest.version !== version) {
      throw denied('update.manifest_mismatch', `${where} is signed for ${manifest.tool} ${manifest.version}, not ${tool} ${version}`, {
        hint: 'A manifest was copied to the wrong place (or replayed); nothing was installed.',
      });
    }
    return {version, artifact: pickArtifact(manifest.artifacts, io.platform, tool, version)};
  }
  const manifest = await readChannel(io, tool, channel);
  return {version: manifest.version, artifact: pickArtifact(manifest.artifacts, io.platform, tool, manifest.version), channelManifest: manifest};
}

function pickArtifact(artifacts: readonly Artifact[], platform: Platform, tool: string, version: string): Artifact {
  // Apple silicon runs x64 builds too (Rosetta), when no native one is published.
  const candidates: string[] = platform === 'darwin-arm64' ? ['darwin-arm64', 'darwin-x64'] : [platform];
  for (const p of candidates) {
    const found = artifacts.find((a) => a.platform === p);
    if (found) return found;
  }
  throw new BclError('update.no_artifact', `${tool} ${version} has no build for ${platform} (published for ${artifacts.map((a) => a.platform).join(', ')})`, ExitCode.invalid, {
    hint: 'Ask the release team to build this platform (bcl release build --platform ...).',
  });
}

/**
 * Installs or updates a tool. Every check (signature by a trusted key, expiry, rollback
 * protection, sha256 and size, the unpacked release naming the right tool, version and platform,
 * and the new version starting) happens before `current` is switched. The switch is one rename;
 * anything interrupted before it leaves only dot-entries that the next run removes.
 */
export async function installTool(shared: UpdaterIo, request: InstallRequest): Promise<InstallOutcome> {
  const io = operation(shared);
  const install = new ToolInstall(io.roots, request.tool);
  const unlock = await install.lock();
  try {
    const repaired = await install.repairCurrent();
    if (repaired) io.ui.debug(repaired);
    const leftovers = install.removeLeftovers();
    if (leftovers.length > 0) io.ui.debug(`removed what an interrupted run left: ${leftovers.join(', ')}`);
    const state = install.readState();
    const from = install.currentVersion() ?? null;
    const {tool, channel} = request;
    const release = await resolveRelease(io, tool, channel, request.version);
    const target = release.version;

    const highest = state.highest[channel];
    if (!request.version && !request.allowDowngrade && highest && compareVersions(target, highest) < 0) {
      throw conflict('update.downgrade', `rollback protection: the ${channel} channel offers ${tool} ${target}, lower than ${highest} already installed from it`, {
        hint: `Nothing was changed. If the channel was rolled back on purpose, pass --allow-downgrade (or --version ${target}).`,
        details: {offered: target, highest, channel},
      });
    }
    const followChannel = () => {
      if (request.channelExplicit || !state.channel) state.channel = channel;
      if (!request.version) state.highest[channel] = highest && compareVersions(highest, target) > 0 ? highest : target;
    };
    if (from === target && install.installRecord(target)?.sha256 === release.artifact.sha256 && !request.force) {
      followChannel();
      install.writeState(state);
      const shim = writeShim(io.roots, tool);
      return {tool, channel, from, to: target, action: 'unchanged', downloaded: false, path: install.versionDir(target), shim: shim.path, removed: []};
    }
    if (from && compareVersions(target, from) < 0) io.ui.warn(`${tool} ${target} is older than the ${from} you run`);

    const kept = install.installRecord(target);
    const reuse = kept !== undefined && kept.sha256 === release.artifact.sha256 && !request.force && install.currentTarget() !== target;
    let downloaded = false;
    if (!reuse) {
      await stageRelease(io, install, release, channel);
      downloaded = true;
    } else {
      io.ui.info(`${tool} ${target} is still installed: switching to it`);
    }
    await io.pause('staged');

    // Rollback protection is recorded before the switch: a crash in between never lowers it.
    followChannel();
    install.writeState(state);
    await install.switchTo(target, () => io.pause('switch'));
    await io.pause('switched');
    state.history = [...state.history.filter((v) => v !== target), target];
    install.writeState(state);
    const shim = writeShim(io.roots, tool);
    const removed = prune(io, install, state);
    const action: InstallOutcome['action'] =
      from === null ? 'installed' : from === target ? 'reinstalled' : compareVersions(target, from) > 0 ? 'updated' : 'downgraded';
    return {tool, channel, from, to: target, action, downloaded, path: install.versionDir(target), shim: shim.path, removed};
  } finally {
    unlock();
  }
}

/** Downloads, verifies and unpacks a release into the tool's version directory (not yet current). */
async function stageRelease(io: UpdaterIo, install: ToolInstall, release: ResolvedRelease, channel: string): Promise<void> {
  const {artifact, version} = release;
  const tool = install.tool;
  const url = io.store.where(artifact.url);
  const download = install.workPath('download', version);
  const staging = install.workPath('staging', version);
  try {
    io.ui.info(`downloading ${tool} ${version} (${(artifact.size / 1024 / 1024).toFixed(1)} MiB) from ${url}`);
    let paused = false;
    const started = performance.now();
    const got = await io.store.download(artifact.url, download, {size: artifact.size}, {
      onBytes: async (received) => {
        if (io.signal.aborted) throw interrupted();
        if (!paused && received >= artifact.size / 2) {
          paused = true;
          await io.pause('download');
        }
      },
    });
    const step = (what: string, since: number) => io.ui.debug(`${what} in ${Math.round(performance.now() - since)} ms`);
    step('downloaded and hashed', started);
    if (got.sha256 !== artifact.sha256) {
      throw denied('update.checksum_mismatch', `checksum check failed: ${url} has sha256 ${got.sha256}, the signed manifest says ${artifact.sha256}`, {
        hint: 'The artifact in the store is not the one that was signed (tampering or corruption); nothing was changed. Tell the release team.',
        details: {url, sha256: got.sha256, expected: artifact.sha256},
      });
    }
    mkdirSync(staging, {recursive: true});
    const unpacking = performance.now();
    // A Node runtime already on this machine (same sha256) is linked, not unpacked and synced again.
    const shared = artifact.runtimeSha256 ? sharedRuntime(io.roots, artifact.runtimeSha256) : undefined;
    await extractTarGz(download, staging, url, shared ? [RUNTIME_NODE] : []);
    rmSync(download, {force: true});
    step('unpacked and synced', unpacking);
    const info = readReleaseInfo(staging);
    if (!info || info.tool !== tool || info.version !== version || info.platform !== artifact.platform || (shared && info.runtimeSha256 !== artifact.runtimeSha256)) {
      throw denied('update.artifact_invalid', `${url} does not hold ${tool} ${version} for ${artifact.platform} (its release.json says ${info ? `${info.tool} ${info.version} ${info.platform}` : 'nothing'})`, {
        hint: 'The release was assembled wrongly; nothing was changed. Tell the release team.',
      });
    }
    const sharing = performance.now();
    if (shared) {
      linkRuntime(shared, staging);
    } else {
      const runtimeSha = await sha256File(join(staging, RUNTIME_NODE)).catch(() => undefined);
      if (runtimeSha) shareRuntime(io.roots, staging, runtimeSha);
    }
    step('runtime shared', sharing);
    await io.pause('extracted');
    const smoke = performance.now();
    await smokeTest(io, staging, tool, version);
    step('smoke test', smoke);
    const record: InstallRecord = {
      schema: 1,
      tool,
      version,
      platform: artifact.platform,
      channel: release.channelManifest ? channel : null,
      store: io.store.location,
      sha256: artifact.sha256,
      installedAt: io.now().toISOString(),
    };
    writeFileAtomicSync(join(staging, INSTALL_RECORD), `${JSON.stringify(record, null, 2)}\n`, {mode: 0o644});
    await placeVersion(io, install, staging, version);
  } catch (error) {
    throw stagingFailure(error, install.dir, tool, version);
  } finally {
    rmSync(download, {force: true});
    if (existsSync(staging)) rmSync(staging, {recursive: true, force: true});
  }
}

/** A filesystem failure while staging (a full disk, a read-only directory) says so, and that nothing changed. */
function stagingFailure(error: unknown, dir: string, tool: string, version: string): unknown {
  if (error instanceof BclError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return operationFailed('update.disk_full', `not enough space in ${dir} to install ${tool} ${version}`, {
      hint: 'Free some space (fewer kept versions: bcl.update.keep) and try again; nothing was changed.',
      cause: error,
    });
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return operationFailed('update.not_writable', `cannot write in ${dir} to install ${tool} ${version}: ${(error as Error).message}`, {
      hint: 'Check the permissions of the install directory; nothing was changed.',
      cause: error,
    });
  }
  return error;
}

/**
 * Moves a staged tree to <tool>/<version>. When that version is the current one (a forced
 * reinstall), the tree is first renamed to a .replacing-* name and `current` pointed at it, then
 * it becomes the version directory (ToolInstall.replaceVersionWith): `current` never points at a
 * staging tree, nor at nothing, and a run killed in between is finished by the next one.
 */
async function placeVersion(io: UpdaterIo, install: ToolInstall, staging: string, version: string): Promise<void> {
  const dest = install.versionDir(version);
  if (!existsSync(dest)) {
    renameSync(staging, dest);
    return;
  }
  if (install.currentTarget() === version) {
    const replacing = install.workPath('replacing', version);
    renameSync(staging, replacing);
    const name = replacing.slice(install.dir.length + 1);
    await install.switchTo(name);
    await io.pause('replacing');
    await install.replaceVersionWith(name, version, () => io.pause('replaced'));
    return;
  }
  install.discard(dest);
  renameSync(staging, dest);
}

/** The new version must start and say it is the version expected, before anyone runs it. */
async function smokeTest(io: UpdaterIo, tree: string, tool: string, version: string): Promise<void> {
  const launcher = join(tree, 'bin', tool);
  let output = '';
  try {
    const result = await io.runner.run(launcher, ['--version'], {timeoutMs: 60_000, env: {BCL_DISABLE_UPDATE_CHECK: '1'}});
    output = result.stdout.trim();
  } catch (error) {
    throw operationFailed('update.smoke_failed', `${tool} ${version} does not start on this machine: ${(error as Error).message}`, {
      hint: 'Nothing was changed: the current version stays. Tell the release team.',
      cause: error,
    });
  }
  if (!output.startsWith(`${tool}/${version} `)) {
    throw operationFailed('update.smoke_failed', `${tool} ${version} does not start on this machine: --version printed "${output.slice(0, 200)}"`, {
      hint: 'Nothing was changed: the current version stays. Tell the release team.',
    });
  }
}

/** Switches back to the version used before the current one (or to `to`), if it is still installed. */
export async function rollbackTool(io: Pick<UpdaterIo, 'roots' | 'ui'>, tool: string, to?: string): Promise<InstallOutcome> {
  const install = new ToolInstall(io.roots, tool);
  const unlock = await install.lock();
  try {
    await install.repairCurrent();
    install.removeLeftovers();
    const state = install.readState();
    const from = install.currentVersion() ?? null;
    const installed = install.installedVersions();
    let target = to;
    if (target === undefined) {
      target = [...state.history].reverse().find((v) => v !== from && installed.includes(v));
      target ??= installed.filter((v) => v !== from && (from === null || compareVersions(v, from) < 0)).at(-1);
    }
    if (!target || target === from) {
      throw conflict('update.no_rollback', `no earlier version of ${tool} is installed to roll back to (installed: ${installed.join(', ') || 'none'})`, {
        hint: `Install a given version with \`${tool} update --version <version>\`.`,
      });
    }
    if (!installed.includes(target)) {
      throw conflict('update.no_rollback', `${tool} ${target} is not installed (installed: ${installed.join(', ') || 'none'})`, {
        hint: `Install it with \`${tool} update --version ${target}\`.`,
      });
    }
    await install.switchTo(target);
    state.history = [...state.history.filter((v) => v !== target), target];
    install.writeState(state);
    const shim = writeShim(io.roots, tool);
    return {tool, channel: state.channel ?? '', from, to: target, action: 'rolled back', downloaded: false, path: install.versionDir(target), shim: shim.path, removed: []};
  } finally {
    unlock();
  }
}

/** Reads the channel (verified) and says whether a newer version is offered. */
export async function checkTool(io: UpdaterIo, tool: string, channel: string, current: string | null): Promise<CheckOutcome> {
  const manifest = await readChannel(operation(io), tool, channel);
  return {
    tool,
    channel,
    current,
    latest: manifest.version,
    updateAvailable: current === null || compareVersions(manifest.version, current) > 0,
    published: manifest.published,
    expires: manifest.expires,
    ...(manifest.minimumVersion ? {minimumVersion: manifest.minimumVersion} : {}),
    ...(manifest.deprecation ? {deprecation: manifest.deprecation} : {}),
  };
}

/** Keeps the current version, the `keep` most recently used others, and the one running now. */
function prune(io: UpdaterIo, install: ToolInstall, state: {history: string[]}): string[] {
  const current = install.currentVersion();
  const installed = install.installedVersions().filter((v) => v !== current);
  const recency = (v: string) => state.history.lastIndexOf(v);
  const byRecency = [...installed].sort((a, b) => recency(b) - recency(a) || compareVersions(b, a));
  const keep = new Set(byRecency.slice(0, io.keep));
  const removed: string[] = [];
  for (const version of byRecency) {
    if (keep.has(version)) continue;
    const dir = install.versionDir(version);
    if (io.runningFrom && dir === io.runningFrom) continue;
    install.discard(dir);
    removed.push(version);
  }
  pruneRuntimes(io.roots);
  return removed;
}

function readReleaseInfo(tree: string): ReleaseInfo | undefined {
  try {
    return JSON.parse(readFileSync(join(tree, RELEASE_INFO), 'utf8')) as ReleaseInfo;
  } catch {
    return undefined;
  }
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

export function writePolicyCache(io: Pick<UpdaterIo, 'cacheDir'>, tool: string, data: Omit<PolicyCache, 'schema'>): void {
  try {
    const before = readPolicyCache(io.cacheDir, tool);
    const next: PolicyCache = {schema: 1, ...(before?.attemptedAt ? {attemptedAt: before.attemptedAt} : {}), ...data};
    const file = policyCacheFile(io.cacheDir, tool);
    mkdirSync(dirname(file), {recursive: true});
    writeFileAtomicSync(file, `${JSON.stringify(next)}\n`, {mode: 0o644});
  } catch {
    // A read-only cache only costs the notice.
  }
}

/** BCL_UPDATE_TEST_PAUSE=<point>:<marker file>: holds the updater at a point so a test can kill it. */
export function pauseHook(env: Record<string, string | undefined>): (point: PausePoint) => Promise<void> {
  const spec = env.BCL_UPDATE_TEST_PAUSE;
  if (!spec) return async () => undefined;
  const at = spec.indexOf(':');
  const point = spec.slice(0, at);
  const marker = spec.slice(at + 1);
  return async (reached) => {
    if (reached !== point) return;
    writeFileAtomicSync(marker, `${process.pid}\n`, {mode: 0o644});
    await new Promise(() => setInterval(() => undefined, 60_000));
  };
}
