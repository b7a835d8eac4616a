import {existsSync, mkdirSync} from 'node:fs';
import {dirname, join} from 'node:path';
import type {GateOptions, VersionGate} from '../command/base.js';
import {conflict} from '../errors.js';
import {type PolicyCache, policyCacheFile, readPolicyCache} from './policy-cache.js';

const DAY_MS = 86_400_000;

/**
 * What an installed tool does around every command, from the policy cache only (no network, one
 * small file): print the channel's deprecation message, refuse commands that change anything
 * when below the channel's minimumVersion, and after the command, on an interactive terminal,
 * show the update notice and start the daily check in the background. A release names this
 * module in its package.json ("bcl": {"gate": ...}) and the command base runs it; a checkout or
 * npm install has no gate, and a release without install.json (unpacked by hand) skips it.
 */
export async function versionGate(options: GateOptions): Promise<VersionGate | undefined> {
  const tree = dirname(options.root);
  if (!existsSync(join(tree, 'install.json'))) return undefined;
  const cache = readPolicyCache(options.cacheDir, options.tool);
  // semver (and the module loads it takes) only when there is a version to compare with.
  let compare: ((a: string, b: string) => number) | undefined;
  const below = async (v: string | undefined) => {
    if (v === undefined || v === options.version) return false;
    compare ??= (await import('./versions.js')).compareVersions;
    return safeCompare(compare, options.version, v) < 0;
  };
  if (cache?.deprecation && (await below(cache.deprecation.below))) {
    options.ui.warn(`${options.tool} ${options.version} is deprecated: ${cache.deprecation.message}`);
  }
  if (cache?.minimumVersion && (await below(cache.minimumVersion)) && !options.allowedBelowMinimumVersion) {
    throw conflict('update.required', `${options.tool} ${options.version} is below the minimum version ${cache.minimumVersion} of the ${cache.channel ?? ''} channel, and no longer runs commands that change anything`, {
      hint: `Update it first: ${options.tool} update`,
      details: {version: options.version, minimumVersion: cache.minimumVersion},
    });
  }
  return {
    async afterRun() {
      if (!noticeWanted(options)) return;
      if (cache?.latest && (await below(cache.latest))) {
        options.ui.line(`${options.ui.paint('yellow', 'A new version is available:')} ${options.tool} ${options.version} -> ${cache.latest}. Run \`${options.tool} update\`.`);
      }
      if (due(cache, Date.now())) await startBackgroundCheck(options, cache);
    },
  };
}

function noticeWanted(o: GateOptions): boolean {
  const ci = o.env.CI;
  return (
    !o.json &&
    o.checkEnabled &&
    o.ui.isTTY &&
    o.env.BCL_DISABLE_UPDATE_CHECK !== '1' &&
    !(ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0')
  );
}

function due(cache: PolicyCache | undefined, now: number): boolean {
  const last = Math.max(Date.parse(cache?.checkedAt ?? '') || 0, Date.parse(cache?.attemptedAt ?? '') || 0);
  return now - last >= DAY_MS || last > now + DAY_MS;
}

/** `<tool> update --background` as a detached process: it never delays or outlives the command's output. */
async function startBackgroundCheck(o: GateOptions, cache: PolicyCache | undefined): Promise<void> {
  try {
    const {writeFileAtomicSync} = await import('@bcl/files');
    const file = policyCacheFile(o.cacheDir, o.tool);
    mkdirSync(dirname(file), {recursive: true});
    writeFileAtomicSync(file, `${JSON.stringify({...cache, schema: 1, attemptedAt: new Date().toISOString()})}\n`, {mode: 0o644});
    const {spawn} = await import('node:child_process');
    const child = spawn(process.execPath, [join(o.root, 'bin', 'run.js'), 'update', '--background', '--json'], {
      detached: true,
      stdio: 'ignore',
      env: {...process.env, BCL_DISABLE_UPDATE_CHECK: '1'},
    });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No cache directory, no check: the notice is a convenience.
  }
}

function safeCompare(compare: (a: string, b: string) => number, a: string, b: string): number {
  try {
    return compare(a, b);
  } catch {
    return 0;
  }
}
