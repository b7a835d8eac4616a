import {readFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {metaAt, shapeOf} from '@bcl/spec-loader';
import type {z} from 'zod';
import type {BclPaths} from '../paths.js';
import {writeAtomically} from './atomic-write.js';
import type {ConfigFile} from './files.js';
import type {ConfigNamespace} from './namespace.js';

/**
 * Which keys a project `.bcl.yaml` may set. A project file arrives with `git clone`, so it is
 * untrusted: keys that choose a program, a server, a CA, a key or a trust root are honoured from
 * it only when the user has trusted that file's exact content (`bcl config trust`), as direnv and
 * mise do. Every key declares its rule in its namespace's schema (`projectKey` or `trustedKey`);
 * a declaration on a mapping covers every key below it. An undeclared key counts as `trusted`.
 */
export type ProjectFileRule = 'allowed' | 'trusted';

const META_KEY = 'bclProjectFile';

/** A project file may set this key (a preference such as a default environment or a timeout). */
export function projectKey<S extends z.ZodType>(schema: S): S {
  return schema.meta({[META_KEY]: 'allowed'}) as S;
}

/** This key names a program, a server, a CA, a key or a trust root: a project file sets it only when trusted. */
export function trustedKey<S extends z.ZodType>(schema: S): S {
  return schema.meta({[META_KEY]: 'trusted'}) as S;
}

/** The rule for a key path inside a namespace, and whether the key declared one at all. */
export function projectFileRule(ns: ConfigNamespace, path: readonly string[]): {rule: ProjectFileRule; declared: boolean} {
  const found = metaAt(shapeOf(ns.schema), path, META_KEY);
  return found === 'allowed' || found === 'trusted' ? {rule: found, declared: true} : {rule: 'trusted', declared: false};
}

export interface TrustRecord {
  file: string;
  sha256: string;
  trustedAt: string;
}

/** The project files the user trusts, by path and content hash. */
export interface TrustStore {
  isTrusted(file: string, content: string | Uint8Array): boolean;
}

export function contentHash(content: string | Uint8Array): string {
  // node:crypto is loaded only when a project file actually needs a trust decision (startup time).
  const {createHash} = process.getBuiltinModule('node:crypto');
  return createHash('sha256').update(content).digest('hex');
}

/** Where trust decisions are kept: $XDG_DATA_HOME/bcl/trusted-files.json (the user's own data). */
export function trustFile(paths: BclPaths): string {
  return join(paths.data, 'trusted-files.json');
}

export function readTrustRecords(paths: BclPaths): TrustRecord[] {
  let text: string;
  try {
    text = readFileSync(trustFile(paths), 'utf8');
  } catch {
    return [];
  }
  try {
    const data = JSON.parse(text) as {files?: unknown};
    return Array.isArray(data.files)
      ? data.files.filter((r): r is TrustRecord => typeof r?.file === 'string' && typeof r?.sha256 === 'string' && typeof r?.trustedAt === 'string')
      : [];
  } catch {
    // A damaged record trusts nothing; `bcl config trust` rewrites it.
    return [];
  }
}

/** Reads the records only when a project file actually needs a decision. */
export function fileTrustStore(paths: BclPaths): TrustStore {
  let records: TrustRecord[] | undefined;
  return {
    isTrusted(file, content) {
      records ??= readTrustRecords(paths);
      const path = resolve(file);
      const hash = contentHash(content);
      return records.some((r) => r.file === path && r.sha256 === hash);
    },
  };
}

/** Trusts a project file's current content (replacing an earlier decision about the same path). */
export async function recordTrust(paths: BclPaths, file: string, content: string | Uint8Array, now = new Date()): Promise<TrustRecord> {
  const record: TrustRecord = {file: resolve(file), sha256: contentHash(content), trustedAt: now.toISOString()};
  const records = readTrustRecords(paths).filter((r) => r.file !== record.file);
  await writeTrustRecords(paths, [...records, record]);
  return record;
}

/** Forgets a project file; true when it was trusted. */
export async function removeTrust(paths: BclPaths, file: string): Promise<boolean> {
  const path = resolve(file);
  const records = readTrustRecords(paths);
  const kept = records.filter((r) => r.file !== path);
  if (kept.length === records.length) return false;
  await writeTrustRecords(paths, kept);
  return true;
}

async function writeTrustRecords(paths: BclPaths, records: TrustRecord[]): Promise<void> {
  const sorted = [...records].sort((a, b) => a.file.localeCompare(b.file));
  await writeAtomically(trustFile(paths), `${JSON.stringify({version: 1, files: sorted}, null, 2)}\n`, 0o600);
}

/** The values of a project file that only count when it is trusted (key paths from the file's top, profiles included). */
export function valuesNeedingTrust(file: ConfigFile, namespaces: readonly ConfigNamespace[]): {key: string; value: unknown}[] {
  const byName = new Map(namespaces.map((ns) => [ns.name, ns]));
  const out: {key: string; value: unknown}[] = [];
  const visit = (node: unknown, path: string[], nsAt: number) => {
    if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
      for (const [k, v] of Object.entries(node)) visit(v, [...path, k], nsAt);
      return;
    }
    const ns = byName.get(path[nsAt] as ConfigNamespace['name']);
    if (!ns || path.length <= nsAt + 1) return;
    if (projectFileRule(ns, path.slice(nsAt + 1)).rule === 'trusted') out.push({key: path.join('.'), value: node});
  };
  for (const [k, v] of Object.entries(file.data)) {
    if (k === 'profiles' && v && typeof v === 'object') {
      for (const [profile, body] of Object.entries(v)) visit(body, ['profiles', profile], 2);
    } else visit(v, [k], 0);
  }
  return out;
}
