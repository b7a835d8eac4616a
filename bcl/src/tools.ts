import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {bclPaths} from './paths.js';

// Not an ESM import of node:fs: the bcl host's bin loads this module on every start, and the
// module facade of node:fs loads its lazy parts (see launcher.ts).
const {existsSync, readdirSync, readFileSync} = process.getBuiltinModule('node:fs');

/**
 * The "bcl" section of a package.json, which is how bcl knows a package without a list of names:
 * `tool: true` marks a tool the host mounts under its oclif bin (`bcl svctl ...`); `hostTopic`
 * marks a package serving one of bcl's own topics in a checkout (`bcl release ...`).
 */
export interface BclPackageSection {
  tool?: boolean;
  hostTopic?: string;
  namespace?: string;
  config?: string;
  doctor?: string;
  /** In a checkout's bundle (scripts/build.mjs): the workspace root. */
  checkout?: string;
}

export interface PackageJson {
  name: string;
  version: string;
  description?: string;
  oclif?: {bin?: string; topics?: Record<string, {description?: string}>};
  bcl?: BclPackageSection;
}

/** A package the bcl host runs: a tool (`bcl svctl deploy` is `svctl deploy`) or a topic of bcl's own. */
export interface HostMount {
  root: string;
  /** The topic's word stays in the command line (`bcl release build` is `release build` there). */
  keepWord: boolean;
}

/** The workspace packages of a checkout that carry a "bcl" section, by directory (sorted). */
export function workspacePackages(workspaceRoot: string): {root: string; pjson: PackageJson}[] {
  const dir = join(workspaceRoot, 'packages');
  if (!existsSync(dir)) return [];
  const out: {root: string; pjson: PackageJson}[] = [];
  for (const name of readdirSync(dir).sort()) {
    const root = join(dir, name);
    const pjson = readPackageJsonIfAny(root);
    if (pjson?.bcl) out.push({root, pjson});
  }
  return out;
}

/** The tools of a checkout's workspace (`"bcl": {"tool": true}`), by bin name. */
export function workspaceTools(workspaceRoot: string): Record<string, string> {
  const tools: Record<string, string> = {};
  for (const {root, pjson} of workspacePackages(workspaceRoot)) {
    if (pjson.bcl?.tool && pjson.oclif?.bin) tools[pjson.oclif.bin] = root;
  }
  return tools;
}

/**
 * Where each tool's package is, seen from the bcl package: in a checkout the workspace's tools.
 * This runs on every `bcl` start: a directory listing and a few small package.json files.
 */
export function toolRoots(bclBinUrl: string): Record<string, string> {
  const bclRoot = bclRootOf(bclBinUrl);
  const checkout = readPackageJsonIfAny(bclRoot)?.bcl?.checkout;
  const tools = workspaceTools(checkout ?? resolve(bclRoot, '..'));
  // The bundled bcl of a checkout runs the tools' bundles too (scripts/build.mjs writes them).
  if (checkout) for (const [name, root] of Object.entries(tools)) if (existsSync(join(root, '.bundle', 'package.json'))) tools[name] = join(root, '.bundle');
  return tools;
}

/**
 * The tools `bcl <tool>` runs and `bcl doctor` asks for checks: in a checkout the workspace's
 * tools; when bcl itself runs from a release, the tools installed with `bcl install` (beside it,
 * else under $XDG_DATA_HOME/bcl/tools), each known by its installed package.json.
 */
export function hostToolRoots(bclBinUrl: string, env: Record<string, string | undefined> = process.env): Record<string, string> {
  const tree = dirname(bclRootOf(bclBinUrl));
  if (!existsSync(join(tree, 'release.json'))) return toolRoots(bclBinUrl);
  // Installed: <data>/bcl/tools/bcl/<version>/lib; unpacked by hand: the XDG data directory.
  const tools = existsSync(join(tree, 'install.json')) ? dirname(dirname(tree)) : join(bclPaths(env).data, 'tools');
  const roots: Record<string, string> = {};
  if (!existsSync(tools)) return roots;
  for (const name of readdirSync(tools).sort()) {
    const root = join(tools, name, 'current', 'lib');
    const pjson = readPackageJsonIfAny(root);
    if (pjson?.bcl?.tool && pjson.oclif?.bin === name) roots[name] = root;
  }
  return roots;
}

/** What the bcl host runs instead of itself, by first word: the tools, and in a checkout the packages serving a topic of bcl. */
export function hostMounts(bclBinUrl: string, env: Record<string, string | undefined> = process.env): Record<string, HostMount> {
  const mounts: Record<string, HostMount> = {};
  for (const [tool, root] of Object.entries(hostToolRoots(bclBinUrl, env))) mounts[tool] = {root, keepWord: false};
  const bclRoot = bclRootOf(bclBinUrl);
  if (!existsSync(join(dirname(bclRoot), 'release.json'))) {
    for (const {root, pjson} of workspacePackages(readPackageJsonIfAny(bclRoot)?.bcl?.checkout ?? resolve(bclRoot, '..'))) {
      const topic = pjson.bcl?.hostTopic;
      if (topic && !Object.hasOwn(mounts, topic)) mounts[topic] = {root, keepWord: true};
    }
  }
  return mounts;
}

export function readPackageJson(root: string): PackageJson {
  return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
}

function readPackageJsonIfAny(root: string): PackageJson | undefined {
  try {
    return readPackageJson(root);
  } catch {
    return undefined;
  }
}

/** The bcl package root from its bin/run.js URL. */
function bclRootOf(bclBinUrl: string): string {
  return dirname(dirname(fileURLToPath(bclBinUrl)));
}
