import {readFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {invalidInput, specInvalid} from '@bcl/core';
import {isSpecError, type KeyPath, parseYaml, type Problem, problemAt, sortProblems, SpecError, validateSource, type YamlSource} from '@bcl/spec-loader';
import type {ValidationMemo} from '@bcl/core/validated';
import {type DbSpec, type SpecFile, specSchemas} from './schema.js';

export interface LoadedSpec {
  spec: DbSpec;
  /** Absolute path of db.yaml. */
  file: string;
  /** The environment whose overrides were applied, or undefined for the base spec. */
  env: string | undefined;
  /** The environments the file defines. */
  environments: string[];
}

/** A rule across keys that the schema alone does not express, broken at a key path. */
export interface SpecIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Reads db.yaml, applies the overrides of `env`, and validates; any problem is exit 3 naming the
 * file, line and key. With a memo (a command's ctx.validations), a spec validated before is not again.
 */
export function loadSpec(path: string, env?: string, memo?: ValidationMemo): LoadedSpec {
  const file = resolve(path);
  let text: Uint8Array;
  try {
    text = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw invalidInput('dbctl.spec_not_found', code === 'ENOENT' ? `${path} does not exist` : `cannot read ${path}: ${(error as Error).message}`, {
      hint: 'Pass the database spec with -f <path to db.yaml>.',
      details: {file},
    });
  }
  // The exact bytes, the file and the environment are the key (latin1 keeps each byte as one character).
  const input = memo ? JSON.stringify([file, env ?? null, Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('latin1')]) : '';
  const known = memo?.get('dbctl.spec', input) as LoadedSpec | undefined;
  if (known !== undefined) return known;
  const loaded = parseSpec(text, file, env);
  memo?.set('dbctl.spec', input, loaded);
  return loaded;
}

export function parseSpec(text: string | Uint8Array, file: string, env?: string): LoadedSpec {
  const {resolvedSpecSchema, specFileSchema, overridableKeys} = specSchemas();
  const hint = 'See docs/dbctl/db-spec.md for every key of db.yaml.';
  let source: YamlSource;
  try {
    source = parseYaml(text, file);
  } catch (error) {
    if (isSpecError(error)) throw specInvalid('dbctl.spec_invalid', error, {hint: 'Fix the YAML syntax of the spec.'});
    throw error;
  }
  const fail = (problems: Problem[]): never => {
    throw specInvalid('dbctl.spec_invalid', new SpecError(file, problems), {hint});
  };
  const base = validateSource(specFileSchema, source);
  if (!base.ok) fail(base.problems);
  const baseSpec = (base as {value: SpecFile}).value;
  const environments = Object.keys(baseSpec.environments);
  const {environments: _envs, ...baseRaw} = source.data as Record<string, unknown>;
  let merged: Record<string, unknown> = baseRaw;
  let prefix: (string | number)[] = [];
  if (env !== undefined) {
    const override = baseSpec.environments[env];
    if (!override) {
      throw invalidInput('dbctl.unknown_env', `${file}: no environment "${env}" (it defines: ${environments.join(', ') || 'none'})`, {
        hint: 'Pass --env with one of the names under environments: in the spec.',
        details: {file, env, environments},
      });
    }
    prefix = ['environments', env];
    const unknown = Object.keys(override).filter((k) => !overridableKeys.includes(k));
    if (unknown.length > 0) {
      fail(unknown.map((k) => problemAt(source, [...prefix, k], `"${k}" cannot be overridden per environment (allowed: ${overridableKeys.join(', ')})`, 'key')));
    }
    merged = deepMerge(baseRaw, override);
  }
  // A problem in a merged value points at the environment's override when that is where it was set.
  const overridden = env !== undefined ? (baseSpec.environments[env] ?? {}) : {};
  const locate = (path: KeyPath): KeyPath => (env !== undefined && hasPath(overridden, path) ? [...prefix, ...path] : path);
  const parsed = validateSource(resolvedSpecSchema, source, {data: merged, locatePath: locate});
  if (!parsed.ok) fail(parsed.problems);
  const spec = (parsed as {value: DbSpec}).value;
  const problems = checkSpec(spec).map((i) => problemAt(source, locate(i.path), i.message));
  if (problems.length > 0) fail(sortProblems(problems));
  return {spec, file, env, environments};
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

function hasPath(value: unknown, path: KeyPath): boolean {
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
