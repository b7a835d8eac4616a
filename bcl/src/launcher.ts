/**
 * The entry point of every BCL tool's bin. Startup speed is a feature: this module imports only
 * node built-ins, answers `--version` and `--help` from files written at build time, and loads
 * oclif only to run a command.
 */
// Built-ins through process.getBuiltinModule, not ESM imports: importing node:fs builds its ES
// module facade, which reads every export, lazy ones included (fs.promises loads readline and
// streams): milliseconds on every start, --version included.
const {closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} = process.getBuiltinModule('node:fs');
const module = process.getBuiltinModule('node:module');
const {homedir} = process.getBuiltinModule('node:os');
const {dirname, isAbsolute, join} = process.getBuiltinModule('node:path');
const {fileURLToPath, pathToFileURL} = process.getBuiltinModule('node:url');

interface PackageJson {
  name: string;
  version: string;
  oclif: {bin: string; dirname?: string; topicSeparator?: string};
  /** bundle: the main file of a bundled package (packages/release's bundle.ts), relative to the root. */
  bcl?: {bundle?: string};
}

interface ManifestCommand {
  id: string;
  aliases?: string[];
  relativePath?: string[];
}

/** What BclCommand and oclif's Command read from their config when a command runs. */
export interface CommandConfig {
  root: string;
  name: string;
  version: string;
  bin: string;
  dirname: string;
  pjson: PackageJson;
  topicSeparator: string;
  platform: NodeJS.Platform;
  arch: string;
  userAgent: string;
  runHook(event: string, options: unknown): Promise<{successes: unknown[]; failures: unknown[]}>;
  scopedEnvVar(key: string): string | undefined;
  /**
   * Loads a module of the package by its path under the root ("./dist/config.js"): from the
   * bundle's main file when the package is bundled, else import() of the file. Absent when oclif
   * runs the command (its fallback dispatch): callers import the file then.
   */
  loadModule?(relativePath: string): Promise<unknown>;
  /**
   * A module of another package by its root and path under it (a tool's config or doctor module):
   * from its bundle when it is bundled, else import() of the file. For code in a bundle's main
   * file, which has no module loader of its own.
   */
  importModule?(root: string, relativePath: string): Promise<unknown>;
  /**
   * Another bundled package's module, loaded at once (its main file is CommonJS), with the
   * identity of that build; undefined when the package is not bundled.
   */
  bundledModule?(root: string, relativePath: string): {buildId: string; load(): unknown} | undefined;
  /**
   * The identity of a bundled build ("<tool>-<path hash>@<size>-<time>-<node>"): what caches made
   * from its code are named after (validated inputs, see validated.ts). Absent when unbundled.
   */
  buildId?: string;
}

interface RunnableCommand {
  /** Set on BclCommand: it runs without oclif's Config (its own parse, errors and exit codes). */
  bclCommand?: boolean;
  id?: string;
  new (argv: string[], config: CommandConfig): {_run(): Promise<unknown>};
}

/** Runs the tool whose bin/run.js is at `binUrl` (its import.meta.url) with `argv`. */
export async function runTool(binUrl: string, argv: string[] = process.argv.slice(2)): Promise<void> {
  enableCompileCache();
  const root = dirname(dirname(fileURLToPath(binUrl)));
  const code = await runRoot(root, argv);
  await exitWhenFlushed(code);
}

async function runRoot(root: string, rawArgv: string[]): Promise<number> {
  const argv = hoistGlobalFlags(rawArgv);
  const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
  if (argv.length === 1 && argv[0] === '--version') {
    writeOut(`${pjson.oclif.bin}/${pjson.version} ${process.platform}-${process.arch} node-${process.version}\n`);
    return 0;
  }
  const help = prerenderedHelp(root, argv);
  if (help !== undefined) {
    writeOut(help);
    return 0;
  }
  streamsUsed = true;
  const direct = await runFromManifest(root, pjson, argv);
  if (direct !== undefined) return direct;
  const {run} = await import('@oclif/core');
  try {
    await run(argv, root);
  } catch (error) {
    return reportOutside(error, argv);
  }
  return typeof process.exitCode === 'number' ? process.exitCode : Number(process.exitCode ?? 0);
}

/**
 * The bcl host: `bcl <tool> ...` runs that tool exactly as its own bin would (oclif has no
 * plugin namespaces, and the tools' commands would collide: status, update...). A mount that
 * keeps its word serves a topic of bcl's own (`bcl release build`, from the release package).
 */
