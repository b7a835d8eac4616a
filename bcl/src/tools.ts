import {existsSync, readFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

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

export function readPackageJson(root: string): {name: string; version: string; bcl?: {namespace?: string; config?: string}} {
  return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
}
