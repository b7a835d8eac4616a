import {copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync} from 'node:fs';
import {dirname, join, relative, sep} from 'node:path';
import {isBuiltin} from 'node:module';
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
  // The package's own modules go into the main file; the bin and bundled oclif plugins (which
  // bring their own @oclif/core, as the fallback dispatch does) stay ES modules.
  const binFiles = new Set(Object.values(pjson.bin ?? {}).map((f) => join(packageRoot, f)));
  const own = Object.fromEntries(Object.entries(entries).filter(([out, file]) => !binFiles.has(file) && !out.startsWith('node_modules/')));
  const esm = Object.fromEntries(Object.entries(entries).filter(([out]) => !Object.hasOwn(own, out)));

  const esbuild = await loadEsbuild();
  rmSync(outDir, {recursive: true, force: true});
  mkdirSync(outDir, {recursive: true});
  const common = {
    absWorkingDir: options.workspaceRoot,
    bundle: true,
    platform: 'node',
    target: 'node22',
    legalComments: 'eof',
    logLevel: 'silent',
  } as const;
  const fail = (what: string, errors: {text: string}[]) => {
    if (errors.length > 0) throw new BclError('release.bundle_failed', `esbuild failed for ${pjson.name} (${what}): ${errors[0]!.text}`, ExitCode.failed);
  };

  // 1. Which third-party packages the package's modules load as they are imported (light, in the
  //    main file) and which only behind a dynamic import() (heavy: the Kubernetes client, oclif...).
  const graph = await esbuild.build({...common, entryPoints: Object.values(own), format: 'esm', splitting: true, outdir: outDir, write: false, metafile: true});
  fail('module graph', graph.errors);
  const heavy = lazyPackages(graph.metafile!, Object.values(own).map((f) => relative(options.workspaceRoot, f)), options.workspaceRoot);

  // 2. The ES modules: the bin, bundled plugins, and one file per heavy package (dist/vendor/).
  const vendor = new Map<string, Vendored>();
  const withDefault = await filesWithDefaultExport(esbuild, [...heavy].filter((f) => graph.metafile!.inputs[relative(options.workspaceRoot, f).split(sep).join('/')]?.format === 'esm'), options.workspaceRoot);
  for (const [i, file] of [...heavy].sort().entries()) {
    const esModule = graph.metafile!.inputs[relative(options.workspaceRoot, file).split(sep).join('/')]?.format === 'esm';
    vendor.set(file, {out: `dist/vendor/${vendorName(options.workspaceRoot, file)}-${i}`, esModule, hasDefault: withDefault.has(file), names: []});
  }
  const esmResult = await esbuild.build({
    ...common,
    entryPoints: {...esm, ...Object.fromEntries([...vendor].map(([file, v]) => [v.out, `bcl-vendor-entry:${file}`]))},
    outdir: outDir,
    splitting: true,
    format: 'esm',
    chunkNames: 'dist/chunks/[name]-[hash]',
    // CommonJS dependencies call require(): give every ESM file one.
    banner: {js: "import {createRequire as __bclCreateRequire} from 'node:module'; const require = __bclCreateRequire(import.meta.url);"},
    // ... and some read __filename/__dirname.
    define: {__filename: 'import.meta.filename', __dirname: 'import.meta.dirname'},
    plugins: [cjsDynamicImports(), vendorEntries(vendor)],
    metafile: true,
  });
  fail('ES modules', esmResult.errors);
  for (const v of vendor.values()) v.names = [...(esmResult.metafile!.outputs[relative(options.workspaceRoot, join(outDir, `${v.out}.js`)).split(sep).join('/')]?.exports ?? [])].sort();

  // 3. The main file: every module of the package in one CommonJS file, each evaluated on first
  //    use, so the launcher can run it with a code cache made after the command (launcher.ts).
  const exportsOf = await entryExports(esbuild, own, options.workspaceRoot);
  const mainResult = await esbuild.build({
    ...common,
    entryPoints: {[stripJs(BUNDLE_MAIN)]: 'bcl-main'},
    outdir: outDir,
    outExtension: {'.js': '.cjs'},
    format: 'cjs',
    banner: {js: 'var __bclMetaUrl = require("node:url").pathToFileURL(__filename).href;'},
    define: {'import.meta.url': '__bclMetaUrl', 'import.meta.filename': '__filename', 'import.meta.dirname': '__dirname'},
    plugins: [mainEntry(own), vendorImports(vendor, dirname(join(outDir, BUNDLE_MAIN)), outDir), builtinDynamicImports()],
    metafile: true,
    write: false,
  });
  fail('main file', mainResult.errors);
  // Pure ASCII, which Node reads into a string several times faster than text with one character
  // beyond it (the launcher reads this file on every run). esbuild escapes such characters in code;
  // what is left is in comments, where a \u escape means the same.
  for (const file of mainResult.outputFiles ?? []) {
    mkdirSync(dirname(file.path), {recursive: true});
    writeFileSync(file.path, file.text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  }

  // 4. A small ES module at every path oclif or bcl imports (a command of the manifest, the
  //    config module...), taking its exports from the main file.
  for (const [out, names] of Object.entries(exportsOf)) {
    const stub = join(outDir, `${out}.js`);
    mkdirSync(dirname(stub), {recursive: true});
    const main = relative(dirname(stub), join(outDir, BUNDLE_MAIN));
    const lines = ["import {createRequire} from 'node:module';", `const m = createRequire(import.meta.url)(${JSON.stringify(main.startsWith('.') ? main : `./${main}`)}).modules[${JSON.stringify(out)}]();`];
    names.forEach((name, i) => lines.push(name === 'default' ? 'export default m.default;' : `const e${i} = m[${JSON.stringify(name)}];\nexport {e${i} as ${JSON.stringify(name)}};`));
    writeFileSync(stub, `${lines.join('\n')}\n`);
  }
  const files = Object.keys(esmResult.metafile?.outputs ?? {}).length + 1 + Object.keys(exportsOf).length;

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
    if (isRoot) extra.bundle = BUNDLE_MAIN;
    writeFileSync(join(dest, 'package.json'), `${JSON.stringify(trimPackageJson(pkg.pjson, isRoot ? version : pkg.pjson.version, plugins, isRoot ? options.build : undefined, extra), null, 2)}\n`);
    if (isRoot) copyFileSync(helpFile, join(dest, 'dist', 'help.json'));
  }
  return {name: pjson.name, version, bin: pjson.oclif.bin, files};
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
/**
 * The main file (package.json "bcl": {"bundle": ...}). Two levels under the root like the
 * compiled modules it holds, so `new URL('../../x', import.meta.url)` means the same in both.
 */
