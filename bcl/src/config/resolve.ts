import {coerce, describeIssues, formatKeyPath, joinProblemLines, keysOf, resolveEnvPath, shapeAt, shapeOf} from '@bcl/spec-loader';
import type {z} from 'zod';
import {BclError, ExitCode, invalidInput} from '../errors.js';
import {compareAsLocale} from '../text.js';
import type {BclPaths, Env} from '../paths.js';
import {type ConfigFile, type FileLayerKind, findProjectFile, isPlainObject, parseConfigText, readConfigFile} from './files.js';
import {type ConfigNamespace, KNOWN_NAMESPACES} from './namespace.js';
import {fileTrustStore, projectFileRule, type TrustStore} from './trust.js';
import type {ValidationMemo} from '../validated.js';

export type LayerKind = 'default' | 'system' | 'user' | 'project' | 'explicit' | 'env' | 'flag';

/** Where a value came from: a file (and line, and profile), an environment variable, a flag, or the default. */
export interface Origin {
  kind: LayerKind;
  /** Human label: "/home/a/.config/bcl/config.yaml:4 (profile prod)", "env BCL_SVCTL_DEFAULT_ENV", "flag --store", "default". */
  label: string;
  file?: string;
  line?: number;
  column?: number;
  profile?: string;
  env?: string;
  flag?: string;
}

export interface ConfigEntry {
  key: string;
  value: unknown;
  origin: Origin;
  /** Values of lower layers that this one hides, highest first: nothing is ever hidden from view. */
  overridden: {value: unknown; origin: Origin}[];
}

/** A value of an untrusted project file that was not used, and why. */
export interface IgnoredEntry {
  key: string;
  value: unknown;
  origin: Origin;
  reason: string;
}

/** A value a command's flag contributes to the top layer (e.g. pkictl --store -> pkictl.store). */
export interface FlagValue {
  key: string;
  value: unknown;
  flag: string;
}

export interface LoadConfigOptions {
  /** The namespaces whose schemas this process knows; other known namespaces pass through unvalidated. */
  namespaces: readonly ConfigNamespace[];
  env: Env;
  cwd: string;
  paths: BclPaths;
  /** --profile, else BCL_PROFILE. */
  profile?: string | undefined;
  /** --config <file>: an extra file layer above the project file. */
  explicitFile?: string | undefined;
  flagValues?: readonly FlagValue[];
  /** Text to use instead of a file's content (to validate an edit before it is written). */
  fileOverrides?: ReadonlyMap<string, string>;
  /** The project file to use instead of searching up from cwd (when an edit creates one). */
  projectFile?: string;
  /** Which project files the user trusts (default: the user's trust records under $XDG_DATA_HOME/bcl). */
  trust?: TrustStore;
  /**
   * Validations kept between runs (validated.ts), under the kind `kindOf` gives a namespace (it
   * names the build its schema comes from); a namespace without one is always validated.
   */
  memo?: {store: ValidationMemo; kindOf: (name: string) => string | undefined};
}

/** Environment variables with the BCL_ prefix that are not configuration keys. */
const RESERVED_ENV = new Set(['BCL_PROFILE', 'BCL_SYSTEM_CONFIG', 'BCL_DISABLE_UPDATE_CHECK', 'BCL_TESTKIT_CACHE']);

interface Layer {
  tree: Record<string, unknown>;
  originAt(path: readonly (string | number)[]): Origin;
}

type Path = (string | number)[];
const keyOf = (path: readonly (string | number)[]) => path.join('.');

/**
 * The effective configuration of one command run, with the origin of every value.
 * Layers, lowest first: defaults < /etc/bcl/config.yaml < $XDG_CONFIG_HOME/bcl/config.yaml <
 * nearest .bcl.yaml < --config file < the selected profile's sections (same file order) <
 * BCL_<NAMESPACE>_<KEY> environment variables < flags.
 */
export class ResolvedConfig {
  constructor(
    private readonly values: Record<string, unknown>,
    private readonly entryList: ConfigEntry[],
    readonly files: readonly {kind: string; path: string}[],
    readonly profile: string | undefined,
    private readonly known: ReadonlySet<string>,
    /** Values of an untrusted project file that were not used (keys it may not set). */
    readonly ignored: readonly IgnoredEntry[] = [],
  ) {}

  /** The validated value of a namespace, typed by its schema. */
  namespace<S extends z.ZodType>(ns: ConfigNamespace<S>): z.output<S> {
    if (!this.known.has(ns.name)) throw new Error(`namespace ${ns.name} was not registered when the configuration was loaded`);
    return this.values[ns.name] as z.output<S>;
  }

  /** The value at a dotted key ("svctl.clusters.prod.context"), or undefined when unset. */
  get(key: string): unknown {
    let current: unknown = this.values;
    for (const segment of key.split('.')) {
      if (!isPlainObject(current)) return undefined;
      current = current[segment];
    }
    return current;
  }

