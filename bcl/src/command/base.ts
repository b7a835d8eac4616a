import {join} from 'node:path';
import {pathToFileURL} from 'node:url';
import type {CommandConfig} from '../launcher.js';
import {bclNamespace} from '../config/bcl-namespace.js';
import {type ConfigNamespace, isKnownNamespace, type NamespaceName} from '../config/namespace.js';
import {type FlagValue, loadConfig} from '../config/resolve.js';
import {type BclError, ExitCode, interrupted, toBclError} from '../errors.js';
import {ResultWriter} from '../output/result.js';
import {colorEnabled, painter} from '../output/style.js';
import {Ui} from '../output/ui.js';
import {bclPaths} from '../paths.js';
import {Redactor} from '../process/redactor.js';
import {type CommandContext, createContext} from './context.js';
import type {ArgDefinition, ArgValues, FlagDefinition, FlagValues} from './definitions.js';
import {globalFlags, jsonFlag} from './flags.js';
import {parseCommandLine} from './parse.js';
import {fileValidationMemo} from '../validated.js';
import {hostToolRoots, readPackageJson, toolRoots} from '../tools.js';
import {interactivity, Prompter} from './prompt.js';
import type {Env} from '../paths.js';

/** What a command class declares (its statics), as the parser and oclif's manifest read them. */
export interface CommandClass {
  flags?: Record<string, FlagDefinition>;
  args?: Record<string, ArgDefinition<unknown>>;
}

export type BclFlags<T extends CommandClass> = FlagValues<(typeof BclCommand)['baseFlags'] & {json: typeof jsonFlag} & NonNullable<T['flags']>>;
export type BclArgs<T extends CommandClass> = ArgValues<NonNullable<T['args']>>;

/** The JSON envelope: exactly one document on stdout in --json mode. */
export type Envelope =
  | {ok: true; result: unknown; warnings: string[]}
  | {ok: false; error: {code: string; message: string; hint?: string; details?: unknown}; warnings: string[]};

interface BclPjson {
  /** gate: the version gate module a release names (the distribution client's); siblingConfigs: a checkout bundle's other tools' config modules. */
  bcl?: {namespace?: string; config?: string; gate?: string; siblingConfigs?: Record<string, string>};
}

/** What a release's version gate is told about the command, before it runs. */
export interface GateOptions {
  /** The package root (oclif config.root): lib/ of an installed release. */
  root: string;
  tool: string;
  version: string;
  env: Env;
  /** $XDG_CACHE_HOME/bcl */
  cacheDir: string;
  ui: Ui;
  json: boolean;
  /** The command changes nothing (may run below the minimum version). */
  allowedBelowMinimumVersion: boolean;
  /** bcl.update.check */
  checkEnabled: boolean;
}

/** A release's version gate: it may refuse the command (throw), and acts once it has run. */
export interface VersionGate {
  afterRun(): Promise<void>;
}

/**
 * The base of every command of every BCL tool. It owns the global flags, configuration
 * loading, the context handed to the core, the JSON envelope, rendering of the returned result,
 * error reporting with documented exit codes, and SIGINT. Subclasses implement `run()`, which
 * returns a typed result, and may override `renderResult` for the human form.
 */
export abstract class BclCommand<T extends CommandClass = CommandClass> {
  /**
   * The launcher runs BCL commands itself (see runFromManifest in launcher.ts): the class does not
   * extend oclif's Command, whose import alone costs more than a fast command. oclif still reads
   * these statics at build time for the manifest and the help pages.
   */
  static readonly bclCommand = true;
  static id: string | undefined;
  static summary: string | undefined;
  static description: string | undefined;
  static examples: string[] | undefined;
  static hidden = false;
  static aliases: string[] = [];
  static strict = true;
  static enableJsonFlag = true;
  static flags: Record<string, FlagDefinition> = {};
  static args: Record<string, ArgDefinition<unknown>> = {};
  static baseFlags = globalFlags;
  /** Flags whose values form the top configuration layer: flag name -> config key. */
  static configFlags: Record<string, string> = {};
  /**
   * The command changes nothing (config get, doctor...): it still runs on an installed version
   * below its channel's minimumVersion, which refuses every other command until updated.
   */
  static allowedBelowMinimumVersion = false;
  /** Whether --profile selects the profile to read (false where it names a profile to write). */
  static appliesProfile = true;
  /** Whether values ignored in an untrusted project file are reported (not by the commands that decide trust). */
  static warnsIgnoredConfig = true;

