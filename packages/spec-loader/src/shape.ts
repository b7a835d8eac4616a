import * as z from 'zod';

/**
 * The structure of a schema as plain data (via zod's JSON Schema export): the keys it accepts at
 * each path (for "did you mean" and environment variables), the types (to coerce strings from
 * environment variables and `config set`), and the metadata declared with `.meta()`.
 */
export type Shape = (
  | {kind: 'object'; props: Record<string, Shape>; additional?: Shape; required?: string[]}
  | {kind: 'array'; items?: Shape}
  | {kind: 'scalar'; types: string[]; values?: unknown[]}
  | {kind: 'union'; options: Shape[]}
  | {kind: 'any'}
) & {
  /** Metadata given with zod's `.meta()` (keys that are not JSON Schema keywords). */
  meta?: Record<string, unknown>;
};

interface JsonSchema {
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  required?: string[];
  allOf?: JsonSchema[];
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
}

const cache = new WeakMap<z.ZodType, Shape>();

/**
 * The shape of a zod schema, through zod's public JSON Schema export (never its internals, so a
 * zod upgrade cannot break it). Cached per schema.
 */
export function shapeOf(schema: z.ZodType): Shape {
  let shape = cache.get(schema);
  if (!shape) {
    const json = z.toJSONSchema(schema, {io: 'input', unrepresentable: 'any', cycles: 'ref'}) as JsonSchema;
    shape = fromJsonSchema(json, json, []);
    cache.set(schema, shape);
  }
  return shape;
}

const KEYWORDS = new Set([
  '$schema', '$ref', '$defs', '$id', 'id', 'type', 'properties', 'additionalProperties', 'required', 'items', 'prefixItems', 'anyOf', 'oneOf', 'allOf',
  'enum', 'const', 'default', 'description', 'title', 'format', 'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength',
  'maxLength', 'minItems', 'maxItems', 'propertyNames', 'patternProperties', 'not', 'examples', 'readOnly', 'writeOnly', 'deprecated', 'contentEncoding',
  'contentMediaType', 'multipleOf', 'uniqueItems', 'minProperties', 'maxProperties',
]);

function fromJsonSchema(s: JsonSchema, root: JsonSchema, refs: string[]): Shape {
  if (s.$ref) {
    // A recursive schema refers to itself: below the first level it is "anything".
    if (refs.includes(s.$ref)) return {kind: 'any'};
    const target = resolveRef(root, s.$ref);
    const {$ref: _ref, ...rest} = s;
    return target ? fromJsonSchema({...target, ...rest}, root, [...refs, s.$ref]) : {kind: 'any'};
  }
  const shape = withoutMeta(s, root, refs);
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) if (!KEYWORDS.has(k)) meta[k] = v;
  return Object.keys(meta).length > 0 ? {...shape, meta} : shape;
}

function withoutMeta(s: JsonSchema, root: JsonSchema, refs: string[]): Shape {
  const options = s.anyOf ?? s.oneOf ?? (s.allOf && s.allOf.length > 1 ? undefined : s.allOf);
  if (options) return options.length === 1 ? fromJsonSchema(options[0]!, root, refs) : {kind: 'union', options: options.map((o) => fromJsonSchema(o, root, refs))};
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes('object') || s.properties) {
    const props: Record<string, Shape> = {};
    for (const [k, v] of Object.entries(s.properties ?? {})) props[k] = fromJsonSchema(v, root, refs);
    const additional =
      typeof s.additionalProperties === 'object' ? fromJsonSchema(s.additionalProperties, root, refs) : s.additionalProperties === false ? undefined : {kind: 'any' as const};
    const shape: Shape = additional ? {kind: 'object', props, additional} : {kind: 'object', props};
    if (s.required?.length) shape.required = s.required;
    return shape;
  }
  if (types.includes('array')) return s.items ? {kind: 'array', items: fromJsonSchema(s.items, root, refs)} : {kind: 'array'};
  const values = s.enum ?? (s.const !== undefined ? [s.const] : undefined);
  if (types.length > 0) return values ? {kind: 'scalar', types, values} : {kind: 'scalar', types};
  if (values) return {kind: 'scalar', types: [...new Set(values.map((v) => typeof v))], values};
  return {kind: 'any'};
}

function resolveRef(root: JsonSchema, ref: string): JsonSchema | undefined {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) {
    node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node as JsonSchema | undefined;
}

/** The shape at a key path, or undefined when the schema has no such key. */
export function shapeAt(shape: Shape, path: readonly string[]): Shape | undefined {
  let current: Shape | undefined = shape;
  for (const segment of path) {
    if (!current) return undefined;
    current = childShape(current, segment);
  }
  return current;
}