  /** Every leaf value with its origin and what it overrides, sorted by key. */
  entries(prefix?: string): ConfigEntry[] {
    if (!prefix) return this.entryList;
    return this.entryList.filter((e) => e.key === prefix || e.key.startsWith(`${prefix}.`));
  }

  entry(key: string): ConfigEntry | undefined {
    return this.entryList.find((e) => e.key === key);
  }
}

export function loadConfig(options: LoadConfigOptions): ResolvedConfig {
  const {namespaces, env, paths} = options;
  const schemas = new Map<string, ConfigNamespace>(namespaces.map((ns) => [ns.name, ns]));
  const profile = options.profile ?? (env.BCL_PROFILE || undefined);

  const read = (path: string, kind: FileLayerKind, required = false) => {
    const override = options.fileOverrides?.get(path);
    return override === undefined ? readConfigFile(path, kind, required) : parseConfigText(override, path, kind);
  };
  const files: ConfigFile[] = [];
  const system = read(paths.systemConfigFile, 'system');
  if (system) files.push(system);
  const user = read(paths.userConfigFile, 'user');
  if (user) files.push(user);
  const projectPath = options.projectFile ?? findProjectFile(options.cwd);
  const project = projectPath ? read(projectPath, 'project') : undefined;
  if (project) files.push(project);
  if (options.explicitFile) {
    const explicit = read(options.explicitFile, 'explicit', true);
    if (explicit) files.push(explicit);
  }

  const layers: Layer[] = [];
  const ignored: IgnoredEntry[] = [];
  const trust = options.trust ?? fileTrustStore(paths);
  const guarded = (layer: Layer, file: ConfigFile): Layer => (file.kind === 'project' ? guardProjectLayer(layer, file, schemas, trust, ignored) : layer);
  for (const file of files) {
    const {profiles: _profiles, ...base} = file.data;
    layers.push(guarded(fileLayer(file, base), file));
  }
  if (profile) {
    let found = false;
    for (const file of files) {
      const profiles = file.data.profiles;
      if (!isPlainObject(profiles) || !(profile in profiles)) continue;
      found = true;
      const body = profiles[profile];
      layers.push(guarded(fileLayer(file, isPlainObject(body) ? body : {}, profile), file));
    }
    if (!found) {
      const defined = [...new Set(files.flatMap((f) => (isPlainObject(f.data.profiles) ? Object.keys(f.data.profiles) : [])))];
      throw invalidInput('config.unknown_profile', `profile "${profile}" is not defined in any config file`, {
        hint: defined.length > 0 ? `Defined profiles: ${defined.join(', ')}.` : `Define it under profiles.${profile} in a config file.`,
        details: {profile, files: files.map((f) => f.path), defined},
      });
    }
  }
  layers.push(envLayer(env, schemas));
  if (options.flagValues?.length) layers.push(...options.flagValues.map(flagLayer));

  // Merge leaves layer by layer, keeping every value each key ever had.
  const merged: Record<string, unknown> = {};
  const history = new Map<string, {value: unknown; origin: Origin; path: Path}[]>();
  for (const layer of layers) {
    for (const [path, value] of leaves(layer.tree, [])) {
      setLeaf(merged, history, path, value, layer.originAt(path));
    }
  }

  // Validate each namespace this process knows; attribute every problem to the layer that set it.
  const values: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  for (const name of KNOWN_NAMESPACES) {
    const raw = merged[name] ?? {};
    const ns = schemas.get(name);
    if (!ns) {
      if (merged[name] !== undefined) values[name] = raw;
      continue;
    }
    // What the same build's schema made of the same value in an earlier run: no schema built, and
    // (for an installed tool seen by the bcl host) its module not even loaded.
    const kind = options.memo?.kindOf(name);
    const memo = kind ? options.memo!.store : undefined;
    const input = memo ? JSON.stringify(raw) : '';
    const known = memo?.get(kind!, input);
    if (known !== undefined) {
      values[name] = known;
      continue;
    }
    // Nothing set: the schema's own result for {}, declared with the namespace (no schema built).
    if (merged[name] === undefined && ns.defaults !== undefined) {
      values[name] = structuredClone(ns.defaults);
      memo?.set(kind!, input, ns.defaults);
      continue;
    }
    // Once per process: zod's JIT would compile a fast path that costs more than it saves.
    const parsed = ns.schema.safeParse(raw, {jitless: true});
    if (parsed.success) {
      values[name] = parsed.data;
      memo?.set(kind!, input, parsed.data);
      continue;
    }
    for (const finding of describeIssues(ns.schema, parsed.error.issues, raw)) {
      const path = [name, ...finding.path];
      const origin = originOf(history, path);
      problems.push({key: formatKeyPath(path), message: finding.message, ...(origin ? {origin} : {})});
    }
  }
  if (problems.length > 0) {
    // In file order within each file; values from variables and flags after.
    problems.sort((a, b) => compareAsLocale(a.origin?.file ?? '\uffff', b.origin?.file ?? '\uffff') || (a.origin?.line ?? 0) - (b.origin?.line ?? 0) || (a.origin?.column ?? 0) - (b.origin?.column ?? 0));
    const first = problems[0]!;
    const lines = problems.map(formatConfigProblem);
    throw new BclError('config.invalid', joinProblemLines(lines, 'in the configuration'), ExitCode.invalid, {
      hint:
        first.origin?.kind === 'env'
          ? `Fix or unset the environment variable (${first.origin.env}).`
          : 'Fix the value where it is set (named above), or run `bcl config list --show-origin` to see every layer.',
      details: {problems: problems.map((p) => ({key: p.key, message: p.message, ...(p.origin ? {origin: p.origin.label, ...(p.origin.file ? {file: p.origin.file, line: p.origin.line, column: p.origin.column} : {})} : {})}))},
    });
  }

  const entryList = buildEntries(values, history, schemas);
  return new ResolvedConfig(
    values,
    entryList,
    files.map((f) => ({kind: f.kind, path: f.path})),
    profile,
    new Set(schemas.keys()),
    ignored,
  );
}

