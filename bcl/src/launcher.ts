/**
 * The entry point of every BCL tool's bin. Startup speed is a feature: this module imports only
 * node built-ins, answers `--version` and `--help` from files written at build time, and loads
 * oclif only to run a command.
 */
import {existsSync, readFileSync} from 'node:fs';
import module from 'node:module';
import {homedir} from 'node:os';
import {dirname, isAbsolute, join} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

interface PackageJson {
  name: string;
  version: string;
  oclif: {bin: string; dirname?: string; topicSeparator?: string};
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
    process.stdout.write(`${pjson.oclif.bin}/${pjson.version} ${process.platform}-${process.arch} node-${process.version}\n`);
    return 0;
  }
  const help = prerenderedHelp(root, argv);
  if (help !== undefined) {
    process.stdout.write(help);
    return 0;
  }
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
  const module = (await import(pathToFileURL(join(root, ...found.command.relativePath)).href)) as {default?: RunnableCommand};
  const Command = module.default;
  if (!Command?.bclCommand) return undefined;
  Command.id = found.command.id;
  const config = commandConfig(root, pjson);
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
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(process.env.HOME || homedir(), '.cache');
  try {
    enable(join(base, 'bcl', 'node-compile-cache'));
  } catch {
    // A read-only cache directory only costs speed.
  }
}

async function exitWhenFlushed(code: number): Promise<void> {
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
  process.exit(code);
}
