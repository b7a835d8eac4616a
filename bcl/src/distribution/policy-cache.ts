import {readFileSync} from 'node:fs';
import {join} from 'node:path';

/**
 * What the last verified channel manifest said, cached per tool in
 * $XDG_CACHE_HOME/bcl/update/<tool>.json: read at every start of an installed tool (the update
 * notice, the deprecation message, the minimumVersion gate), so it is small and plain. Written
 * only after a signature check, by install, update, `update --check` and the daily background
 * check.
 */
export interface PolicyCache {
  schema: 1;
  /** When a check last succeeded (ISO). */
  checkedAt?: string;
  /** When a background check was last started (ISO): at most one a day. */
  attemptedAt?: string;
  channel?: string;
  latest?: string;
  minimumVersion?: string;
  deprecation?: {below: string; message: string};
}

export const policyCacheFile = (cacheDir: string, tool: string) => join(cacheDir, 'update', `${tool}.json`);

export function readPolicyCache(cacheDir: string, tool: string): PolicyCache | undefined {
  try {
    const data = JSON.parse(readFileSync(policyCacheFile(cacheDir, tool), 'utf8')) as PolicyCache;
    return data && data.schema === 1 ? data : undefined;
  } catch {
    return undefined;
  }
}