export async function runHost(binUrl: string, mounts: Record<string, string | {root: string; keepWord: boolean}>, argv: string[] = process.argv.slice(2)): Promise<void> {
  const hoisted = hoistGlobalFlags(argv);
  const first = hoisted[0];
  if (first && Object.hasOwn(mounts, first)) {
    const mount = mounts[first]!;
    const toolRoot = typeof mount === 'string' ? mount : mount.root;
    const rest = typeof mount === 'object' && mount.keepWord ? hoisted : hoisted.slice(1);
    enableCompileCache();
    // An installed tool is a release of its own (its own Node, its own bundle): run its launcher.
    const code = existsSync(join(dirname(toolRoot), 'release.json'))
      ? await runLauncher(join(dirname(toolRoot), 'bin', first), rest)
      : await runRoot(toolRoot, rest);
    await exitWhenFlushed(code);
    return;
  }
  await runTool(binUrl, argv);
}

async function runLauncher(file: string, argv: string[]): Promise<number> {
  const {spawn} = await import('node:child_process');
  // The terminal's Ctrl-C reaches the child directly; this process only waits for its exit code.
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  return new Promise((resolve) => {
    const child = spawn(file, argv, {stdio: 'inherit'});
    child.on('error', (error) => {
      process.stderr.write(`Error: cannot run ${file}: ${error.message}\n`);
      resolve(1);
    });
    child.on('close', (code, signal) => {
      process.off('SIGINT', ignore);
      resolve(code ?? (signal === 'SIGINT' ? 130 : 1));
    });
  });
}

const GLOBAL_BOOLEAN = new Set(['--json', '--verbose', '-v', '--quiet', '-q', '--non-interactive', '--no-color', '--color']);
const GLOBAL_VALUED = new Set(['--profile', '--config']);

/**
 * Global flags may come before the command (`bcl --json config list`); oclif wants them after
 * the command id, so leading ones move to the end (before any `--`).
 */
export function hoistGlobalFlags(argv: string[]): string[] {
  const leading: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (GLOBAL_BOOLEAN.has(arg)) leading.push(arg);
    else if (GLOBAL_VALUED.has(arg) && i + 1 < argv.length) leading.push(arg, argv[++i]!);
    else if ([...GLOBAL_VALUED].some((f) => arg.startsWith(`${f}=`))) leading.push(arg);
    else break;
  }
  if (leading.length === 0) return argv;
  const rest = argv.slice(i);
  const dashdash = rest.indexOf('--');
  return dashdash === -1 ? [...rest, ...leading] : [...rest.slice(0, dashdash), ...leading, ...rest.slice(dashdash)];
}

/**
 * Runs a command of the tool's own manifest (oclif.manifest.json, written at build time) without
 * oclif's Config.load: it reads every plugin, the manifest and package.json of each, and costs
 * more than the whole budget of a command like `config list`. The command id is found as oclif
 * finds it (the longest run of leading words naming a command, topics separated by spaces).
 * Anything else (a plugin's command, an unknown one, a non-BCL command) goes to oclif.
 */
async function runFromManifest(root: string, pjson: PackageJson, argv: string[]): Promise<number | undefined> {
  if (process.env.BCL_OCLIF_DISPATCH === '1') return undefined;
  let commands: Record<string, ManifestCommand>;
  try {
    commands = (JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>}).commands;
  } catch {
    return undefined;
  }
  const words: string[] = [];
  for (const arg of argv) {
    if (arg.startsWith('-')) break;
    words.push(arg);
  }
  let found: {command: ManifestCommand; rest: string[]} | undefined;
  for (let n = words.length; n > 0 && !found; n--) {
    const id = words.slice(0, n).join(':');
    const command = commands[id] ?? Object.values(commands).find((c) => c.aliases?.includes(id));
    if (command) found = {command, rest: argv.slice(n)};
  }
  if (!found?.command.relativePath) return undefined;
  const loadModule = moduleLoader(root, pjson, found.command.id);
  packageLoaders.set(root, loadModule);
  const module = (await loadModule(found.command.relativePath.join('/'))) as {default?: RunnableCommand};
  const Command = module.default;
  if (!Command?.bclCommand) return undefined;
  Command.id = found.command.id;
  const identity = pjson.bcl?.bundle ? bundleIdentity(join(root, pjson.bcl.bundle)) : undefined;
  const config = {...commandConfig(root, pjson), loadModule, importModule, bundledModule, ...(identity ? {buildId: `${pjson.oclif.bin}-${identity.name}@${identity.version}`} : {})};
  await new Command(found.rest, config)._run();
  return typeof process.exitCode === 'number' ? process.exitCode : Number(process.exitCode ?? 0);
}

