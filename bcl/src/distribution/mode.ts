import {existsSync} from 'node:fs';
import {basename, dirname, join, sep} from 'node:path';
import {BclError, ExitCode} from '../errors.js';
import {INSTALL_RECORD, type InstallRoots, readInstallRecordAt, RELEASE_INFO} from './layout.js';

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
      // The version is the install record's: the directory may be a .replacing-* tree for a moment.
      const version = readInstallRecordAt(tree)?.version ?? basename(tree);
      return {kind: 'installed', versionDir: tree, version, roots: {tools, runtimes: join(data, 'runtimes'), data}};
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
  const signed = `For signed updates and rollbacks, install a release: bcl install ${tool}.`;
  const how =
    copy.kind === 'checkout'
      ? {message: `${tool} runs from the checkout at ${copy.root}, which does not update itself`, hint: `Update the checkout: git -C ${copy.root} pull && ${copy.root}/scripts/bootstrap. ${signed}`}
      : copy.kind === 'npm'
        ? {message: `${tool} was installed with npm (${copy.root}), which does not update itself`, hint: `Update it with npm: npm install -g ${packageName}@latest. ${signed}`}
        : {
            message: `this ${tool} was unpacked from a release tarball by hand (${copy.versionDir}), not installed by bcl`,
            hint: `Install it with \`bcl install ${tool}\` to get signed updates and rollbacks, or unpack a newer tarball the same way.`,
          };
  return new BclError('update.unmanaged', how.message, ExitCode.conflict, {hint: how.hint, details: {how: copy.kind}});
}
