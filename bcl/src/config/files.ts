import {existsSync, readFileSync, statSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {type Document, isMap, LineCounter, parseDocument} from 'yaml';
import {invalidInput} from '../errors.js';
import {isKnownNamespace, KNOWN_NAMESPACES} from './namespace.js';

export type FileLayerKind = 'system' | 'user' | 'project' | 'explicit';

/** One parsed configuration file: its data and a way to point at lines inside it. */
export interface ConfigFile {
  kind: FileLayerKind;
  path: string;
  data: Record<string, unknown>;
  /** 1-based line of the value at a key path, when the file has it. */
  lineOf(path: readonly (string | number)[]): number | undefined;
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
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
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
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw invalidInput('config.unreadable', `cannot read config file ${path}: ${(error as Error).message}`, {details: {file: path}});
  }
  return parseConfigText(text, path, kind);
}

export function parseConfigText(text: string, path: string, kind: FileLayerKind): ConfigFile {
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, {lineCounter, prettyErrors: false, uniqueKeys: true});
  } catch (error) {
    throw invalidInput('config.invalid', `${path}: not valid YAML: ${(error as Error).message}`, {details: {file: path}});
  }
  const firstError = doc.errors[0];
  if (firstError) {
    const pos = firstError.linePos?.[0] ?? (firstError.pos ? lineCounter.linePos(firstError.pos[0]) : undefined);
    const where = pos ? `${path}:${pos.line}:${pos.col}` : path;
    throw invalidInput('config.invalid', `${where}: not valid YAML: ${firstLine(firstError.message)}`, {
      hint: 'Fix the YAML syntax of this file.',
      details: {file: path, line: pos?.line, column: pos?.col},
    });
  }
  const lineOf = (keyPath: readonly (string | number)[]): number | undefined => {
    const node = doc.getIn(keyPath, true) as {range?: [number, number, number]} | undefined;
    const parentPair = keyPath.length > 0 ? findKeyNode(doc, keyPath) : undefined;
    const offset = parentPair ?? node?.range?.[0];
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  let data: unknown;
  try {
    data = doc.toJS({maxAliasCount: 100});
  } catch (error) {
    throw invalidInput('config.invalid', `${path}: ${(error as Error).message}`, {details: {file: path}});
  }
  if (data === null || data === undefined) data = {};
  if (!isPlainObject(data) || (doc.contents && !isMap(doc.contents))) {
    throw invalidInput('config.invalid', `${path}: expected a mapping of namespaces (${KNOWN_NAMESPACES.join(', ')}, profiles) at the top level`, {
      details: {file: path},
    });
  }
  checkTopLevel(data, path, lineOf, []);
  return {kind, path, data, lineOf};
}

/** Offset of the key node of the pair at `keyPath`, so errors point at the key's line. */
function findKeyNode(doc: Document.Parsed, keyPath: readonly (string | number)[]): number | undefined {
  const parent = doc.getIn(keyPath.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const last = keyPath[keyPath.length - 1];
  for (const item of parent.items) {
    const key = item.key as {value?: unknown; range?: [number, number, number]} | null;
    if (key && key.value === last && key.range) return key.range[0];
  }
  return undefined;
}

function checkTopLevel(data: Record<string, unknown>, path: string, lineOf: ConfigFile['lineOf'], prefix: string[]): void {
  for (const [key, value] of Object.entries(data)) {
    const keyPath = [...prefix, key];
    const where = lineOf(keyPath) ? `${path}:${lineOf(keyPath)}` : path;
    if (key === 'profiles' && prefix.length === 0) {
      if (!isPlainObject(value)) {
        throw invalidInput('config.invalid', `${where}: profiles: expected a mapping of profile names`, {details: {file: path, key: 'profiles'}});
      }
      for (const [profile, body] of Object.entries(value)) {
        if (body === null) continue;
        if (!isPlainObject(body)) {
          throw invalidInput('config.invalid', `${where}: profiles.${profile}: expected a mapping of namespaces`, {
            details: {file: path, key: `profiles.${profile}`},
          });
        }
        checkTopLevel(body, path, lineOf, ['profiles', profile]);
      }
      continue;
    }
    if (!isKnownNamespace(key)) {
      const allowed = prefix.length === 0 ? [...KNOWN_NAMESPACES, 'profiles'] : [...KNOWN_NAMESPACES];
      throw invalidInput('config.unknown_key', `${where}: ${keyPath.join('.')}: unknown namespace (expected one of: ${allowed.join(', ')})`, {
        details: {file: path, key: keyPath.join('.')},
      });
    }
    if (value !== null && !isPlainObject(value)) {
      throw invalidInput('config.invalid', `${where}: ${keyPath.join('.')}: expected a mapping of keys, got ${describe(value)}`, {
        details: {file: path, key: keyPath.join('.')},
      });
    }
  }
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

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
