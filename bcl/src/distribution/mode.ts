import {existsSync, readFileSync} from 'node:fs';
import {basename, dirname, join, sep} from 'node:path';
import {BclError, ExitCode} from '../errors.js';
import {INSTALL_RECORD, type InstallRoots, RELEASE_INFO} from './layout.js';

/** How the running copy of a tool got here, which decides how it is updated. */
export type RunningCopy =
  | {kind: 'installed'; versionDir: string; version: string; roots: Omit<InstallRoots, 'bin'> & {data: string}}
  | {kind: 'unpacked'; versionDir: string}
  | {kind: 'npm'; root: string}
  | {kind: 'checkout'; root: string};

/**
 * `packageRoot` is the tool's package root (oclif's config.root): lib/ of a release tree,
 * packages/<tool> of a checkout, or node_modules/@bcl/<tool> of an npm install.
 */
export function runningCopy(packageRoot: string): RunningCopy {
  const tree = dirname(packageRoot);
  if (existsSync(join(tree, RELEASE_INFO)) && basename(packageRoot) === 'lib') {
    if (existsSync(join(tree, INSTALL_RECORD))) {
      const toolDir = dirname(tree);
      const tools = dirname(toolDir);
      const data = dirname(tools);
      return {kind: 'installed', versionDir: tree, version: basename(tree), roots: {tools, runtimes: join(data, 'runtimes'), data}};
    }
    return {kind: 'unpacked', versionDir: tree};
  }
  if (packageRoot.split(sep).includes('node_modules')) return {kind: 'npm', root: packageRoot};
  let dir = packageRoot;
  for (let i = 0; i < 4 && dirname(dir) !== dir; i++, dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return {kind: 'checkout', root: dir};
  }
  return {kind: 'checkout', root: packageRoot};
}

/** The answer of a copy that bcl did not install, to `update`: how to update it instead. */
export function unmanagedCopy(copy: Exclude<RunningCopy, {kind: 'installed'}>, tool: string, packageName: string): BclError {
  const how = {
    checkout: {
      message: `${tool} runs from the checkout at ${'root' in copy ? copy.root : ''}, which does not update itself`,
      hint: `Update the checkout: git -C ${'root' in copy ? copy.root : '.'} pull && ${'root' in copy ? copy.root : '.'}/scripts/bootstrap. For signed updates, install a release: bcl install ${tool}.`,
    },
    npm: {
      message: `${tool} was installed with npm (${'root' in copy ? copy.root : ''}), which does not update itself`,
      hint: `Update it with npm: npm install -g ${packageName}@latest. For signed updates and rollbacks, install it with: bcl install ${tool}.`,
    },
    unpacked: {
      message: `this ${tool} was unpacked from a release tarball by hand (${'versionDir' in copy ? copy.versionDir : ''}), not installed by bcl`,
      hint: `Install it with \`bcl install ${tool}\` to get signed updates and rollbacks, or unpack a newer tarball the same way.`,
    },
  }[copy.kind];
  return new BclError('update.unmanaged', how.message, ExitCode.conflict, {hint: how.hint, details: {how: copy.kind}});
}

export function readJsonFile<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