function commandConfig(root: string, pjson: PackageJson): CommandConfig {
  const bin = pjson.oclif.bin;
  return {
    root,
    name: pjson.name,
    version: pjson.version,
    bin,
    dirname: pjson.oclif.dirname ?? bin,
    pjson,
    topicSeparator: pjson.oclif.topicSeparator ?? ' ',
    platform: process.platform,
    arch: process.arch,
    userAgent: `${bin}/${pjson.version} ${process.platform}-${process.arch} node-${process.version}`,
    // BCL tools register no oclif hooks.
    runHook: async () => ({successes: [], failures: []}),
    scopedEnvVar: (key) => process.env[`${bin.toUpperCase().replace(/-/g, '_')}_${key}`],
  };
}

/**
 * How a package's modules are loaded: a bundled package (package.json "bcl": {"bundle"}) has
 * them all in one CommonJS file, each evaluated on first use; otherwise each is its own file.
 */
const importFile = (file: string): Promise<unknown> => import(pathToFileURL(file).href);
const packageLoaders = new Map<string, (relativePath: string) => Promise<unknown>>();

function bundledModule(root: string, relativePath: string): {buildId: string; load(): unknown} | undefined {
  let pjson: PackageJson;
  try {
    pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
  const main = pjson.bcl?.bundle;
  const identity = main ? bundleIdentity(join(root, main)) : undefined;
  if (!main || !identity || !pjson.oclif?.bin) return undefined;
  const key = relativePath.replace(/^\.\//, '').replace(/\.(c|m)?js$/, '');
  return {
    buildId: `${pjson.oclif.bin}-${identity.name}@${identity.version}`,
    load: () => {
      const load = loadBundle(join(root, main), pjson.oclif.bin, 'modules').modules[key];
      if (!load) throw new Error(`${root}: its bundle has no module ${relativePath}`);
      return load();
    },
  };
}

function importModule(root: string, relativePath: string): Promise<unknown> {
  let load = packageLoaders.get(root);
  if (!load) {
    let pjson: PackageJson | undefined;
    try {
      pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
    } catch {
      pjson = undefined;
    }
    // Another tool's bundle: one code cache for what this process loads of it (its config, its checks).
    load = pjson?.oclif?.bin ? moduleLoader(root, pjson, 'modules') : (rel: string) => importFile(join(root, rel));
    packageLoaders.set(root, load);
  }
  return load(relativePath);
}

function moduleLoader(root: string, pjson: PackageJson, commandId: string): (relativePath: string) => Promise<unknown> {
  const byFile = (relativePath: string) => importFile(join(root, relativePath));
  const main = pjson.bcl?.bundle;
  if (!main) return byFile;
  let modules: Record<string, (() => unknown) | undefined> | undefined;
  return async (relativePath) => {
    modules ??= loadBundle(join(root, main), pjson.oclif.bin, commandId).modules;
    const load = modules[relativePath.replace(/^\.\//, '').replace(/\.(c|m)?js$/, '')];
    return load ? load() : byFile(relativePath);
  };
}

/** A code cache of the bundle still to be written (after the command, so it holds what ran). */
let pendingCodeCache: (() => void) | undefined;

/**
 * Runs a bundle's main file with a V8 code cache of its own, made once the command has run:
 * Node's compile cache (enableCompileCache) is made when a file is compiled, before it runs, so it
 * holds little more than the top level, and every function a command calls is compiled again on
 * each run. One cache per tool and command ($XDG_CACHE_HOME/bcl/code-cache), remade when V8
 * rejects it (another Node, another bundle).
 */
function loadBundle(file: string, tool: string, commandId: string): {modules: Record<string, () => unknown>} {
  const require = module.createRequire(file);
  const known = require.cache[file];
  if (known) return known.exports as {modules: Record<string, () => unknown>};
  const source = readFileSync(file, 'utf8');
  const cacheFile = codeCacheFile(file, tool, commandId);
  const cachedData = cacheFile ? readCodeCache(cacheFile) : undefined;
  const vm = process.getBuiltinModule('node:vm');
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  // Registered as Node registers a CommonJS module, so a file that requires the bundle (the
  // modules at the paths oclif imports) gets this instance.
  const Module = module as unknown as new (id: string) => NodeJS.Module;
  const record = new Module(file);
  record.filename = file;
  require.cache[file] = record;
  (script.runInThisContext() as (...args: unknown[]) => void)(record.exports, require, record, file, dirname(file));
  record.loaded = true;
  if (cacheFile && (!cachedData || script.cachedDataRejected)) pendingCodeCache = () => writeCodeCache(cacheFile, script.createCachedData());
  return record.exports as {modules: Record<string, () => unknown>};
}

/** code-cache/<tool>-<bundle path hash>@<version>/<command>.bin */
function codeCacheFile(bundleFile: string, tool: string, commandId: string): string | undefined {
  if (process.env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const identity = bundleIdentity(bundleFile);
  if (!identity) return undefined;
  const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]/g, '_');
  return join(cacheBase(), 'bcl', 'code-cache', `${safe(tool)}-${identity.name}@${identity.version}`, `${safe(commandId)}.bin`);
}

/**
 * A bundle's identity without reading it twice: where it is (a hash of its path), and its version
 * as its size and time and the Node that runs it. A cache of a new version replaces the old one's.
 */
function bundleIdentity(bundleFile: string): {name: string; version: string} | undefined {
  let stat;
  try {
    stat = statSync(bundleFile);
  } catch {
    return undefined;
  }
  return {name: fnv1a(bundleFile).toString(36), version: `${stat.size.toString(36)}-${Math.floor(stat.mtimeMs).toString(36)}-${process.version}`};
}

function readCodeCache(file: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    // Code this user runs: only a file of this user's that nobody else may write.
    const stat = fstatSync(fd);
    if ((process.getuid && stat.uid !== process.getuid()) || (stat.mode & 0o022) !== 0) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function writeCodeCache(file: string, data: Buffer): void {
  const dir = dirname(file);
  const caches = dirname(dir);
  const version = dir.slice(caches.length + 1);
  try {
    mkdirSync(dir, {recursive: true, mode: 0o700});
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, data, {mode: 0o600});
    renameSync(temporary, file);
    // The caches of another version of the same bundle (or another Node) are stale.
    const prefix = version.slice(0, version.indexOf('@') + 1);
    for (const other of readdirSync(caches)) if (other.startsWith(prefix) && other !== version) rmSync(join(caches, other), {recursive: true, force: true});
  } catch {
    // A cache that cannot be written only costs speed.
  }
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/** Help pages rendered by oclif's own Help class at build time (dist/help.json): id -> text. */
function prerenderedHelp(root: string, argv: string[]): string | undefined {
  const wantsHelp = argv.length === 0 || argv.some((a) => a === '--help' || a === '-h');
  if (!wantsHelp || argv.includes('--')) return undefined;
  const words = argv.filter((a) => a !== '--help' && a !== '-h');
  if (words.some((w) => w.startsWith('-'))) return undefined;
  let pages: Record<string, string>;
  try {
    pages = JSON.parse(readFileSync(join(root, 'dist', 'help.json'), 'utf8')) as Record<string, string>;
  } catch {
    return undefined;
  }
  return pages[words.join(':')];
}

/** Errors oclif raises before a command runs (unknown command, broken plugin): same contract. */
async function reportOutside(error: unknown, argv: string[]): Promise<number> {
  const {toBclError} = await import('./errors.js');
  const {errorBody, writeEnvelope} = await import('./command/base.js');
  const e = toBclError(error);
  if (argv.includes('--json')) writeEnvelope({ok: false, error: errorBody(e), warnings: []});
  if (!argv.includes('--json') || process.stderr.isTTY) {
    process.stderr.write(`Error: ${e.message}\n${e.hint ? `Hint: ${e.hint}\n` : ''}`);
    if (argv.includes('--verbose') && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  }
  return e.exitCode;
}

function enableCompileCache(): void {
  const enable = (module as unknown as {enableCompileCache?: (dir?: string) => unknown}).enableCompileCache;
  if (!enable || process.env.NODE_DISABLE_COMPILE_CACHE) return;
  try {
    enable(join(cacheBase(), 'bcl', 'node-compile-cache'));
  } catch {
    // A read-only cache directory only costs speed.
  }
}

/** $XDG_CACHE_HOME, else ~/.cache. */
function cacheBase(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return xdg && isAbsolute(xdg) ? xdg : join(process.env.HOME || homedir(), '.cache');
}

/**
 * Whether process.stdout or process.stderr may hold output to flush. `--version` and `--help`
 * write with writeSync instead: creating the streams loads Node's stream modules (and net for a
 * pipe), a sixth of what `--version` costs.
 */
let streamsUsed = false;

function writeOut(text: string): void {
  const bytes = Buffer.from(text);
  let at = 0;
  if (!streamsUsed) {
    try {
      const {writeSync} = process.getBuiltinModule('node:fs');
      while (at < bytes.length) at += writeSync(1, bytes, at);
      return;
    } catch {
      // A non-blocking pipe that is full (EAGAIN), or anything else: the stream writes the rest.
    }
  }
  streamsUsed = true;
  process.stdout.write(bytes.subarray(at));
}

async function exitWhenFlushed(code: number): Promise<void> {
  pendingCodeCache?.();
  if (streamsUsed) {
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
    await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
  }
  process.exit(code);
}