const BUNDLE_MAIN = './dist/bundle/main.cjs';

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

type Metafile = import('esbuild').Metafile;

/**
 * The files of third-party packages that the entries reach only through a dynamic import():
 * each becomes a file of its own under dist/vendor/, loaded when that import runs. A package
 * some entry imports statically is light by the project's rule (heavy modules are imported inside
 * the function that needs them) and is bundled into the main file.
 */
function lazyPackages(metafile: Metafile, entries: string[], workspaceRoot: string): Set<string> {
  const inputs = metafile.inputs;
  const light = new Set<string>();
  const seen = new Set<string>();
  const stack = [...entries];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file) || !inputs[file]) continue;
    seen.add(file);
    const pkg = packageOf(file);
    if (pkg) light.add(pkg);
    for (const imp of inputs[file].imports) if (!imp.external && imp.kind !== 'dynamic-import') stack.push(imp.path);
  }
  const heavy = new Set<string>();
  for (const [file, input] of Object.entries(inputs)) {
    const from = packageOf(file);
    if (from && !light.has(from)) continue; // inside a heavy package: bundled with it
    for (const imp of input.imports) {
      const to = imp.external ? undefined : packageOf(imp.path);
      if (to && !light.has(to)) heavy.add(join(workspaceRoot, imp.path));
    }
  }
  return heavy;
}

/** The installed package a bundled input belongs to ("node_modules/.pnpm/x@1/node_modules/x"), or undefined for workspace code. */
function packageOf(input: string): string | undefined {
  const parts = input.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at === -1 || at + 1 >= parts.length) return undefined;
  return parts.slice(0, at + (parts[at + 1]!.startsWith('@') ? 3 : 2)).join('/');
}

function vendorName(workspaceRoot: string, file: string): string {
  const pkg = packageOf(relative(workspaceRoot, file).split(sep).join('/')) ?? 'module';
  return pkg.split('/node_modules/').pop()!.replace(/^@/, '').replace(/[^A-Za-z0-9._-]+/g, '-');
}

/** A heavy package's file, bundled as dist/vendor/<name>.js. */
interface Vendored {
  out: string;
  /** An ES module (else CommonJS, which require() gives as module.exports). */
  esModule: boolean;
  hasDefault: boolean;
  /** Its export names (an ES module's), from the bundle. */
  names: string[];
}

/**
 * dist/vendor/<name>.js: an ES module re-exports everything; a CommonJS module is given as its
 * module.exports (Node returns the "module.exports" export of a required ES module), so the main
 * file's require() sees it as Node would.
 */
function vendorEntries(vendor: Map<string, Vendored>): import('esbuild').Plugin {
  return {
    name: 'bcl-vendor-entries',
    setup(build) {
      build.onResolve({filter: /^bcl-vendor-entry:/}, (args) => ({path: args.path.slice('bcl-vendor-entry:'.length), namespace: 'bcl-vendor-entry'}));
      build.onLoad({filter: /.*/, namespace: 'bcl-vendor-entry'}, (args) => {
        const v = vendor.get(args.path)!;
        const file = JSON.stringify(args.path);
        const contents = v.esModule
          ? `export * from ${file};\n${v.hasDefault ? `export {default} from ${file};\n` : ''}`
          : `const m = require(${file});\nexport {m as "module.exports"};\n`;
        return {contents, resolveDir: dirname(args.path), loader: 'js'};
      });
    },
  };
}

