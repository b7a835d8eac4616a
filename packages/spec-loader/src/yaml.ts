import {isUtf8} from 'node:buffer';
import {isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument, type Document} from 'yaml';
import {type KeyPath, type Problem, SpecError} from './problems.js';

export interface Position {
  line: number;
  column: number;
}

/** A parsed YAML file: its data, and where each key and value sits in the text. */
export interface YamlSource {
  file: string;
  /** The document as plain data (null for an empty file). */
  data: unknown;
  /**
   * Line and column of the key (`at: 'key'`) or the value at `path`. A path that does not exist
   * points at its nearest existing ancestor's key; the top level has no position.
   */
  locate(path: KeyPath, at?: 'key' | 'value'): Position | undefined;
}

/** Aliases a document may expand (a "billion laughs" file is refused, not expanded). */
const MAX_ALIASES = 100;

/**
 * Parses YAML text or bytes. Bytes must be UTF-8 (a BOM is dropped); keys must be unique; every
 * syntax error is reported. Throws SpecError (reason `syntax`) naming the file, line and column.
 */
export function parseYaml(input: string | Uint8Array, file: string): YamlSource {
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    // isUtf8 rather than a fatal TextDecoder, whose first use costs about 10 ms at startup.
    if (!isUtf8(input)) throw new SpecError(file, [{file, path: [], message: 'not UTF-8 text'}], 'syntax');
    text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {lineCounter, prettyErrors: false, uniqueKeys: true, strict: true});
  const position = (offset: number): Position => {
    const pos = lineCounter.linePos(offset);
    return {line: pos.line, column: pos.col};
  };
  if (doc.errors.length > 0) {
    const seen = new Set<string>();
    const problems: Problem[] = [];
    for (const error of doc.errors) {
      const pos = error.pos ? position(error.pos[0]) : undefined;
      const message = `not valid YAML: ${firstLine(error.message)}`;
      const id = `${pos?.line}:${pos?.column}:${message}`;
      if (seen.has(id)) continue;
      seen.add(id);
      problems.push({file, ...pos, path: [], message});
      if (problems.length >= 20) break;
    }
    throw new SpecError(file, problems, 'syntax');
  }
  let data: unknown;
  try {
    data = doc.toJS({maxAliasCount: MAX_ALIASES});
  } catch (error) {
    throw new SpecError(file, [{file, path: [], message: `not usable YAML: ${firstLine((error as Error).message)}`}], 'syntax');
  }
  return {
    file,
    data: data === undefined ? null : data,
    locate: (path, at = 'value') => {
      const offset = locateOffset(doc, path, at);
      return offset === undefined ? undefined : position(offset);
    },
  };
}

function locateOffset(doc: Document.Parsed, path: KeyPath, at: 'key' | 'value'): number | undefined {
  let node: unknown = doc.contents;
  let found: number | undefined;
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(doc);
    const segment = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && keyText(item.key) === String(segment));
      if (!pair) return found;
      const keyOffset = rangeStart(pair.key);
      const value = pair.value as Node | null;
      if (last) return at === 'key' || value === null || rangeStart(value) === undefined ? (keyOffset ?? found) : rangeStart(value);
      found = keyOffset ?? found;
      node = value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      const offset = rangeStart(item);
      if (offset === undefined) return found;
      if (last) return offset;
      found = offset;
      node = item;
    } else {
      return found;
    }
  }
  return found;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return key === null || key === undefined ? undefined : String(key);
}

function rangeStart(node: unknown): number | undefined {
  return (node as {range?: [number, number, number]} | null | undefined)?.range?.[0];
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