  protected flags!: BclFlags<T>;
  protected args!: BclArgs<T>;
  protected ctx!: CommandContext;
  readonly id: string | undefined;

  private readonly abort = new AbortController();
  private readonly redactor = new Redactor();
  private ui?: Ui;
  private gate?: VersionGate;

  constructor(
    /** The command line after the command id. */
    public argv: string[],
    readonly config: CommandConfig,
  ) {
    this.id = (this.constructor as typeof BclCommand).id;
  }

  /** oclif's way to run a command class (its fallback dispatch, and scripts): the same as the launcher's. */
  static async run(this: new (argv: string[], config: CommandConfig) => BclCommand, argv: string[], config: CommandConfig): Promise<unknown> {
    return new this(argv, config)._run();
  }

  abstract run(): Promise<unknown>;

  /** Parses this command's flags and arguments (its own, the global ones and --json). */
  protected async parse(ctor: CommandClass & {strict?: boolean} = this.constructor as typeof BclCommand): Promise<{flags: Record<string, unknown>; args: Record<string, unknown>; argv: unknown[]}> {
    const base = this.constructor as typeof BclCommand;
    const flags = {json: jsonFlag, ...base.baseFlags, ...(ctor.flags ?? {})} as Record<string, FlagDefinition>;
    return parseCommandLine(this.argv, {flags, args: ctor.args ?? {}, strict: ctor.strict ?? true, context: {argv: this.argv}});
  }

  /** --json before any `--`. */
  jsonEnabled(): boolean {
    const dashdash = this.argv.indexOf('--');
    const json = this.argv.indexOf('--json');
    return json !== -1 && (dashdash === -1 || json < dashdash);
  }

  protected async init(): Promise<void> {
    const ctor = this.constructor as typeof BclCommand;
    const {flags, args} = await this.parse(ctor);
    this.flags = flags as BclFlags<T>;
    this.args = args as BclArgs<T>;
    const g = flags as unknown as {json?: boolean; quiet?: boolean; verbose?: boolean; color?: boolean; profile?: string; config?: string; 'non-interactive'?: boolean};
    const env = process.env;
    const ui = this.makeUi(Boolean(g.json), Boolean(g.quiet), Boolean(g.verbose), g.color !== false);
    const flagValues: FlagValue[] = [];
    for (const [flag, key] of Object.entries(ctor.configFlags)) {
      const value = (flags as Record<string, unknown>)[flag];
      if (value !== undefined) flagValues.push({key, value, flag: `--${flag}`});
    }
    const paths = bclPaths(env);
    const {namespaces, memoKind} = await this.namespacesWithOrigin();
    const validations = this.config.buildId ? fileValidationMemo(join(paths.cache, 'validated', `${this.config.buildId}.json`)) : undefined;
    const config = loadConfig({
      namespaces,
      ...(validations ? {memo: {store: validations, kindOf: memoKind}} : {}),
      env,
      cwd: process.cwd(),
      paths,
      profile: ctor.appliesProfile ? g.profile : undefined,
      explicitFile: g.config,
      flagValues,
    });
    if (ctor.warnsIgnoredConfig) {
      for (const entry of config.ignored) ui.warn(`${entry.origin.label}: ${entry.key} ignored: ${entry.reason}`);
    }
    this.ctx = createContext({
      tool: this.config.bin,
      version: this.config.version,
      env,
      cwd: process.cwd(),
      paths,
      config,
      ui,
      prompt: new Prompter(() => interactivity(env, Boolean(process.stdin.isTTY), Boolean(g['non-interactive']))),
      json: Boolean(g.json),
      verbose: Boolean(g.verbose),
      redactor: this.redactor,
      signal: this.abort.signal,
      ...(validations ? {validations} : {}),
    });
    // A release names its version gate in package.json (deprecation notice, minimumVersion refusal).
    const gateModule = (this.config.pjson as BclPjson).bcl?.gate;
    if (gateModule) {
      const update = (config.get('bcl') as {update?: {check?: boolean}} | undefined)?.update;
      const {versionGate} = (await this.loadOwnModule(gateModule)) as {versionGate: (o: GateOptions) => Promise<VersionGate | undefined>};
      this.gate = await versionGate({root: this.config.root, tool: this.config.bin, version: this.config.version, env, cacheDir: paths.cache, ui, json: Boolean(g.json), allowedBelowMinimumVersion: ctor.allowedBelowMinimumVersion, checkEnabled: update?.check !== false});
    }
  }