/** Which of these ES module files declare a default export (never re-exported by `export *`). */
async function filesWithDefaultExport(esbuild: Esbuild, files: string[], workspaceRoot: string): Promise<Set<string>> {
  if (files.length === 0) return new Set();
  const result = await esbuild.build({absWorkingDir: workspaceRoot, entryPoints: files, outdir: join(workspaceRoot, '.bcl-exports'), bundle: false, write: false, metafile: true, format: 'esm', platform: 'node', logLevel: 'silent'});
  const found = new Set<string>();
  for (const output of Object.values(result.metafile!.outputs)) {
    if (output.entryPoint !== undefined && output.exports.includes('default')) found.add(join(workspaceRoot, output.entryPoint));
  }
  return found;
}

/** The main file's entry: every module of the package by its path (without .js), each loaded on first call. */
function mainEntry(own: Record<string, string>): import('esbuild').Plugin {
  return {
    name: 'bcl-main',
    setup(build) {
      build.onResolve({filter: /^bcl-main$/}, () => ({path: 'bcl-main', namespace: 'bcl-main'}));
      build.onLoad({filter: /.*/, namespace: 'bcl-main'}, () => {
        const rows = Object.entries(own).map(([out, file]) => `  ${JSON.stringify(out)}: () => require(${JSON.stringify(file)}),`);
        return {contents: `export const modules = {\n${rows.join('\n')}\n};\n`, resolveDir: '/', loader: 'js'};
      });
    },
  };
}

/** In the main file, a heavy package is required from its dist/vendor/ file when the importing module runs. */
function vendorImports(vendor: Map<string, Vendored>, mainDir: string, outDir: string): import('esbuild').Plugin {
  return {
    name: 'bcl-vendor-imports',
    setup(build) {
      build.onResolve({filter: /^[^./]/}, async (args) => {
        if (args.pluginData === 'bcl-vendor' || args.namespace === 'bcl-vendor' || isBuiltin(args.path) || vendor.size === 0) return undefined;
        const resolved = await build.resolve(args.path, {kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'bcl-vendor'});
        if (resolved.errors.length > 0 || resolved.external || !vendor.has(resolved.path)) return undefined;
        return {path: resolved.path, namespace: 'bcl-vendor'};
      });
      build.onResolve({filter: /^\.\.?\//}, (args) => (args.namespace === 'bcl-vendor' ? {path: args.path, external: true} : undefined));
      build.onLoad({filter: /.*/, namespace: 'bcl-vendor'}, (args) => {
        const v = vendor.get(args.path)!;
        const rel = relative(mainDir, join(outDir, `${v.out}.js`)).split(sep).join('/');
        const lines = [`const m = require(${JSON.stringify(rel.startsWith('.') ? rel : `./${rel}`)});`];
        // CommonJS: module.exports itself, imported as esbuild imports any CommonJS module.
        if (!v.esModule) lines.push('module.exports = m;');
        else v.names.forEach((name, i) => lines.push(name === 'default' ? 'export default m.default;' : `const e${i} = m[${JSON.stringify(name)}];\nexport {e${i} as ${JSON.stringify(name)}};`));
        return {contents: lines.join('\n'), resolveDir: mainDir, loader: 'js'};
      });
    },
  };
}

/** `await import('node:x')` in the main file becomes require(): the launcher runs it without a module loader. */
function builtinDynamicImports(): import('esbuild').Plugin {
  return {
    name: 'bcl-builtin-dynamic-imports',
    setup(build) {
      build.onResolve({filter: /^[a-z_:/]+$/}, (args) => (args.kind === 'dynamic-import' && isBuiltin(args.path) ? {path: args.path, namespace: 'bcl-builtin'} : undefined));
      build.onLoad({filter: /.*/, namespace: 'bcl-builtin'}, (args) => ({contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js'}));
    },
  };
}

/** The export names of each entry module (compiled ES modules: their exports are static). */
async function entryExports(esbuild: Esbuild, entries: Record<string, string>, workspaceRoot: string): Promise<Record<string, string[]>> {
  const result = await esbuild.build({absWorkingDir: workspaceRoot, entryPoints: entries, outdir: join(workspaceRoot, '.bcl-exports'), bundle: false, write: false, metafile: true, format: 'esm', platform: 'node', logLevel: 'silent'});
  const byInput = new Map(Object.entries(entries).map(([out, file]) => [relative(workspaceRoot, file).split(sep).join('/'), out]));
  const names: Record<string, string[]> = {};
  for (const output of Object.values(result.metafile!.outputs)) {
    const out = output.entryPoint === undefined ? undefined : byInput.get(output.entryPoint);
    if (out !== undefined) names[out] = [...output.exports].sort();
  }
  return names;
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
