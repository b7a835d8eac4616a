import {readFileSync, statSync} from 'node:fs';
import {dirname, join, relative, resolve} from 'node:path';
import {invalidInput} from '@bcl/core/errors';
import {isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document} from 'yaml';
import type {z} from 'zod';
import {type ServiceSpec, serviceSpecSchema} from './schema.js';

export const SPEC_FILE_NAME = 'service.yaml';

/** A spec read from disk: where it came from, and the validated spec with defaults applied. */
export interface LoadedSpec {
  /** Absolute path of the service.yaml. */
  path: string;
  /** Its directory (the service's checkout). */
  dir: string;
  spec: ServiceSpec;
}

/** One problem found in a spec, located as precisely as the file allows. */
export interface SpecProblem {
  /** Dotted key path, e.g. "environments.prod.replicas". */
  key: string;
  message: string;
  line?: number;
  column?: number;
}

/**
 * The service.yaml a command argument names: a file, or a directory holding service.yaml;
 * without an argument, service.yaml in `cwd`. A missing file is exit 3 naming it.
 */
export function findSpecFile(cwd: string, arg?: string): string {
  const target = resolve(cwd, arg ?? SPEC_FILE_NAME);
  let stat;
  try {
    stat = statSync(target);
  } catch {
    throw invalidInput('svctl.spec_not_found', `${display(cwd, target)} does not exist`, {
      hint: arg ? 'Pass the path of a service.yaml or of the directory holding it.' : 'Run svctl in the directory of a service.yaml, pass its path, or create one with `svctl init`.',
      details: {file: target},
    });
  }
  const file = stat.isDirectory() ? join(target, SPEC_FILE_NAME) : target;
  if (stat.isDirectory()) {
    try {
      statSync(file);
    } catch {
      throw invalidInput('svctl.spec_not_found', `${display(cwd, target)} holds no ${SPEC_FILE_NAME}`, {
        hint: 'Create one with `svctl init`, or pass the path of the spec.',
        details: {file},
      });
    }
  }
  return file;
}

/** Reads and validates a service.yaml. Every problem is an exit-3 error naming the file, line and key path. */
export function loadSpec(path: string): LoadedSpec {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw invalidInput('svctl.spec_unreadable', `cannot read ${file}: ${(error as Error).message}`, {details: {file}});
  }
  return {path: file, dir: dirname(file), spec: parseSpec(text, file)};
}

/** Validates the text of a service.yaml; `file` names it in messages. */
export function parseSpec(text: string, file = SPEC_FILE_NAME): ServiceSpec {
  const result = checkSpec(text);
  if (result.ok) return result.spec;
  const lines = result.problems.map((p) => `${file}${p.line ? `:${p.line}` : ''}: ${p.key ? `${p.key}: ` : ''}${p.message}`);
  const first = result.problems[0]!;
  throw invalidInput('svctl.spec_invalid', lines.length === 1 ? `invalid service spec: ${lines[0]}` : `invalid service spec:\n  ${lines.join('\n  ')}`, {
    hint: first.key ? `Fix ${first.key} in ${file}; the reference is docs/svctl/service-spec.md.` : `Fix ${file}; the reference is docs/svctl/service-spec.md.`,
    details: {file, problems: result.problems},
  });
}

/** Validates without throwing: the spec, or every problem found. */
export function checkSpec(text: string): {ok: true; spec: ServiceSpec} | {ok: false; problems: SpecProblem[]} {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {lineCounter, prettyErrors: false, uniqueKeys: true});
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return {key: '', message: `not valid YAML: ${e.message.split('\n')[0]}`, ...(pos ? {line: pos.line, column: pos.col} : {})};
      }),
    };
  }
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) return {ok: false, problems: [{key: '', message: 'the file is empty; expected a mapping with name, team, image, runtime...'}]};
  if (typeof data !== 'object' || Array.isArray(data)) return {ok: false, problems: [{key: '', message: 'expected a mapping of keys (name, team, image, runtime...)', line: 1}]};
  const parsed = serviceSpecSchema.safeParse(data);
  if (parsed.success) return {ok: true, spec: parsed.data};
  return {ok: false, problems: parsed.error.issues.flatMap((issue) => describe(issue, doc, lineCounter))};
}

