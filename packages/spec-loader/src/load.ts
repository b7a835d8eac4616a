import {readFileSync} from 'node:fs';
import type {z} from 'zod';
import {describeIssues} from './issues.js';
import {type KeyPath, type Problem, SpecError} from './problems.js';
import {keysOf, shapeOf} from './shape.js';
import {parseYaml, type YamlSource} from './yaml.js';

export interface CheckOptions {
  /** What an empty file stands for (e.g. `{}` for a configuration file); by default an empty file is a problem. */
  emptyAs?: unknown;
  /**
   * Where a problem at a key path of the validated data sits in the file, when the data is not
   * the file's own tree (overrides merged in): the path in the file to point at.
   */
  locatePath?: (path: KeyPath) => KeyPath;
}

export type CheckResult<T> = {ok: true; value: T; source: YamlSource} | {ok: false; problems: Problem[]; source?: YamlSource};

/** Parses and validates without throwing: the value, or every problem found. */
export function checkYaml<S extends z.ZodType>(schema: S, input: string | Uint8Array, file: string, options: CheckOptions = {}): CheckResult<z.output<S>> {
  let source: YamlSource;
  try {
    source = parseYaml(input, file);
  } catch (error) {
    if (error instanceof SpecError) return {ok: false, problems: [...error.problems]};
    throw error;
  }
  const result = validateSource(schema, source, options);
  return result.ok ? {ok: true, value: result.value, source} : {ok: false, problems: result.problems, source};
}

/** Validates a parsed file (or data derived from it) with a schema; problems are located in the file. */
export function validateSource<S extends z.ZodType>(
  schema: S,
  source: YamlSource,
  options: CheckOptions & {data?: unknown} = {},
): {ok: true; value: z.output<S>} | {ok: false; problems: Problem[]} {
  let data = options.data !== undefined ? options.data : source.data;
  if (data === null && options.data === undefined) {
    if (options.emptyAs === undefined) {
      const keys = keysOf(shapeOf(schema));
      return {ok: false, problems: [{file: source.file, path: [], message: `the file is empty; expected a mapping${keys.length ? ` of keys (${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', ...' : ''})` : ''}`}]};
    }
    data = options.emptyAs;
  }
  // Without zod's JIT: a file is validated once per process, and compiling a fast path costs more than it saves.
  const parsed = schema.safeParse(data, {jitless: true});
  if (parsed.success) return {ok: true, value: parsed.data};
  const problems = describeIssues(schema, parsed.error.issues, data).map((f) => problemAt(source, options.locatePath ? options.locatePath(f.path) : f.path, f.message, f.at));
  return {ok: false, problems: sortProblems(problems)};
}

/** A problem at a key path of a parsed file (for rules across keys that a schema does not express). */
export function problemAt(source: YamlSource, path: KeyPath, message: string, at: 'key' | 'value' = 'value'): Problem {
  const pos = source.locate(path, at);
  return {file: source.file, ...(pos ? {line: pos.line, column: pos.column} : {}), path: [...path], message};
}

/** Reads, parses and validates a YAML file; throws SpecError with every problem. */
export function loadYamlFile<S extends z.ZodType>(schema: S, file: string, options: CheckOptions & {text?: string | Uint8Array} = {}): z.output<S> {
  let input = options.text;
  if (input === undefined) {
    try {
      input = readFileSync(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
      throw new SpecError(file, [{file, path: [], message: `cannot read: ${why}`}], 'unreadable');
    }
  }
  const result = checkYaml(schema, input, file, options);
  if (result.ok) return result.value;
  throw new SpecError(file, result.problems, result.source ? 'invalid' : 'syntax');
}

/** In file order; problems without a position last. */
export function sortProblems(problems: Problem[]): Problem[] {
  return problems
    .map((p, i) => ({p, i}))
    .sort((a, b) => (a.p.line ?? Infinity) - (b.p.line ?? Infinity) || (a.p.column ?? 0) - (b.p.column ?? 0) || a.i - b.i)
    .map(({p}) => p);
}
