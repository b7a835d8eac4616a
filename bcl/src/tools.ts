import {existsSync, readFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {bclPaths} from './paths.js';

/** The tools the bcl host mounts under their names (`bcl svctl deploy` is `svctl deploy`). */
export const TOOL_NAMES = ['svctl', 'dbctl', 'pkictl', 'csshctl'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/**
 * Where each tool's package is, seen from the bcl package: in a checkout the workspace siblings
 * under packages/. Only existence checks: this runs on every `bcl` start.
 */
export function toolRoots(bclBinUrl: string): Record<string, string> {
  const bclRoot = dirname(dirname(fileURLToPath(bclBinUrl)));
  const roots: Record<string, string> = {};
  for (const tool of TOOL_NAMES) {
    const root = resolve(bclRoot, '..', 'packages', tool);
    if (existsSync(join(root, 'package.json'))) roots[tool] = root;
  }
  return roots;
}

/**
 * The tools `bcl <tool>` runs and `bcl doctor` asks for checks: in a checkout the workspace
 * siblings; when bcl itself runs from a release, the tools installed with `bcl install` (beside
 * it, else under $XDG_DATA_HOME/bcl/tools). Only existence checks: this runs on every `bcl` start.
 */
export function hostToolRoots(bclBinUrl: string, env: Record<string, string | undefined> = process.env): Record<string, string> {
  const bclRoot = dirname(dirname(fileURLToPath(bclBinUrl)));
  const tree = dirname(bclRoot);
  if (!existsSync(join(tree, 'release.json'))) return toolRoots(bclBinUrl);
  // Installed: <data>/bcl/tools/bcl/<version>/lib; unpacked by hand: the XDG data directory.
  const tools = existsSync(join(tree, 'install.json')) ? dirname(dirname(tree)) : join(bclPaths(env).data, 'tools');
  const roots: Record<string, string> = {};
  for (const tool of TOOL_NAMES) {
    const root = join(tools, tool, 'current', 'lib');
    if (existsSync(join(root, 'package.json'))) roots[tool] = root;
  }
  return roots;
}

export function readPackageJson(root: string): {name: string; version: string; bcl?: {namespace?: string; config?: string}} {
  return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
}
