import * as z from 'zod';
import {denied} from '../errors.js';
import {isValidVersion} from './versions.js';
import {type Platform, PLATFORMS} from './platforms.js';

/**
 * The signed documents of a store:
 *  - channels/<channel>/<tool>.json: what a channel currently offers, with an expiry so a frozen
 *    mirror is noticed, and the channel's policy (minimumVersion, deprecation);
 *  - versions/<tool>/<version>/manifest.json: one release, for installs of an exact version.
 * Each is signed as the exact bytes of the file (<file>.sig).
 */
const version = z.string().refine(isValidVersion, 'a semantic version such as 1.4.0 or 1.5.0-beta.1');
const relativeOrHttpUrl = z
  .string()
  .min(1)
  .refine((u) => /^https?:\/\//.test(u) || (!u.startsWith('/') && !u.split('/').includes('..') && !u.includes('\\')), 'a path inside the store or an http(s) URL');

// Objects are not strict: a newer publisher may add fields, which older clients ignore (the
// bytes are signed either way); `schema` changes when a client must not read a manifest.
export const artifactSchema = z.object({
  platform: z.enum(PLATFORMS),
  /** Relative to the store root, or an absolute http(s) URL. */
  url: relativeOrHttpUrl,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits'),
  size: z.number().int().positive(),
  /** sha256 of the Node binary inside: an installer that already has it links it instead of unpacking it. */
  runtimeSha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits').optional(),
});
export type Artifact = z.output<typeof artifactSchema>;

const toolName = z.string().regex(/^[a-z][a-z0-9-]*$/);
const channelName = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/);
const timestamp = z.string().refine((t) => !Number.isNaN(Date.parse(t)), 'an ISO-8601 time');

export const versionManifestSchema = z.object({
  schema: z.literal(1),
  kind: z.literal('version'),
  tool: toolName,
  version,
  published: timestamp,
  commit: z.string().optional(),
  artifacts: z.array(artifactSchema).min(1),
});
export type VersionManifest = z.output<typeof versionManifestSchema>;

export const channelManifestSchema = z.object({
  schema: z.literal(1),
  kind: z.literal('channel'),
  tool: toolName,
  channel: channelName,
  version,
  published: timestamp,
  expires: timestamp,
  commit: z.string().optional(),
  artifacts: z.array(artifactSchema).min(1),
  /** Versions below this refuse commands that change anything until updated. */
  minimumVersion: version.optional(),
  /** Versions below `below` print `message` whenever they run. */
  deprecation: z.object({below: version, message: z.string().min(1).max(2000)}).optional(),
});
export type ChannelManifest = z.output<typeof channelManifestSchema>;

/** What a release tree says about itself: release.json at its root (covered by the tarball's signed sha256). */
export interface ReleaseInfo {
  schema: 1;
  tool: string;
  version: string;
  platform: Platform;
  node: string;
  /** sha256 of runtime/bin/node. */
  runtimeSha256: string;
  commit: string;
}

export const channelManifestPath = (channel: string, tool: string) => `channels/${channel}/${tool}.json`;
export const versionDirPath = (tool: string, v: string) => `versions/${tool}/${v}`;
export const versionManifestPath = (tool: string, v: string) => `${versionDirPath(tool, v)}/manifest.json`;
export const signaturePath = (path: string) => `${path}.sig`;

/** The bytes that get signed and stored: stable two-space JSON with a final newline. */
export function serializeManifest(manifest: ChannelManifest | VersionManifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
}

/** Parses a manifest whose signature was already verified; `what` names it in errors. */
export function parseManifest<S extends typeof channelManifestSchema | typeof versionManifestSchema>(schema: S, bytes: Uint8Array, what: string): z.output<S> {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw denied('update.manifest_invalid', `${what} is not JSON: ${(error as Error).message}`, {hint: 'Ask the release team to publish again.'});
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw denied('update.manifest_invalid', `${what}: ${issue.path.join('.') || '(root)'}: ${issue.message}`, {
      hint: 'The manifest is signed but not one this version understands; update bcl, or ask the release team.',
    });
  }
  return parsed.data as z.output<S>;
}
