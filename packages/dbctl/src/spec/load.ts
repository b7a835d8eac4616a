import {readFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {invalidInput} from '@bcl/core';
import {type Document, LineCounter, parseDocument} from 'yaml';
import type {z} from 'zod';
import {type DbSpec, OVERRIDABLE_KEYS, resolvedSpecSchema, specFileSchema} from './schema.js';

export interface LoadedSpec {
  spec: DbSpec;
  /** Absolute path of db.yaml. */
  file: string;
  /** The environment whose overrides were applied, or undefined for the base spec. */
  env: string | undefined;
  /** The environments the file defines. */
  environments: string[];
}

export interface SpecIssue {
  path: (string | number)[];
  message: string;
  line?: number;
}

/** Reads db.yaml, applies the overrides of `env`, and validates; any problem is exit 3 naming the file, line and key. */
export function loadSpec(path: string, env?: string): LoadedSpec {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw invalidInput('dbctl.spec_not_found', code === 'ENOENT' ? `${path} does not exist` : `cannot read ${path}: ${(error as Error).message}`, {
      hint: 'Pass the database spec with -f <path to db.yaml>.',
      details: {file},
    });
  }
  return parseSpec(text, file, env);
}

export function parseSpec(text: string, file: string, env?: string): LoadedSpec {
  const lines = new LineCounter();
  const doc = parseDocument(text, {lineCounter: lines, uniqueKeys: true, prettyErrors: false});
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = yamlError.linePos?.[0]?.line;
    throw invalidInput('dbctl.spec_invalid', `${file}${line ? `:${line}` : ''}: not valid YAML: ${yamlError.message.split('\n')[0]}`, {
      hint: 'Fix the YAML syntax of the spec.',
      details: {file, line},
    });
  }
  const raw = doc.toJS() as unknown;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalidInput('dbctl.spec_invalid', `${file}: expected a mapping with name, engine, provider... (see docs/dbctl/db-spec.md)`, {details: {file}});
  }
  const lineOf = (p: (string | number)[]) => lineAt(doc, lines, p);

  const base = specFileSchema.safeParse(raw);
  if (!base.success) fail(file, issuesOf(base.error, [], lineOf));
  const environments = Object.keys(base.data.environments);
  const {environments: _envs, ...baseRaw} = raw as Record<string, unknown>;
  let merged: Record<string, unknown> = baseRaw;
  let prefix: (string | number)[] = [];
  if (env !== undefined) {
    const override = base.data.environments[env];
    if (!override) {
      throw invalidInput('dbctl.unknown_env', `${file}: no environment "${env}" (it defines: ${environments.join(', ') || 'none'})`, {
        hint: 'Pass --env with one of the names under environments: in the spec.',
        details: {file, env, environments},
      });
    }
    prefix = ['environments', env];
    const unknown = Object.keys(override).filter((k) => !OVERRIDABLE_KEYS.includes(k));
    if (unknown.length > 0) {
      fail(
        file,
        unknown.map((k) => {
          const path = [...prefix, k];
          return {path, message: `"${k}" cannot be overridden per environment (allowed: ${OVERRIDABLE_KEYS.join(', ')})`, line: lineOf(path)};
        }),
      );
    }
    merged = deepMerge(baseRaw, override);
  }
  const parsed = resolvedSpecSchema.safeParse(merged);
  const overridden = env !== undefined ? (base.data.environments[env] ?? {}) : {};
  const locate = (path: (string | number)[]): (string | number)[] => (env !== undefined && hasPath(overridden, path) ? [...prefix, ...path] : path);
  if (!parsed.success) fail(file, issuesOf(parsed.error, [], (p) => lineOf(locate(p))).map((i) => ({...i, path: locate(i.path)})));
  const problems = checkSpec(parsed.data).map((i) => ({...i, path: locate(i.path), line: lineOf(locate(i.path))}));
  if (problems.length > 0) fail(file, problems);
  return {spec: parsed.data, file, env, environments};
}

