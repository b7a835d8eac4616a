import type {z} from 'zod';
import {didYouMean, type KeyPath} from './problems.js';
import {keysOf, type Shape, shapeAt, shapeOf} from './shape.js';

/** A schema problem before it is located in a file: the key path, what is wrong, and whether it points at the key or the value. */
export interface Finding {
  path: (string | number)[];
  message: string;
  at: 'key' | 'value';
}

type Issue = z.core.$ZodIssue;

/**
 * Turns zod's issues into findings a person can act on: every problem (not only the first),
 * "did you mean" for unknown keys and values, plain words for types ("a mapping", "a list",
 * "required"), and the most plausible branch of a union instead of every branch's complaints.
 */
export function describeIssues(schema: z.ZodType, issues: readonly Issue[], data: unknown, prefix: KeyPath = []): Finding[] {
  const out: Finding[] = [];
  for (const issue of issues) out.push(...describeIssue(schema, issue, data, []));
  return prefix.length === 0 ? out : out.map((f) => ({...f, path: [...prefix, ...f.path]}));
}

/** Paths are relative to the schema's root (and `data` is the value the schema validated). */
function describeIssue(schema: z.ZodType, issue: Issue, data: unknown, base: (string | number)[]): Finding[] {
  const path = [...base, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(schema, path, data, issue.keys);
      return issue.keys.map((key) => {
        const near = didYouMean(key, allowed);
        const message = near ? `unknown key (did you mean "${near}"?)` : allowed.length > 0 ? `unknown key (expected one of: ${allowed.join(', ')})` : 'unknown key';
        return {path: [...path, key], message, at: 'key' as const};
      });
    }
    case 'invalid_union': {
      const branches = (issue.errors ?? []).filter((b) => b.length > 0);
      const typeOnly = branches.every((b) => b.some((i) => i.path.length === 0 && i.code === 'invalid_type'));
      if (branches.length > 0 && !typeOnly) {
        // The branch the author most likely meant: the one with the fewest complaints, deepest first.
        const best = [...branches].sort((a, b) => a.length - b.length || depth(b) - depth(a))[0]!;
        return best.flatMap((i) => describeIssue(schema, i, data, path));
      }
      if (typeOnly && branches.length > 0 && issue.message !== 'Invalid input') {
        // The schema's own words for what the value may be.
        return [{path, message: `${plain(issue.message)}, got ${describeValue(valueAt(data, path))}`, at: 'value'}];
      }
      if (typeOnly && branches.length > 0) {
        const expected = [...new Set(branches.flatMap((b) => b.filter((i) => i.path.length === 0 && i.code === 'invalid_type').map((i) => plainType(String((i as {expected?: string}).expected)))))];
        return [{path, message: `expected ${expected.join(' or ')}, got ${describeValue(valueAt(data, path))}`, at: 'value'}];
      }
      return [{path, message: plain(issue.message), at: 'value'}];
    }
    case 'invalid_value': {
      const values = (issue.values ?? []).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
      const got = valueAt(data, path);
      const near = typeof got === 'string' ? didYouMean(got, values) : undefined;
      // The schema's own words when it has them (zod's defaults start with "Invalid").
      const expected = !/^Invalid /.test(issue.message) ? issue.message : values.length === 1 ? `expected ${values[0]}` : `expected one of: ${values.join(', ')}`;
      if (got === undefined) return [{path, message: `required (${expected})`, at: 'key'}];
      return [{path, message: `${expected}, got ${describeValue(got)}${near ? ` (did you mean "${near}"?)` : ''}`, at: 'value'}];
    }
    case 'invalid_type': {
      const got = valueAt(data, path);
      const expected = plainType(String(issue.expected));
      if (got === undefined) return [{path, message: `required (${expected})`, at: 'key'}];
      if (path.length === 0 || expected === 'a mapping') {
        const keys = keysOf(shapeAt(shapeOf(schema), path.map(String)));
        const of = expected === 'a mapping' && keys.length > 0 ? ` of keys (${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', ...' : ''})` : '';
        return [{path, message: `expected ${expected}${of}, got ${describeValue(got)}`, at: 'value'}];
      }
      return [{path, message: `expected ${expected}, got ${describeValue(got)}`, at: 'value'}];
    }
    default:
      return [{path, message: plain(issue.message), at: 'value'}];
  }
}

/** The keys an object accepts at `path`; among union options, those that fit the data's other keys. */
function allowedKeys(schema: z.ZodType, path: (string | number)[], data: unknown, unknown: readonly string[]): string[] {
  const shape = shapeAt(shapeOf(schema), path.map(String));
  if (!shape) return [];
  if (shape.kind !== 'union') return keysOf(shape);
  const present = Object.keys(asRecord(valueAt(data, path))).filter((k) => !unknown.includes(k));
  const fitting = shape.options.filter((o: Shape) => o.kind === 'object' && present.every((k) => k in o.props));
  return keysOf(fitting.length > 0 ? {kind: 'union', options: fitting} : shape);
}

function depth(branch: readonly Issue[]): number {
  return Math.max(...branch.map((i) => i.path.length));
}

function plain(message: string): string {
  return message.replace(/^Invalid input: /, '').replace(/^Invalid input$/, 'not a valid value');
}

function plainType(expected: string): string {
  switch (expected) {
    case 'object':
    case 'record':
    case 'map':
      return 'a mapping';
    case 'array':
    case 'tuple':
    case 'set':
      return 'a list';
    case 'int':
      return 'a whole number';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    default:
      return expected;
  }
}

/** How a value reads in a message: `a list`, `a mapping`, `number 3`, `string "x"`, `nothing`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value) ?? String(value);
  return `${typeof value} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

export function valueAt(data: unknown, path: KeyPath): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    if (!Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