function childShape(shape: Shape, key: string): Shape | undefined {
  switch (shape.kind) {
    case 'object':
      return shape.props[key] ?? shape.additional;
    case 'union':
      for (const option of shape.options) {
        const child = childShape(option, key);
        if (child) return child;
      }
      return undefined;
    case 'array':
      return /^\d+$/.test(key) ? shape.items : undefined;
    case 'any':
      return {kind: 'any'};
    default:
      return undefined;
  }
}

/** The key names an object shape accepts, for "expected one of" messages. */
export function keysOf(shape: Shape | undefined): string[] {
  if (!shape) return [];
  if (shape.kind === 'object') return Object.keys(shape.props);
  if (shape.kind === 'union') return [...new Set(shape.options.flatMap(keysOf))];
  return [];
}

/**
 * The metadata (zod `.meta()`) in force at a key path: the nearest declaration on the path wins,
 * so a declaration on a mapping covers every key below it.
 */
export function metaAt(shape: Shape, path: readonly string[], key: string): unknown {
  let found: unknown = shape.meta?.[key];
  let current: Shape | undefined = shape;
  for (const segment of path) {
    current = current ? childShape(current, segment) : undefined;
    if (!current) break;
    const own = current.meta?.[key] ?? (current.kind === 'union' ? current.options.map((o) => o.meta?.[key]).find((v) => v !== undefined) : undefined);
    if (own !== undefined) found = own;
  }
  return found;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/**
 * Turns a string (from an environment variable or `config set`) into the value the shape
 * expects. When it cannot, the string is returned as is and schema validation explains why.
 */
export function coerce(shape: Shape | undefined, raw: string): unknown {
  if (!shape || shape.kind === 'any') return raw;
  const trimmed = raw.trim();
  if (shape.kind === 'array') {
    if (trimmed.startsWith('[')) return parseJson(trimmed) ?? raw;
    if (trimmed === '') return [];
    return trimmed.split(',').map((item) => coerce(shape.items, item.trim()));
  }
  if (shape.kind === 'object') return trimmed.startsWith('{') ? (parseJson(trimmed) ?? raw) : raw;
  if (shape.kind === 'union') {
    for (const option of shape.options) {
      const value = coerce(option, raw);
      if (value !== raw || (option.kind === 'scalar' && option.types.includes('string'))) return value;
    }
    return raw;
  }
  const types = shape.types;
  if (types.includes('string')) return raw;
  if ((types.includes('number') || types.includes('integer')) && trimmed !== '' && Number.isFinite(Number(trimmed))) return Number(trimmed);
  if (types.includes('boolean')) {
    const lower = trimmed.toLowerCase();
    if (TRUE.has(lower)) return true;
    if (FALSE.has(lower)) return false;
  }
  if (types.includes('null') && trimmed === 'null') return null;
  return raw;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** camelCase or kebab-case key to the SNAKE_UPPER form used in environment variable names. */
export function envSegment(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}

/**
 * Maps the tokens of an environment variable name (after BCL_<NAMESPACE>_) to a key path by
 * walking the schema: BCL_SVCTL_DEFAULT_ENV -> [defaultEnv]; record keys are lower-cased
 * (BCL_SVCTL_CLUSTERS_PROD_CONTEXT -> [clusters, prod, context]).
 */
export function resolveEnvPath(shape: Shape, tokens: readonly string[]): string[] | null {
  if (tokens.length === 0) return [];
  if (shape.kind === 'union') {
    for (const option of shape.options) {
      const found = resolveEnvPath(option, tokens);
      if (found) return found;
    }
    return null;
  }
  if (shape.kind !== 'object') return null;
  // Longest property name first, so DEFAULT_ENV wins over DEFAULT when both exist.
  const props = Object.entries(shape.props).sort(([a], [b]) => envSegment(b).length - envSegment(a).length);
  for (const [name, child] of props) {
    const parts = envSegment(name).split('_');
    if (parts.every((part, i) => tokens[i] === part)) {
      const rest = resolveEnvPath(child, tokens.slice(parts.length));
      if (rest) return [name, ...rest];
    }
  }
  if (shape.additional && shape.additional.kind !== 'any') {
    for (let i = 1; i <= tokens.length; i++) {
      const rest = resolveEnvPath(shape.additional, tokens.slice(i));
      if (rest) return [tokens.slice(0, i).join('_').toLowerCase(), ...rest];
    }
  } else if (shape.additional) {
    return [tokens.join('_').toLowerCase()];
  }
  return null;
}
