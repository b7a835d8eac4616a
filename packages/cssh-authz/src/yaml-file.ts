import {readFileSync} from 'node:fs';
import {type Document, isMap, isSeq, LineCounter, parseDocument} from 'yaml';
import type {z} from 'zod';

/** A file that cannot be used: the message names the file, the line and the key, and what was expected. */
export class InvalidFileError extends Error {
  override readonly name = 'InvalidFileError';
  constructor(
    message: string,
    readonly file: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

/**
 * Reads a YAML file and validates it with a zod schema. Errors name the file, the line of the
 * offending value and its key path ("rules.yaml:12: grants[1].group: ..."), the first problem only.
 */
export function loadYamlFile<S extends z.ZodType>(path: string, schema: S, text?: string): z.output<S> {
  let source: string;
  try {
    source = text ?? readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidFileError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, path);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, {lineCounter, prettyErrors: false, uniqueKeys: true});
  const yamlError = doc.errors[0];
  if (yamlError) {
    const pos = yamlError.pos ? lineCounter.linePos(yamlError.pos[0]) : undefined;
    throw new InvalidFileError(`${path}${pos ? `:${pos.line}` : ''}: not valid YAML: ${yamlError.message.split('\n')[0]}`, path, pos?.line);
  }
  const data: unknown = doc.toJS() ?? {};
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const keyPath = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const line = lineOf(doc, lineCounter, unknownKey === undefined ? keyPath : [...keyPath, unknownKey]);
  if (unknownKey !== undefined) {
    const known = keysAt(schema, keyPath);
    const expected = known.length > 0 ? ` (expected one of: ${known.join(', ')})` : '';
    throw new InvalidFileError(`${path}${line ? `:${line}` : ''}: ${formatPath([...keyPath, unknownKey])}: unknown key${expected}`, path, line);
  }
  const where = keyPath.length > 0 ? `${formatPath(keyPath)}: ` : '';
  throw new InvalidFileError(`${path}${line ? `:${line}` : ''}: ${where}${issue.message}`, path, line);
}

/** The keys an object schema accepts at a path (best effort: objects, arrays, records, wrappers). */
function keysAt(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  let current: unknown = schema;
  const unwrap = (t: unknown): unknown => {
    for (let i = 0; i < 10; i++) {
      const def = (t as {_zod?: {def?: {type?: string; innerType?: unknown; in?: unknown; schema?: unknown}}})._zod?.def;
      if (!def) return t;
      if (def.innerType) t = def.innerType;
      else if (def.type === 'pipe' && def.in) t = def.in;
      else return t;
    }
    return t;
  };
  for (const segment of [...path, null]) {
    current = unwrap(current);
    const def = (current as {_zod?: {def?: {type?: string; shape?: Record<string, unknown>; element?: unknown; valueType?: unknown}}})._zod?.def;
    if (!def) return [];
    if (segment === null) return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
    if (def.type === 'object' && def.shape) current = def.shape[segment as string];
    else if (def.type === 'array') current = def.element;
    else if (def.type === 'record') current = def.valueType;
    else return [];
  }
  return [];
}

/** grants[1].group */
export function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function lineOf(doc: Document, counter: LineCounter, path: readonly (string | number)[]): number | undefined {
  // The deepest node that exists on the path (an unknown key points at its map).
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true) as {range?: [number, number, number]} | undefined;
    if (node?.range) return counter.linePos(node.range[0]).line;
    if (depth === path.length && depth > 0) {
      const parent = doc.getIn(path.slice(0, depth - 1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((item) => String((item.key as {value?: unknown})?.value ?? item.key) === String(path[depth - 1]));
        const range = (pair?.key as {range?: [number, number, number]} | undefined)?.range;
        if (range) return counter.linePos(range[0]).line;
      }
      if (isSeq(parent)) continue;
    }
  }
  return undefined;
}