  /**
   * The configuration namespaces this command validates: bcl's, its own tool's, and those of the
   * other tools installed beside it, so a configuration is valid or invalid the same for every tool.
   */
  protected async configNamespaces(): Promise<ConfigNamespace[]> {
    return (await this.namespacesWithOrigin()).namespaces;
  }

  /**
   * The namespaces, and what a validation of each is kept under between runs: this build's, or
   * (for the bcl host of a release) the build of the installed tool it comes from.
   */
  private async namespacesWithOrigin(): Promise<{namespaces: ConfigNamespace[]; memoKind: (name: string) => string | undefined}> {
    const pjson = this.config.pjson as BclPjson;
    const load = async (file: string) => ((await this.loadOwnModule(file)) as {default?: ConfigNamespace}).default;
    const mine = pjson.bcl?.config ? await load(pjson.bcl.config) : undefined;
    // A checkout's bundle carries the other tools' config modules; otherwise they are found on disk.
    const bundled = Boolean(pjson.bcl?.siblingConfigs);
    const foreign = new Map<string, string>();
    const siblings = pjson.bcl?.siblingConfigs
      ? await Promise.all(Object.values(pjson.bcl.siblingConfigs).map(load))
      : await siblingNamespaces(this.config.bin, (root, file) => this.importModule(root, file), (root, file) => this.config.bundledModule?.(root, file), foreign);
    const all = [bclNamespace, ...(mine ? [mine] : []), ...siblings.filter((ns): ns is ConfigNamespace => ns !== undefined)];
    const namespaces = all.filter((ns, i) => all.findIndex((n) => n.name === ns.name) === i);
    const own = new Set(['bcl', ...(mine ? [mine.name] : []), ...(bundled ? namespaces.map((ns) => ns.name) : [])]);
    return {namespaces, memoKind: (name) => (own.has(name) ? `config.${name}` : foreign.has(name) ? `config.${name}@${foreign.get(name)}` : undefined)};
  }

  /** A module of this command's package, by its path under the root (from the bundle when bundled). */
  private loadOwnModule(file: string): Promise<unknown> {
    return this.config.loadModule ? this.config.loadModule(file) : this.importModule(this.config.root, file);
  }

  /**
   * A module of a package by its root and path under it, through the launcher when it lends its
   * loader: a bundle's main file runs without a module loader of its own (launcher.ts, loadBundle).
   */
  protected importModule(root: string, relativePath: string): Promise<unknown> {
    return this.config.importModule ? this.config.importModule(root, relativePath) : import(pathToFileURL(join(root, relativePath)).href);
  }

  /** The human rendering of the result on stdout. */
  protected renderResult(result: unknown, out: ResultWriter): void {
    out.value(result);
  }

  protected async finally(_error: Error | undefined): Promise<void> {}

  async _run<R>(): Promise<R> {
    const onSigint = () => {
      if (this.abort.signal.aborted) {
        process.stderr.write('\nInterrupted again: exiting without cleanup.\n');
        process.exit(ExitCode.interrupted);
      }
      this.abort.abort();
      this.ui?.info('\nInterrupting: cleaning up (press Ctrl-C again to force)…');
    };
    process.on('SIGINT', onSigint);
    let result: unknown;
    let failure: unknown;
    try {
      await this.init();
      result = await this.run();
    } catch (error) {
      failure = error;
    } finally {
      process.off('SIGINT', onSigint);
      await this.finally(failure instanceof Error ? failure : undefined).catch(() => undefined);
    }
    if (failure === undefined && this.abort.signal.aborted && result === undefined) failure = interrupted();
    if (failure !== undefined) {
      this.report(failure);
      await this.gate?.afterRun();
      return undefined as R;
    }
    this.emitResult(result);
    await this.gate?.afterRun();
    return result as R;
  }

  private makeUi(json: boolean, quiet: boolean, verbose: boolean, color: boolean): Ui {
    this.ui = new Ui({stderr: process.stderr, json, quiet, verbose, color: colorEnabled(process.stderr, process.env, color), redactor: this.redactor});
    return this.ui;
  }

  private emitResult(result: unknown): void {
    const ui = this.ui ?? this.makeUi(this.jsonEnabled(), false, false, true);
    if (this.jsonEnabled()) {
      writeEnvelope({ok: true, result: this.redactor.redactValue(result ?? null), warnings: ui.warnings});
      return;
    }
    const writer = new ResultWriter(process.stdout, painter(colorEnabled(process.stdout, process.env, this.argv.includes('--no-color') ? false : true)));
    this.renderResult(result, writer);
  }