interface ConfigProblem {
  key: string;
  message: string;
  origin?: Origin;
}

/** `file:line:column: key.path: message` for a file; `env NAME: key: message` or `flag --x: key: message` otherwise. */
function formatConfigProblem(problem: ConfigProblem): string {
  const o = problem.origin;
  if (!o) return `${problem.key}: ${problem.message}`;
  const where = o.file ? (o.line === undefined ? o.file : `${o.file}:${o.line}:${o.column ?? 1}`) : o.label;
  return `${where}: ${problem.key}: ${problem.message}${o.profile ? ` (profile ${o.profile})` : ''}`;
}

function fileLayer(file: ConfigFile, tree: Record<string, unknown>, profile?: string): Layer {
  return {
    tree,
    originAt(path) {
      const pos = file.positionOf(profile ? ['profiles', profile, ...path] : path);
      const where = pos === undefined ? file.path : `${file.path}:${pos.line}`;
      const origin: Origin = {kind: file.kind, label: profile ? `${where} (profile ${profile})` : where, file: file.path};
      if (pos !== undefined) {
        origin.line = pos.line;
        origin.column = pos.column;
      }
      if (profile) origin.profile = profile;
      return origin;
    },
  };
}

/**
 * Drops the values of a project file that it may not set unless trusted (see trust.ts), and
 * records each one with its origin, so it is reported and shown rather than silently lost.
 */
function guardProjectLayer(layer: Layer, file: ConfigFile, schemas: Map<string, ConfigNamespace>, trust: TrustStore, ignored: IgnoredEntry[]): Layer {
  const needTrust: Path[] = [];
  for (const [path] of leaves(layer.tree, [])) {
    const ns = schemas.get(String(path[0]));
    if (!ns || path.length < 2) continue; // another tool's namespace: that tool decides when it reads it
    const keyPath = path.slice(1).map(String);
    // A key the schema does not know is left in, so validation names it as unknown.
    if (!shapeAt(shapeOf(ns.schema), keyPath)) continue;
    if (projectFileRule(ns, keyPath).rule === 'trusted') needTrust.push(path);
  }
  if (needTrust.length === 0 || trust.isTrusted(file.path, file.text)) return layer;
  const tree = structuredClone(layer.tree);
  for (const path of needTrust) {
    const key = keyOf(path);
    let node: Record<string, unknown> = tree;
    for (const segment of path.slice(0, -1)) node = node[String(segment)] as Record<string, unknown>;
    const last = String(path[path.length - 1]);
    ignored.push({
      key,
      value: node[last],
      origin: layer.originAt(path),
      reason: `an untrusted project file may not choose a program, server, CA, key or trust root (review the file, then: bcl config trust ${file.path})`,
    });
    delete node[last];
  }
  return {tree, originAt: layer.originAt};
}

