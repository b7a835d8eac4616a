import {stringify} from 'yaml';
import type {KubeObject} from './objects.js';

/** Objects as a multi-document YAML stream, as `kubectl apply -f` reads it. */
export function toYaml(objects: readonly KubeObject[]): string {
  return objects.map((o) => `---\n${documentOf(o)}`).join('');
}

/**
 * One object as the yaml library writes it (lineWidth 0, no aliases). Manifests are plain data
 * whose keys and values are nearly all plain words: for those this writes the same text directly,
 * which costs a fraction of the library's first run in a process (render's largest part); an
 * object with any other scalar (one that YAML would quote, a multi-line string, a fraction) goes to
 * the library as before. render.test.ts checks both ways agree on arbitrary objects.
 */
export function documentOf(object: unknown): string {
  return plainDocument(object) ?? stringify(object, {lineWidth: 0, aliasDuplicateObjects: false});
}

/** The document written directly, or undefined when it holds something only the library writes. */
export function plainDocument(object: unknown): string | undefined {
  const lines: string[] = [];
  return isObject(object) && writeMap(object, '', lines) && lines.length > 0 ? `${lines.join('\n')}\n` : undefined;
}

type Plain = Record<string, unknown>;

function isObject(value: unknown): value is Plain {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** A word YAML writes as it is: no quoting, no special meaning (the core schema's null, booleans, numbers). */
const WORD = /^[A-Za-z0-9_/$][A-Za-z0-9_./$%@+=,():-]*(?: [A-Za-z0-9_./$%@+=,():-]+)*$/;
/** A colon before a space or at the end starts a mapping. */
const KEY_LIKE = /:( |$)/;
const CORE = /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

function scalar(value: unknown): string | undefined {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'number') return Number.isSafeInteger(value) && !Object.is(value, -0) ? String(value) : undefined;
  if (typeof value !== 'string' || !WORD.test(value) || KEY_LIKE.test(value)) return undefined;
  // A word YAML would read as null, a boolean or a number is written in double quotes.
  return CORE.test(value) ? `"${value}"` : value;
  return undefined;
}

/** The value after "key:" (or "- "): inline text, or undefined for a block below. False: not a plain-data value. */
function inline(value: unknown): string | false | undefined {
  if (Array.isArray(value)) return value.length === 0 ? '[]' : undefined;
  if (isObject(value)) return Object.values(value).every((v) => v === undefined) ? '{}' : undefined;
  return scalar(value) ?? false;
}

function writeMap(map: Plain, indent: string, lines: string[], first?: string): boolean {
  let prefix = first;
  for (const [key, value] of Object.entries(map)) {
    // The library leaves out undefined members.
    if (value === undefined) continue;
    if (!WORD.test(key) || CORE.test(key) || key.includes(' ') || key.includes(':')) return false;
    const head = `${prefix ?? indent}${key}:`;
    prefix = undefined;
    const text = inline(value);
    if (text === false) return false;
    if (text !== undefined) {
      lines.push(`${head} ${text}`);
      continue;
    }
    lines.push(head);
    if (Array.isArray(value) ? !writeSeq(value, `${indent}  `, lines) : !writeMap(value as Plain, `${indent}  `, lines)) return false;
  }
  return true;
}

function writeSeq(seq: unknown[], indent: string, lines: string[], first?: string): boolean {
  let prefix = first;
  for (const item of seq) {
    const dash = `${prefix ?? indent}- `;
    prefix = undefined;
    const text = item === undefined ? false : inline(item);
    if (text === false) return false;
    if (text !== undefined) {
      lines.push(`${dash}${text}`);
      continue;
    }
    // A nested map or list starts on the dash's line.
    if (Array.isArray(item) ? !writeSeq(item, `${indent}  `, lines, dash) : !writeMap(item as Plain, `${indent}  `, lines, dash)) return false;
  }
  return true;
}
