import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {conflict, invalidInput, type Ui} from '@bcl/core';
import {
  type Artifact,
  type ChannelManifest,
  channelManifestPath,
  channelManifestSchema,
  parseManifest,
  serializeManifest,
  signaturePath,
  type VersionManifest,
  versionDirPath,
  versionManifestPath,
  versionManifestSchema,
  type Store,
  compareVersions,
} from '@bcl/core/distribution';
import {readBuildRecord} from './build.js';
import {serializeSignatures, signBytes, type SigningKey} from './keys.js';

export interface PublishOptions {
  buildDir: string;
  store: Store;
  channel: string;
  keys: readonly SigningKey[];
  /** Only these tools of the build directory (default: all). */
  tools?: readonly string[];
  expiresInMs: number;
  /** Undefined keeps the channel's current setting; null removes it. */
  minimumVersion?: string | null;
  deprecation?: {below: string; message: string} | null;
  allowDowngrade: boolean;
  now: () => Date;
}

export interface PublishedTool {
  tool: string;
  version: string;
  channel: string;
  manifest: string;
  uploaded: string[];
  alreadyThere: string[];
  expires: string;
  minimumVersion?: string;
  deprecation?: {below: string; message: string};
}

/**
 * Publishes a build directory: artifacts to versions/<tool>/<version>/, then the signed version
 * manifest, then the signed channel manifest last, so a client never sees a manifest that names
 * an artifact not yet uploaded. Versions are immutable: republishing the same bytes is a no-op
 * (that is how a version is promoted from beta to stable), different bytes are refused.
 */
export async function publishReleases(options: PublishOptions, ui: Ui): Promise<PublishedTool[]> {
  const record = readBuildRecord(options.buildDir)!;
  const wanted = record.tools.filter((t) => !options.tools || options.tools.includes(t.tool));
  if (options.tools) {
    const missing = options.tools.filter((t) => !record.tools.some((r) => r.tool === t));
    if (missing.length > 0) throw invalidInput('release.tool', `--tool: ${missing.join(', ')} is not in ${options.buildDir}`, {hint: `It holds: ${record.tools.map((t) => `${t.tool} ${t.version}`).join(', ')}.`});
  }
  if (wanted.length === 0) throw invalidInput('release.no_build', `${options.buildDir} holds no built tool`);
  const out: PublishedTool[] = [];
  const tools = [...new Set(wanted.map((t) => t.tool))];
  for (const tool of tools) {
    const builds = wanted.filter((t) => t.tool === tool).sort((a, b) => compareVersions(a.version, b.version));
    let last: VersionManifest | undefined;
    const uploaded: string[] = [];
    const alreadyThere: string[] = [];
    for (const build of builds) {
      for (const a of build.artifacts) {
        if (!existsSync(join(options.buildDir, a.file))) throw invalidInput('release.no_build', `${join(options.buildDir, a.file)} is missing (listed in build.json)`);
      }
      last = await publishVersion(options, tool, build.version, record.commit, build.artifacts, ui, uploaded, alreadyThere);
    }
    out.push(await publishChannel(options, last!, uploaded, alreadyThere, ui));
  }
  return out;
}