  /** Reports a failure on stderr (or as the JSON envelope) and sets the exit code. */
  private report(failure: unknown): void {
    let error: BclError = toBclError(failure);
    if (this.abort.signal.aborted && error.exitCode !== ExitCode.interrupted) error = interrupted(`interrupted: ${error.message}`);
    const verbose = this.argv.includes('--verbose') || this.argv.includes('-v');
    const ui = this.ui ?? this.makeUi(this.jsonEnabled(), false, verbose, !this.argv.includes('--no-color'));
    process.exitCode = error.exitCode;
    if (this.jsonEnabled()) {
      writeEnvelope({ok: false, error: errorBody(error, this.redactor), warnings: ui.warnings});
    }
    if (!this.jsonEnabled() || process.stderr.isTTY || verbose) {
      const stack = verbose ? stackOf(failure) : undefined;
      ui.error(error, stack);
    }
  }
}

export function errorBody(error: BclError, redactor?: Redactor): Extract<Envelope, {ok: false}>['error'] {
  const r = redactor ?? new Redactor();
  const body: Extract<Envelope, {ok: false}>['error'] = {code: error.code, message: r.redact(error.message)};
  if (error.hint) body.hint = r.redact(error.hint);
  if (error.details !== undefined) body.details = r.redactValue(error.details);
  return body;
}

export function writeEnvelope(envelope: Envelope): void {
  const pretty = Boolean(process.stdout.isTTY);
  process.stdout.write(`${JSON.stringify(envelope, jsonReplacer, pretty ? 2 : undefined)}\n`);
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  return value;
}

function stackOf(error: unknown): string | undefined {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    parts.push(depth === 0 ? (current.stack ?? current.message) : `Caused by: ${current.stack ?? current.message}`);
    current = current.cause;
  }
  return parts.join('\n') || undefined;
}

/**
 * The namespaces of the tools found beside the @bcl/core package (a checkout's workspace). A
 * release of bcl reads those of the tools installed beside it (for `bcl config`); a release of a
 * tool knows only its own, which keeps its start fast.
 */
async function siblingNamespaces(
  bin: string,
  importModule: (root: string, relativePath: string) => Promise<unknown>,
  bundledModule: (root: string, relativePath: string) => {buildId: string; load(): unknown} | undefined,
  foreign: Map<string, string>,
): Promise<ConfigNamespace[]> {
  const coreBin = new URL('../../bin/run.js', import.meta.url).href;
  const roots = Object.values(bin === 'bcl' ? hostToolRoots(coreBin) : toolRoots(coreBin));
  const found = await Promise.all(
    roots.map((root) => {
      const pjson = readPackageJson(root) as BclPjson;
      const name = pjson.bcl?.namespace;
      const bundled = pjson.bcl?.config && name && isKnownNamespace(name) ? bundledModule(root, pjson.bcl.config) : undefined;
      if (!bundled || !name || !isKnownNamespace(name)) return loadPluginNamespace(root, pjson, importModule);
      // An installed tool's bundle is loaded only if its namespace must be validated (see validated.ts).
      foreign.set(name, bundled.buildId);
      return deferredNamespace(name, () => (bundled.load() as {default: ConfigNamespace}).default);
    }),
  );
  return found.filter((ns): ns is ConfigNamespace => ns !== undefined);
}

/** A namespace whose module is loaded when its schema, summary or defaults are first asked for. */
function deferredNamespace(name: NamespaceName, load: () => ConfigNamespace): ConfigNamespace {
  let loaded: ConfigNamespace | undefined;
  const get = () => {
    loaded ??= load();
    if (loaded.name !== name) throw new Error(`the config module of namespace ${name} defines namespace ${loaded.name}`);
    return loaded;
  };
  return {
    name,
    get schema() {
      return get().schema;
    },
    get summary() {
      return get().summary;
    },
    get defaults() {
      return get().defaults;
    },
  };
}

/** Loads the config namespace a plugin declares in package.json ("bcl": {"config": "./dist/config.js"}). */
export async function loadPluginNamespace(
  root: string,
  pjson: BclPjson,
  importModule = (at: string, relativePath: string): Promise<unknown> => import(pathToFileURL(join(at, relativePath)).href),
): Promise<ConfigNamespace | undefined> {
  const file = pjson.bcl?.config;
  if (!file) return undefined;
  const mod = (await importModule(root, file)) as {default?: ConfigNamespace};
  return mod.default;
}