type Issue = z.core.$ZodIssue;

function describe(issue: Issue, doc: Document.Parsed, lines: LineCounter): SpecProblem[] {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(path);
    return issue.keys.map((key) => {
      const near = closest(key, allowed);
      return {
        key: [...path, key].join('.'),
        message: `unknown key${near ? ` (did you mean "${near}"?)` : allowed.length ? ` (expected one of: ${allowed.join(', ')})` : ''}`,
        ...locate(doc, lines, [...path, key], true),
      };
    });
  }
  let message = issue.message.replace(/^Invalid input: /, '');
  if (/received undefined$/.test(message)) message = `required (${message.replace(/, received undefined$/, '')})`;
  if (issue.code === 'invalid_type' && issue.expected === 'int') message = message.replace('expected int', 'expected a whole number');
  return [{key: path.join('.'), message, ...locate(doc, lines, path, false)}];
}

/** Line and column of the value (or, for a key, of the key itself) at `path`; the nearest ancestor when absent. */
function locate(doc: Document.Parsed, lines: LineCounter, path: (string | number)[], atKey: boolean): {line?: number; column?: number} {
  for (let n = path.length; n > 0; n--) {
    const parent = n === 1 ? doc.contents : doc.getIn(path.slice(0, n - 1), true);
    const last = path[n - 1];
    let offset: number | undefined;
    if (isMap(parent)) {
      const pair = parent.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(last));
      if (pair && isPair(pair)) {
        const node = (atKey || n < path.length || !pair.value ? pair.key : pair.value) as {range?: [number, number, number]} | null;
        offset = node?.range?.[0];
      }
    } else if (isSeq(parent) && typeof last === 'number') {
      offset = (parent.items[last] as {range?: [number, number, number]} | undefined)?.range?.[0];
    }
    if (offset !== undefined) {
      const pos = lines.linePos(offset);
      return {line: pos.line, column: pos.col};
    }
  }
  return {};
}

/** The keys an object in the schema accepts at `path` (for "did you mean"). */
function allowedKeys(path: (string | number)[]): string[] {
  let schema: unknown = serviceSpecSchema;
  for (const segment of [...path, undefined]) {
    schema = unwrap(schema);
    const def = (schema as {_zod?: {def?: Record<string, unknown>}})._zod?.def;
    if (!def) return [];
    if (segment === undefined) return def.type === 'object' ? Object.keys(def.shape as object) : [];
    if (def.type === 'object') schema = (def.shape as Record<string, unknown>)[String(segment)];
    else if (def.type === 'record') schema = def.valueType;
    else if (def.type === 'array') schema = def.element;
    else return [];
  }
  return [];
}

function unwrap(schema: unknown): unknown {
  for (let i = 0; i < 10; i++) {
    const def = (schema as {_zod?: {def?: Record<string, unknown>}})?._zod?.def;
    if (!def) return schema;
    if (def.type === 'default' || def.type === 'prefault' || def.type === 'optional' || def.type === 'nullable') schema = def.innerType;
    else if (def.type === 'pipe') schema = def.in;
    else if (def.type === 'union') schema = (def.options as unknown[]).find((o) => (o as {_zod: {def: {type: string}}})._zod.def.type === 'object' || unwrapsToObject(o)) ?? schema;
    else return schema;
    if (def.type === 'union') return schema;
  }
  return schema;
}

function unwrapsToObject(schema: unknown): boolean {
  const def = (schema as {_zod?: {def?: Record<string, unknown>}})?._zod?.def;
  return def?.type === 'pipe' && (def.in as {_zod: {def: {type: string}}})._zod.def.type === 'object';
}

/** The allowed key nearest to a misspelt one, when it is close enough to be a typo. */
function closest(key: string, allowed: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const d = distance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined;
}

function distance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

function display(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') ? rel : path;
}
