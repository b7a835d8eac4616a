import {existsSync, readFileSync, statSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {didYouMean, isSpecError, parseYaml, type Position, type Problem, SpecError, type YamlSource} from '@bcl/spec-loader';
import {invalidInput, specInvalid} from '../errors.js';
import {isKnownNamespace, KNOWN_NAMESPACES} from './namespace.js';

export type FileLayerKind = 'system' | 'user' | 'project' | 'explicit';

/** One parsed configuration file: its data and a way to point at lines inside it. */
export interface ConfigFile {
  kind: FileLayerKind;
  path: string;
  /** The exact bytes read (a trusted project file is recognised by their hash). */
  text: string | Uint8Array;
  data: Record<string, unknown>;
  /** Line and column of the key at a key path, when the file has it. */
  positionOf(path: readonly (string | number)[]): Position | undefined;
}

export const PROJECT_FILE_NAME = '.bcl.yaml';

/** The nearest .bcl.yaml walking up from `cwd`, or undefined. */
export function findProjectFile(cwd: string): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, PROJECT_FILE_NAME);
    if (isFile(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function isFile(path: string): boolean {
  // No exception for a missing file: walking up from a deep directory would build one per level.
  return statSync(path, {throwIfNoEntry: false})?.isFile() ?? false;
}

/**
 * Reads and parses a config file. A missing optional file gives undefined; anything unreadable,
 * unparseable or not shaped like a config file is an exit-3 error naming the file (and line).
 */
export function readConfigFile(path: string, kind: FileLayerKind, required = false): ConfigFile | undefined {
  if (!existsSync(path)) {
    if (!required) return undefined;
    throw invalidInput('config.not_found', `config file ${path} does not exist`, {
      hint: 'Check the path given to --config.',
      details: {file: path},
    });
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw invalidInput('config.unreadable', `cannot read config file ${path}: ${(error as Error).message}`, {details: {file: path}});
  }
  return parseConfigText(bytes, path, kind);
}

export function parseConfigText(text: string | Uint8Array, path: string, kind: FileLayerKind): ConfigFile {
  let source: YamlSource;
  try {
    source = parseYaml(text, path);
  } catch (error) {
    if (isSpecError(error)) throw specInvalid('config.invalid', error, {hint: 'Fix the YAML syntax of this file.'});
    throw error;
  }
  const data = source.data ?? {};
  if (!isPlainObject(data)) {
    const problem: Problem = {file: path, line: 1, column: 1, path: [], message: `expected a mapping of namespaces (${KNOWN_NAMESPACES.join(', ')}, profiles) at the top level, got ${describe(data)}`};
    throw specInvalid('config.invalid', new SpecError(path, [problem]), {});
  }
  const problems = checkTopLevel(data, source, []);
  if (problems.length > 0) {
    const unknown = problems.some((p) => p.message.startsWith('unknown namespace'));
    throw specInvalid(unknown ? 'config.unknown_key' : 'config.invalid', new SpecError(path, problems), {});
  }
  return {kind, path, text, data, positionOf: (keyPath) => source.locate(keyPath, 'key')};
}

function checkTopLevel(data: Record<string, unknown>, source: YamlSource, prefix: string[]): Problem[] {
  const problems: Problem[] = [];
  const at = (keyPath: string[], message: string) => {
    const pos = source.locate(keyPath, 'key');
    problems.push({file: source.file, ...(pos ? {line: pos.line, column: pos.column} : {}), path: keyPath, message});
  };
  for (const [key, value] of Object.entries(data)) {
    const keyPath = [...prefix, key];
    if (key === 'profiles' && prefix.length === 0) {
      if (!isPlainObject(value)) {
        at(keyPath, 'expected a mapping of profile names');
        continue;
      }
      for (const [profile, body] of Object.entries(value)) {
        if (body === null) continue;
        if (!isPlainObject(body)) at(['profiles', profile], 'expected a mapping of namespaces');
        else problems.push(...checkTopLevel(body, source, ['profiles', profile]));
      }
      continue;
    }
    if (!isKnownNamespace(key)) {
      const allowed = prefix.length === 0 ? [...KNOWN_NAMESPACES, 'profiles'] : [...KNOWN_NAMESPACES];
      const near = didYouMean(key, allowed);
      at(keyPath, `unknown namespace (${near ? `did you mean "${near}"?` : `expected one of: ${allowed.join(', ')}`})`);
      continue;
    }
    if (value !== null && !isPlainObject(value)) at(keyPath, `expected a mapping of keys, got ${describe(value)}`);
  }
  return problems;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

