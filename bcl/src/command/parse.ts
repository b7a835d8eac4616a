import {usageError} from '../errors.js';
import type {ArgDefinition, FlagDefinition, OptionFlag, ParseContext} from './definitions.js';

export interface ParseInput {
  flags: Record<string, FlagDefinition>;
  args: Record<string, ArgDefinition<unknown>>;
  /** false: any number of arguments (they are returned in `argv`). */
  strict: boolean;
  env?: Record<string, string | undefined>;
  context?: ParseContext;
}

export interface ParseOutput {
  flags: Record<string, unknown>;
  args: Record<string, unknown>;
  /** The arguments in order (declared ones parsed), everything after `--` included. */
  argv: unknown[];
}

type Token = {type: 'flag'; flag: string; input: string} | {type: 'arg'; input: string; index: number};

const TRUTHY = new Set(['true', '1', 'yes', 'on', 'y']);

/**
 * Parses a command line the way oclif does for the features BCL commands use, so behaviour is the
 * same as before the launcher stopped loading oclif: `--name value`, `--name=value`, `-c value`,
 * `-cvalue`, grouped short booleans (`-vq`), `--no-<name>` for allowNo booleans, `--` ending the
 * flags, `-` and negative numbers as arguments, a multiple flag taking the values that follow it,
 * environment fallbacks, defaults, options, required, exclusive and dependsOn. Every error is a
 * usage error (exit 2) that says what was wrong.
 */