async function publishVersion(
  options: PublishOptions,
  tool: string,
  version: string,
  commit: string,
  built: readonly {platform: Artifact['platform']; file: string; sha256: string; size: number; runtimeSha256?: string}[],
  ui: Ui,
  uploaded: string[],
  alreadyThere: string[],
): Promise<VersionManifest> {
  const {store} = options;
  const path = versionManifestPath(tool, version);
  const existingBytes = await store.read(path, {optional: true});
  const existing = existingBytes ? parseManifest(versionManifestSchema, existingBytes, store.where(path)) : undefined;
  const artifacts = new Map<string, Artifact>((existing?.artifacts ?? []).map((a) => [a.platform, a]));
  for (const a of built) {
    const url = `${versionDirPath(tool, version)}/${a.file}`;
    const before = artifacts.get(a.platform);
    if (before && before.sha256 !== a.sha256) {
      throw conflict('release.immutable', `${tool} ${version} for ${a.platform} is already published in ${store.location} with different content (sha256 ${before.sha256.slice(0, 16)}…, this build ${a.sha256.slice(0, 16)}…)`, {
        hint: 'A published version never changes: bump the version (bcl release build --set-version) and publish that.',
      });
    }
    if (before) {
      alreadyThere.push(a.file);
      continue;
    }
    ui.info(`uploading ${store.where(url)}`);
    await store.write(url, {file: join(options.buildDir, a.file)});
    artifacts.set(a.platform, {platform: a.platform, url, sha256: a.sha256, size: a.size, ...(a.runtimeSha256 ? {runtimeSha256: a.runtimeSha256} : {})});
    uploaded.push(a.file);
  }
  const manifest: VersionManifest = {
    schema: 1,
    kind: 'version',
    tool,
    version,
    published: existing?.published ?? options.now().toISOString(),
    commit: existing?.commit ?? commit,
    artifacts: [...artifacts.values()].sort((a, b) => a.platform.localeCompare(b.platform)),
  };
  if (!existing || serializeManifest(existing).compare(serializeManifest(manifest)) !== 0 || !(await store.read(signaturePath(path), {optional: true}))) {
    await writeSigned(store, path, manifest, options.keys);
  }
  return manifest;
}

async function publishChannel(options: PublishOptions, release: VersionManifest, uploaded: string[], alreadyThere: string[], ui: Ui): Promise<PublishedTool> {
  const {store, channel} = options;
  const path = channelManifestPath(channel, release.tool);
  const currentBytes = await store.read(path, {optional: true});
  const current = currentBytes ? parseManifest(channelManifestSchema, currentBytes, store.where(path)) : undefined;
  if (current && compareVersions(release.version, current.version) < 0 && !options.allowDowngrade) {
    throw conflict('release.downgrade', `channel ${channel} offers ${release.tool} ${current.version}, newer than ${release.version}`, {
      hint: 'Clients refuse to go back a version they have installed; to point the channel at an older version anyway, pass --allow-downgrade.',
    });
  }
  const minimumVersion = options.minimumVersion === undefined ? current?.minimumVersion : (options.minimumVersion ?? undefined);
  const deprecation = options.deprecation === undefined ? current?.deprecation : (options.deprecation ?? undefined);
  if (minimumVersion && compareVersions(minimumVersion, release.version) > 0) {
    throw invalidInput('release.minimum_version', `--minimum-version ${minimumVersion} is above the version being published (${release.version}): no client could satisfy it`);
  }
  const now = options.now();
  const manifest: ChannelManifest = {
    schema: 1,
    kind: 'channel',
    tool: release.tool,
    channel,
    version: release.version,
    published: now.toISOString(),
    expires: new Date(now.getTime() + options.expiresInMs).toISOString(),
    ...(release.commit ? {commit: release.commit} : {}),
    artifacts: release.artifacts,
    ...(minimumVersion ? {minimumVersion} : {}),
    ...(deprecation ? {deprecation} : {}),
  };
  await writeSigned(store, path, manifest, options.keys);
  ui.success(`${release.tool} ${release.version} published to ${channel} (${store.where(path)})`);
  return {
    tool: release.tool,
    version: release.version,
    channel,
    manifest: store.where(path),
    uploaded,
    alreadyThere,
    expires: manifest.expires,
    ...(minimumVersion ? {minimumVersion} : {}),
    ...(deprecation ? {deprecation} : {}),
  };
}

async function writeSigned(store: Store, path: string, manifest: ChannelManifest | VersionManifest, keys: readonly SigningKey[]): Promise<void> {
  const bytes = serializeManifest(manifest);
  await store.write(path, bytes);
  await store.write(signaturePath(path), serializeSignatures(signBytes(bytes, keys)));
}
