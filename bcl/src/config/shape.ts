import {z} from 'zod';

/**
 * The structure of a namespace schema as plain data (via zod's JSON Schema export), so that
 * environment variables and `config set` can find keys and coerce string values to the right type.
 */
export type Shape =
  | {kind: 'object'; props: Record<string, Shape>; additional?: Shape}
  | {kind: 'array'; items?: Shape}
  | {kind: 'scalar'; types: string[]}
  | {kind: 'union'; options: Shape[]}
  | {kind: 'any'};

interface JsonSchema {
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

export function shapeOf(schema: z.ZodType): Shape {
  let shape = cache.get(schema);
  if (!shape) {
    shape = fromJsonSchema(z.toJSONSchema(schema, {io: 'input', unrepresentable: 'any'}) as JsonSchema);
    cache.set(schema, shape);
  }
  return shape;
}

function fromJsonSchema(s: JsonSchema): Shape {
  const options = s.anyOf ?? s.oneOf;
  if (options) return {kind: 'union', options: options.map(fromJsonSchema)};
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes('object') || s.properties) {
    const props: Record<string, Shape> = {};
    for (const [k, v] of Object.entries(s.properties ?? {})) props[k] = fromJsonSchema(v);
    const additional =
      typeof s.additionalProperties === 'object' ? fromJsonSchema(s.additionalProperties) : s.additionalProperties === false ? undefined : {kind: 'any' as const};
    return additional ? {kind: 'object', props, additional} : {kind: 'object', props};
  }
  if (types.includes('array')) return s.items ? {kind: 'array', items: fromJsonSchema(s.items)} : {kind: 'array'};
  if (types.length > 0) return {kind: 'scalar', types};
  if (s.enum) return {kind: 'scalar', types: [...new Set(s.enum.map((v) => typeof v))]};
  return {kind: 'any'};
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