function envLayer(env: Env, schemas: Map<string, ConfigNamespace>): Layer {
  const tree: Record<string, unknown> = {};
  const names = new Map<string, string>();
  for (const [name, raw] of Object.entries(env).sort(([a], [b]) => compareAsLocale(a, b))) {
    if (raw === undefined || !name.startsWith('BCL_') || RESERVED_ENV.has(name)) continue;
    const ns = KNOWN_NAMESPACES.find((n) => name.startsWith(`BCL_${n.toUpperCase()}_`));
    if (!ns) continue;
    const schema = schemas.get(ns);
    if (!schema) continue; // another tool's variable: that tool validates it
    const tokens = name.slice(`BCL_${ns.toUpperCase()}_`.length).split('_').filter(Boolean);
    const shape = shapeOf(schema.schema);
    const path = resolveEnvPath(shape, tokens);
    if (!path || path.length === 0) {
      throw invalidInput('config.unknown_key', `environment variable ${name} does not name a key of the ${ns} namespace`, {
        hint: `Keys of ${ns}: ${keysOf(shape).join(', ')} (as ${`BCL_${ns.toUpperCase()}_<KEY>`}, camelCase keys in SNAKE_CASE).`,
        details: {env: name},
      });
    }
    let node = tree;
    const full = [ns, ...path];
    for (const segment of full.slice(0, -1)) {
      if (!isPlainObject(node[segment])) node[segment] = {};
      node = node[segment] as Record<string, unknown>;
    }
    node[full[full.length - 1]!] = coerce(shapeAt(shape, path), raw);
    names.set(keyOf(full), name);
  }
  return {
    tree,
    originAt(path) {
      const env = names.get(keyOf(path)) ?? 'BCL_*';
      return {kind: 'env', label: `env ${env}`, env};
    },
  };
}

function flagLayer(flag: FlagValue): Layer {
  const tree: Record<string, unknown> = {};
  const path = flag.key.split('.');
  let node = tree;
  for (const segment of path.slice(0, -1)) {
    node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = flag.value;
  return {tree, originAt: () => ({kind: 'flag', label: `flag ${flag.flag}`, flag: flag.flag})};
}

/** Leaves of a tree: scalars, null and arrays; mappings are descended. */
function* leaves(node: unknown, path: Path): Generator<[Path, unknown]> {
  if (isPlainObject(node)) {
    for (const [key, value] of Object.entries(node)) yield* leaves(value, [...path, key]);
    return;
  }
  if (path.length > 0) yield [path, node];
}

function setLeaf(
  root: Record<string, unknown>,
  history: Map<string, {value: unknown; origin: Origin; path: Path}[]>,
  path: Path,
  value: unknown,
  origin: Origin,
): void {
  let node = root;
  for (let i = 0; i < path.length - 1; i++) {
    const segment = String(path[i]);
    if (!isPlainObject(node[segment])) {
      // A higher layer turns a scalar into a mapping: the scalar is replaced.
      if (node[segment] !== undefined) history.delete(keyOf(path.slice(0, i + 1)));
      node[segment] = {};
    }
    node = node[segment] as Record<string, unknown>;
  }
  const key = keyOf(path);
  const last = String(path[path.length - 1]);
  if (isPlainObject(node[last])) {
    // A higher layer replaces a whole mapping with a scalar or list: its leaves are gone.
    for (const k of [...history.keys()]) if (k.startsWith(`${key}.`)) history.delete(k);
  }
  node[last] = value;
  const stack = history.get(key) ?? [];
  stack.push({value, origin, path});
  history.set(key, stack);
}

/** The origin of the layer that set this key, one of its descendants, or its nearest ancestor leaf. */
function originOf(history: Map<string, {value: unknown; origin: Origin}[]>, path: readonly (string | number)[]): Origin | undefined {
  const top = (key: string) => {
    const stack = history.get(key);
    return stack?.[stack.length - 1]?.origin;
  };
  for (let i = path.length; i > 0; i--) {
    const found = top(keyOf(path.slice(0, i)));
    if (found) return found;
  }
  // Nothing set here (a required key is missing): the layer that set something beside it.
  for (let i = path.length; i > 1; i--) {
    const key = keyOf(path.slice(0, i));
    for (const [k, stack] of history) {
      if (k.startsWith(`${key}.`)) return stack[stack.length - 1]?.origin;
    }
  }
  return undefined;
}

function buildEntries(
  values: Record<string, unknown>,
  history: Map<string, {value: unknown; origin: Origin}[]>,
  schemas: Map<string, ConfigNamespace>,
): ConfigEntry[] {
  const entries = new Map<string, ConfigEntry>();
  for (const [path, value] of leaves(values, [])) {
    const key = keyOf(path);
    const stack = findStack(history, path);
    if (stack && stack.length > 0) {
      const [top, ...rest] = [...stack].reverse();
      entries.set(key, {key, value, origin: top!.origin, overridden: rest.map((s) => ({value: s.value, origin: s.origin}))});
    } else if (schemas.has(String(path[0]))) {
      entries.set(key, {key, value, origin: {kind: 'default', label: 'default'}, overridden: []});
    }
  }
  return [...entries.values()].sort((a, b) => compareAsLocale(a.key, b.key));
}

function findStack(history: Map<string, {value: unknown; origin: Origin}[]>, path: Path) {
  for (let i = path.length; i > 0; i--) {
    const stack = history.get(keyOf(path.slice(0, i)));
    if (stack) return stack;
  }
  return undefined;
}

