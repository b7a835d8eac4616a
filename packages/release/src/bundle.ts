import {copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {pathToFileURL} from 'node:url';
import {BclError, ExitCode} from '@bcl/core';

/**
 * Bundles an oclif package (a tool, or bcl itself) with its production dependencies into a few
 * ESM files that run with no node_modules: one entry per file oclif or bcl loads by path (the bin,
 * every command of the manifest, hooks, the config and doctor modules, bundled oclif plugins),
 * shared code split into chunks. The layout matches what package.json and oclif.manifest.json
 * name, so oclif finds everything as it does in a checkout.
 */
export interface BundleOptions {
  /** The package root (a workspace package, built: dist/, oclif.manifest.json, dist/help.json). */
  packageRoot: string;
  /** Where the bundle goes (created; must not exist). */
  outDir: string;
  /** The version to stamp into package.json and the manifest (default: package.json's). */
  version?: string;
  /** The workspace root: paths in the bundle's comments are relative to it. */
  workspaceRoot: string;
  /** Extra fields for package.json's "bcl" section (the commit...). */
  build?: Record<string, unknown>;
  /** The version gate module (the distribution client's, built): bundled and named in package.json, so the command base runs it. */
  gate?: string;
  /**
   * Other tools' configuration modules (bin name -> built module), bundled and named in
   * package.json ("bcl": {"siblingConfigs"}), so a checkout's bundled tool validates every
   * namespace of the workspace as the unbundled one does. Releases leave it out.
   */
  siblingConfigs?: Record<string, string>;
  /** A checkout's bundle: the workspace root, so the bundled bcl finds the workspace's tools. */
  checkout?: string;
}

interface PackageJson {
  name: string;
  version: string;
  description?: string;
  type?: string;
  license?: string;
  bin?: Record<string, string>;
  oclif?: {bin?: string; commands?: string; plugins?: string[]; hooks?: Record<string, string | string[]>; [k: string]: unknown};
  bcl?: {namespace?: string; config?: string; doctor?: string};
  dependencies?: Record<string, string>;
}

interface Manifest {
  version: string;
  commands: Record<string, {relativePath?: string[]}>;
}

export interface BundleResult {
  name: string;
  version: string;
  bin: string;
  files: number;
}

const stripJs = (p: string) => p.replace(/^\.\//, '').replace(/\.(c|m)?js$/, '');

export async function bundleOclifPackage(options: BundleOptions): Promise<BundleResult> {
  const {packageRoot, outDir} = options;
  const pjson = readJson<PackageJson>(join(packageRoot, 'package.json'));
  const manifestFile = join(packageRoot, 'oclif.manifest.json');
  const helpFile = join(packageRoot, 'dist', 'help.json');
  if (!pjson.oclif?.bin || !existsSync(manifestFile) || !existsSync(helpFile)) {
    throw new BclError('release.not_built', `${packageRoot} is not a built oclif package (no oclif.manifest.json or dist/help.json)`, ExitCode.failed, {
      hint: 'Run `node scripts/build.mjs` in the checkout first.',
    });
  }
  const version = options.version ?? pjson.version;
  const entries: Record<string, string> = {};
  const packages: {from: string; to: string; pjson: PackageJson}[] = [{from: packageRoot, to: '', pjson}];
  for (const plugin of pjson.oclif.plugins ?? []) {
    const root = findPackage(packageRoot, plugin);
    packages.push({from: root, to: `node_modules/${plugin}/`, pjson: readJson<PackageJson>(join(root, 'package.json'))});
  }
  for (const pkg of packages) {
    if (pkg.to === '') for (const file of Object.values(pkg.pjson.bin ?? {})) entries[stripJs(file)] = join(pkg.from, file);
    const manifest = readJson<Manifest>(join(pkg.from, 'oclif.manifest.json'));
    for (const [id, command] of Object.entries(manifest.commands)) {
      if (!command.relativePath) throw new BclError('release.manifest', `${pkg.from}/oclif.manifest.json: command ${id} has no relativePath`, ExitCode.failed);
      const rel = command.relativePath.join('/');
      entries[pkg.to + stripJs(rel)] = join(pkg.from, rel);
    }
    for (const hooks of Object.values(pkg.pjson.oclif?.hooks ?? {})) {
      for (const hook of Array.isArray(hooks) ? hooks : [hooks]) entries[pkg.to + stripJs(hook)] = join(pkg.from, hook);
    }
    for (const file of [pkg.pjson.bcl?.config, pkg.pjson.bcl?.doctor]) if (file) entries[pkg.to + stripJs(file)] = join(pkg.from, file);
  }
  if (options.gate) entries[stripJs(GATE_ENTRY)] = options.gate;
  const siblings: Record<string, string> = {};
  for (const [name, file] of Object.entries(options.siblingConfigs ?? {})) {
    siblings[name] = `./dist/siblings/${name}.js`;
    entries[stripJs(siblings[name])] = file;
  }

  const esbuild = await loadEsbuild();
  rmSync(outDir, {recursive: true, force: true});
  mkdirSync(outDir, {recursive: true});
  const result = await esbuild.build({
    entryPoints: entries,
    outdir: outDir,
    absWorkingDir: options.workspaceRoot,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    chunkNames: 'dist/chunks/[name]-[hash]',
    // CommonJS dependencies call require(): give every ESM file one.
    banner: {js: "import {createRequire as __bclCreateRequire} from 'node:module'; const require = __bclCreateRequire(import.meta.url);"},
    // ... and some read __filename/__dirname (write-file-atomic names its temporary files with it).
    define: {__filename: 'import.meta.filename', __dirname: 'import.meta.dirname'},
    plugins: [cjsDynamicImports()],
    legalComments: 'eof',
    logLevel: 'silent',
    metafile: true,
  });
  if (result.errors.length > 0) {
    throw new BclError('release.bundle_failed', `esbuild failed for ${pjson.name}: ${result.errors[0]!.text}`, ExitCode.failed);
  }

  for (const pkg of packages) {
    const dest = join(outDir, pkg.to);
    mkdirSync(join(dest, 'dist'), {recursive: true});
    const isRoot = pkg.to === '';
    const manifest = readJson<Manifest>(join(pkg.from, 'oclif.manifest.json'));
    if (isRoot) manifest.version = version;
    writeFileSync(join(dest, 'oclif.manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    // oclif loads a core plugin only when it is also a dependency.
    const plugins = isRoot ? Object.fromEntries(packages.slice(1).map((p) => [p.pjson.name, p.pjson.version])) : {};
    const extra: Record<string, unknown> = {};
    if (isRoot && options.gate) extra.gate = GATE_ENTRY;
    if (isRoot && Object.keys(siblings).length > 0) extra.siblingConfigs = siblings;
    if (isRoot && options.checkout) extra.checkout = options.checkout;
    writeFileSync(join(dest, 'package.json'), `${JSON.stringify(trimPackageJson(pkg.pjson, isRoot ? version : pkg.pjson.version, plugins, isRoot ? options.build : undefined, extra), null, 2)}\n`);
    if (isRoot) copyFileSync(helpFile, join(dest, 'dist', 'help.json'));
  }
  return {name: pjson.name, version, bin: pjson.oclif.bin, files: Object.keys(result.metafile?.outputs ?? {}).length};
}

/** package.json as a release needs it: what oclif and bcl read; dependencies only for bundled plugins. */
function trimPackageJson(pjson: PackageJson, version: string, plugins: Record<string, string>, build: Record<string, unknown> | undefined, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {name: pjson.name, version};
  for (const key of ['description', 'type', 'license', 'bin', 'oclif'] as const) if (pjson[key] !== undefined) out[key] = pjson[key];
  if (Object.keys(plugins).length > 0) out.dependencies = plugins;
  if (pjson.bcl || build || Object.keys(extra).length > 0) out.bcl = {...pjson.bcl, ...(build ? {build} : {}), ...extra};
  return out;
}

/** Where a release keeps its version gate (package.json "bcl": {"gate": ...}). */
const GATE_ENTRY = './dist/version-gate.js';

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

type Esbuild = typeof import('esbuild');

async function loadEsbuild(): Promise<Esbuild> {
  try {
    return (await import('esbuild')) as Esbuild;
  } catch (error) {
    throw new BclError('release.needs_checkout', `bcl release build needs esbuild, a dependency of @bcl/release in a BCL checkout (${(error as Error).message})`, ExitCode.conflict, {
      hint: 'Run `bin/bcl release build` from a checkout after ./scripts/bootstrap.',
    });
  }
}

/**
 * With code splitting, esbuild turns `await import('cjs-package')` into a chunk that only has a
 * default export, where Node would also give the named exports it detects. This plugin routes
 * such imports through a small module that re-exports the names Node itself sees, so
 * `const {run} = await import('@oclif/core')` works the same bundled and unbundled.
 */
function cjsDynamicImports(): import('esbuild').Plugin {
  return {
    name: 'bcl-cjs-dynamic-imports',
    setup(build) {
      build.onResolve({filter: /^[^./]/}, async (args) => {
        if (args.kind !== 'dynamic-import' || args.namespace === 'bcl-cjs') return undefined;
        const resolved = await build.resolve(args.path, {kind: 'import-statement', resolveDir: args.resolveDir, importer: args.importer});
        if (resolved.errors.length > 0 || resolved.external || !isCommonJs(resolved.path)) return undefined;
        return {path: resolved.path, namespace: 'bcl-cjs'};
      });
      build.onLoad({filter: /.*/, namespace: 'bcl-cjs'}, async (args) => {
        const namespace = (await import(pathToFileURL(args.path).href)) as Record<string, unknown>;
        const names = Object.keys(namespace).filter((n) => n !== 'default').sort();
        const lines = [`const m = require(${JSON.stringify(args.path)});`, 'export default m;'];
        names.forEach((name, i) => lines.push(`const e${i} = m[${JSON.stringify(name)}];`, `export {e${i} as ${JSON.stringify(name)}};`));
        return {contents: lines.join('\n'), resolveDir: dirname(args.path), loader: 'js'};
      });
    },
  };
}

/** Where `name` is installed as seen from `from` (node_modules lookup, as oclif does for plugins). */
function findPackage(from: string, name: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) throw new BclError('release.plugin_missing', `oclif plugin ${name} (named in ${from}/package.json) is not installed`, ExitCode.failed, {hint: 'Run ./scripts/bootstrap.'});
  }
}

/** Node's rule: .cjs, or .js under a nearest package.json without "type": "module". */
function isCommonJs(file: string): boolean {
  if (file.endsWith('.cjs')) return true;
  if (!file.endsWith('.js')) return false;
  for (let dir = dirname(file); dirname(dir) !== dir; dir = dirname(dir)) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) return (JSON.parse(readFileSync(pj, 'utf8')) as {type?: string}).type !== 'module';
  }
  return true;
}