export async function parseCommandLine(argv: readonly string[], input: ParseInput): Promise<ParseOutput> {
  const flags = input.flags;
  for (const [name, def] of Object.entries(flags)) def.name = name;
  for (const [name, def] of Object.entries(input.args)) def.name = name;
  const byChar = new Map<string, string>();
  const byAlias = new Map<string, string>();
  for (const [name, def] of Object.entries(flags)) {
    if (def.char) byChar.set(def.char, name);
    for (const c of def.charAliases ?? []) byChar.set(c, name);
    for (const a of def.aliases ?? []) byAlias.set(a, name);
  }
  const longName = (text: string): string | undefined => {
    if (Object.hasOwn(flags, text)) return text;
    const alias = byAlias.get(text);
    if (alias) return alias;
    if (text.startsWith('no-')) {
      const base = text.slice(3);
      const name = Object.hasOwn(flags, base) ? base : byAlias.get(base);
      if (name && flags[name]!.type === 'boolean' && (flags[name] as {allowNo: boolean}).allowNo) return name;
    }
    return undefined;
  };
  /** The flag a token names, if any: `--name`, `--no-name`, `-c` (before any value). */
  const findFlag = (token: string): {name: string; long: boolean} | undefined => {
    if (token.startsWith('--')) {
      const name = longName(token.slice(2));
      return name ? {name, long: true} : undefined;
    }
    if (token.startsWith('-') && token.length >= 2) {
      const name = byChar.get(token[1]!);
      return name ? {name, long: false} : undefined;
    }
    return undefined;
  };

  const tokens: Token[] = [];
  const queue = [...argv];
  const unknown: string[] = [];
  let parsingFlags = true;
  let current: OptionFlag<unknown> | undefined;
  let argIndex = 0;
  while (queue.length > 0) {
    const token = queue.shift()!;
    if (parsingFlags && token.startsWith('-') && token !== '-') {
      if (token === '--') {
        parsingFlags = false;
        continue;
      }
      if (parseFlagToken(token)) continue;
      if (!/^-\d/.test(token)) {
        unknown.push(token);
        continue;
      }
    }
    // A multiple flag takes the values that follow it (oclif's greedy rule).
    if (parsingFlags && current?.multiple && !current.multipleNonGreedy) {
      tokens.push({type: 'flag', flag: current.name!, input: token});
      continue;
    }
    tokens.push({type: 'arg', input: token, index: argIndex++});
  }

  function parseFlagToken(token: string): boolean {
    const found = findFlag(token);
    if (!found) {
      const eq = token.indexOf('=');
      if (eq === -1) return false;
      const named = findFlag(token.slice(0, eq));
      if (!named || flags[named.name]!.type !== 'option') return false;
      queue.unshift(token.slice(eq + 1));
      return parseFlagToken(token.slice(0, eq));
    }
    const def = flags[found.name]!;
    if (def.type === 'option') {
      if (!def.multiple && tokens.some((t) => t.type === 'flag' && t.flag === found.name)) {
        throw usageError(`Flag --${found.name} can only be specified once`, {hint: 'Run the command with --help to see its usage.'});
      }
      current = def;
      const value = found.long || token.length < 3 ? queue.shift() : token.slice(token[2] === '=' ? 3 : 2);
      if (value === undefined || findFlag(value)) {
        throw usageError(def.options ? `Flag --${found.name} expects one of these values: ${def.options.join(', ')}` : `Flag --${found.name} expects a value`, {
          hint: 'Run the command with --help to see its usage.',
        });
      }
      tokens.push({type: 'flag', flag: found.name, input: value});
    } else {
      tokens.push({type: 'flag', flag: found.name, input: token});
      // -vq: the other short booleans go back on the queue.
      if (!found.long && token.length > 2) queue.unshift(`-${token.slice(2)}`);
    }
    return true;
  }

  if (unknown.length > 0) {
    throw usageError(`Nonexistent flag${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, {hint: 'Run the command with --help to see its usage.', details: {flags: unknown}});
  }

  const context = input.context ?? {};
  const env = input.env ?? process.env;
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  for (const [name, def] of Object.entries(flags)) {
    const mine = tokens.filter((t): t is Extract<Token, {type: 'flag'}> => t.type === 'flag' && t.flag === name);
    if (mine.length > 0) given.add(name);
    if (def.type === 'boolean') {
      if (mine.length > 0) values[name] = await parseValue(def, mine[mine.length - 1]!.input !== `--no-${name}` && !(def.aliases ?? []).some((a) => mine[mine.length - 1]!.input === `--no-${a}`));
      else if (def.env && env[def.env]) values[name] = TRUTHY.has(env[def.env]!.toLowerCase());
      continue;
    }
    if (mine.length > 0) {
      values[name] = def.multiple ? await Promise.all(mine.map((t) => parseOption(def, t.input))) : await parseOption(def, mine[mine.length - 1]!.input);
    } else if (def.env && env[def.env]) {
      values[name] = await parseOption(def, env[def.env]!);
    }
  }
  // Defaults last: a default function may look at the other flags.
  for (const [name, def] of Object.entries(flags)) {
    if (values[name] !== undefined || def.default === undefined) continue;
    values[name] = typeof def.default === 'function' ? await (def.default as (c: {flags: Record<string, unknown>}) => Promise<unknown>)({flags: values}) : def.default;
  }
  for (const name of Object.keys(values)) if (values[name] === undefined) delete values[name];

  const failures: string[] = [];
  for (const [name, def] of Object.entries(flags)) {
    if (values[name] === undefined) {
      if (def.required) failures.push(`Missing required flag --${name}`);
      continue;
    }
    if (!given.has(name) && !(def.env && env[def.env])) continue;
    for (const other of def.exclusive ?? []) {
      if (given.has(other)) failures.push(`--${other} cannot also be provided when using --${name}`);
    }
    const missing = (def.dependsOn ?? []).filter((other) => values[other] === undefined);
    if (missing.length > 0) failures.push(`All of the following must be provided when using --${name}: ${missing.map((m) => `--${m}`).join(', ')}`);
  }

  // Arguments, in declaration order; the rest (strict: false) stay in argv.
  const argDefs = Object.entries(input.args);
  const argTokens = tokens.filter((t): t is Extract<Token, {type: 'arg'}> => t.type === 'arg');
  const args: Record<string, unknown> = {};
  const out: unknown[] = [];
  for (let i = 0; i < argDefs.length; i++) {
    const [name, def] = argDefs[i]!;
    const token = argTokens[i];
    if (token) {
      if (def.options && !def.options.includes(token.input)) failures.push(`Expected ${token.input} to be one of: ${def.options.join(', ')}`);
      else args[name] = await parseArg(def, token.input);
    } else if (def.default !== undefined) {
      args[name] = typeof def.default === 'function' ? await (def.default as (c: {flags: Record<string, unknown>}) => Promise<unknown>)({flags: values}) : def.default;
    }
    if (args[name] !== undefined) out.push(args[name]);
  }
  const extra = argTokens.slice(argDefs.length).map((t) => t.input);
  if (input.strict && extra.length > 0) failures.push(`Unexpected argument${extra.length > 1 ? 's' : ''}: ${extra.join(', ')}`);
  out.push(...extra);
  const missingArgs = argDefs.filter(([name, def]) => def.required && args[name] === undefined).map(([name]) => name);
  if (missingArgs.length > 0) failures.unshift(`Missing ${missingArgs.length} required argument${missingArgs.length > 1 ? 's' : ''}: ${missingArgs.join(', ')}`);

  if (failures.length > 0) {
    throw usageError(failures.length === 1 ? failures[0]! : `The following errors occurred:\n  ${failures.join('\n  ')}`, {
      hint: 'Run the command with --help to see its usage.',
      details: {problems: failures},
    });
  }
  return {flags: values, args, argv: out};

  async function parseValue(def: FlagDefinition, value: boolean | string): Promise<unknown> {
    try {
      return await (def.parse as (i: unknown, c: ParseContext, f: unknown) => Promise<unknown>)(value, context, def);
    } catch (error) {
      throw usageError(`Parsing --${def.name}: ${(error as Error).message}`, {hint: 'Run the command with --help to see its usage.', cause: error});
    }
  }
  async function parseOption(def: OptionFlag<unknown>, value: string): Promise<unknown> {
    if (def.options && !def.options.includes(value)) {
      throw usageError(`Expected --${def.name}=${value} to be one of: ${def.options.join(', ')}`, {hint: 'Run the command with --help to see its usage.'});
    }
    return parseValue(def, value);
  }
  async function parseArg(def: ArgDefinition<unknown>, value: string): Promise<unknown> {
    try {
      return await def.parse(value, context, def);
    } catch (error) {
      throw usageError(`Parsing ${def.name}: ${(error as Error).message}`, {hint: 'Run the command with --help to see its usage.', cause: error});
    }
  }
}