/** Rules across keys that a schema alone does not express. */
export function checkSpec(spec: DbSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const add = (path: (string | number)[], message: string) => issues.push({path, message});
  if (spec.provider === 'local' && !spec.connection) add(['connection'], 'required when provider is local: the connection profile (dbctl.connections.<name>) that reaches the server');
  if (spec.provider !== 'local') {
    if (!spec.region) add(['region'], `required when provider is ${spec.provider}`);
    if (!spec.tier) add(['tier'], `required when provider is ${spec.provider} (${spec.provider === 'gcp' ? 'a Cloud SQL tier such as db-custom-2-7680' : 'an RDS instance class such as db.t4g.medium'})`);
    if (!spec.version) add(['version'], `required when provider is ${spec.provider} (the engine major version, e.g. ${spec.engine === 'postgres' ? '16' : '8.0'})`);
    if (spec.provider === 'gcp' && !spec.project) add(['project'], 'required when provider is gcp: the Google Cloud project id');
  }
  if (spec.provider === 'aws' && spec.network.authorizedNetworks.length > 0 && !spec.network.vpcId) {
    add(['network', 'vpcId'], 'required on aws when network.authorizedNetworks is set (the security group is created in this VPC)');
  }
  if (spec.storage.maxSizeGb !== undefined && spec.storage.maxSizeGb < spec.storage.sizeGb) add(['storage', 'maxSizeGb'], `must be at least storage.sizeGb (${spec.storage.sizeGb})`);
  if (spec.engine === 'postgres' && spec.backups.pointInTimeRecovery && !spec.backups.enabled) add(['backups', 'pointInTimeRecovery'], 'needs backups.enabled: true');
  const dbNames = new Map<string, number>();
  spec.databases.forEach((db, i) => {
    if (dbNames.has(db.name)) add(['databases', i, 'name'], `database "${db.name}" is listed twice`);
    dbNames.set(db.name, i);
    if (spec.engine === 'mysql' && !(db.schemas.length === 1 && db.schemas[0] === 'public')) {
      add(['databases', i, 'schemas'], 'MySQL has no schemas inside a database: remove schemas (a MySQL database is a schema)');
    }
    const seen = new Set<string>();
    db.schemas.forEach((s, j) => {
      if (seen.has(s)) add(['databases', i, 'schemas', j], `schema "${s}" is listed twice`);
      seen.add(s);
    });
  });
  const grants = new Map<string, string>();
  spec.access.forEach((entry, i) => {
    if (spec.engine === 'mysql' && entry.schemas) add(['access', i, 'schemas'], 'MySQL has no schemas inside a database: remove schemas');
    entry.databases.forEach((name, j) => {
      const index = dbNames.get(name);
      if (index === undefined) {
        add(['access', i, 'databases', j], `database "${name}" is not declared under databases`);
        return;
      }
      const db = spec.databases[index]!;
      for (const [k, schema] of (entry.schemas ?? []).entries()) {
        if (!db.schemas.includes(schema)) add(['access', i, 'schemas', k], `schema "${schema}" is not declared in databases[${index}].schemas (${db.schemas.join(', ')})`);
      }
      for (const schema of entry.schemas ?? db.schemas) {
        const key = JSON.stringify([entry.role, name, schema]);
        const previous = grants.get(key);
        if (previous && previous !== entry.profile) add(['access', i, 'profile'], `role "${entry.role}" already has profile ${previous} on ${name}.${schema}`);
        grants.set(key, entry.profile);
      }
    });
  });
  return issues;
}

function fail(file: string, issues: SpecIssue[]): never {
  const first = issues[0]!;
  const where = (i: SpecIssue) => `${file}${i.line ? `:${i.line}` : ''}: ${formatPath(i.path) || '(top level)'}: ${i.message}`;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  throw invalidInput('dbctl.spec_invalid', `${where(first)}${more}`, {
    hint: issues.length > 1 ? issues.slice(1, 6).map(where).join('\n') : 'See docs/dbctl/db-spec.md for every key of db.yaml.',
    details: {file, issues: issues.map((i) => ({path: formatPath(i.path), message: i.message, line: i.line}))},
  });
}

function issuesOf(error: z.ZodError, prefix: (string | number)[], lineOf: (p: (string | number)[]) => number | undefined): SpecIssue[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...(issue.path as (string | number)[])];
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as {keys: string[]}).keys;
      const unknownPath = [...path, keys[0]!];
      return {path: unknownPath, message: `unknown key${keys.length > 1 ? `s ${keys.join(', ')}` : ''} (not part of the spec; see docs/dbctl/db-spec.md)`, line: lineOf(unknownPath)};
    }
    if (issue.code === 'invalid_type') message = message.replace(/^Invalid input: /, '');
    return {path, message, line: lineOf(path)};
  });
}

export function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function lineAt(doc: Document.Parsed, lines: LineCounter, path: (string | number)[]): number | undefined {
  for (let n = path.length; n > 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as {range?: [number, number, number]} | undefined;
    if (node?.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

function hasPath(value: unknown, path: (string | number)[]): boolean {
  let current = value;
  for (const key of path) {
    if (!current || typeof current !== 'object') return false;
    if (!Object.hasOwn(current as object, key)) return false;
    current = (current as Record<string | number, unknown>)[key];
  }
  return true;
}

/** Mappings merge key by key; lists and scalars are replaced whole (as in the configuration layers). */
export function deepMerge(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {...base};
  for (const [key, value] of Object.entries(override)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return Boolean(v) && typeof v === 'object' && !Array.isArray(v);
}
