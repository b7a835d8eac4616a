import {createHash} from 'node:crypto';
import {readFileSync, statSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {invalidInput, type Redactor} from '@bcl/core';
import type {DbctlSettings} from '../config.js';

type Backend = DbctlSettings['backend'];
export type PgBackendSettings = Extract<Backend, {type: 'pg'}>;

/** Where an instance's state lives, and what terraform and dbctl's lock need to reach it. */
export interface StateLocation {
  type: Backend['type'];
  /** For people: "pg: postgres://db.internal:5432/tfstate, schema dbctl_shop", "local: /path/terraform.tfstate". */
  describe: string;
  /** The terraform backend block of main.tf.json (never a secret). */
  block: Record<string, unknown>;
  /** Environment for terraform (PG_CONN_STR for pg): secrets travel here, never in a file or argument. */
  env: Record<string, string>;
  /** pg: the connection string (a secret) and the instance's schema. */
  pg?: {connStr: string; schema: string};
  /** Where dbctl's lock file lives (every backend but pg). */
  lockFile?: string;
}

export interface BackendInput {
  settings: DbctlSettings;
  instance: string;
  workDir: string;
  env: Record<string, string | undefined>;
  redactor: Redactor;
  /** Where a configuration key's value came from (its layer and file), to keep secrets out of project files. */
  originOf(key: string): {kind: string; file?: string | undefined; label: string} | undefined;
}

/** The schema of an instance's state in the pg backend: <prefix><instance>, "-" as "_", at most 63 bytes. */
export function pgSchemaName(prefix: string, instance: string): string {
  const name = `${prefix}${instance.replace(/-/g, '_')}`;
  if (Buffer.byteLength(name) <= 63) return name;
  const hash = createHash('sha256').update(instance).digest('hex').slice(0, 8);
  return `${name.slice(0, 54)}_${hash}`;
}

/** The local backend's state file of an instance (in its work directory unless dbctl.backend.dir is set). */
export function localStatePath(settings: DbctlSettings, instance: string): string {
  return settings.backend.type === 'local' && settings.backend.dir ? join(settings.backend.dir, instance, 'terraform.tfstate') : 'terraform.tfstate';
}

export function resolveBackend(input: BackendInput): StateLocation {
  const b = input.settings.backend;
  const key = input.instance;
  if (b.type === 'gcs') {
    const prefix = `${b.prefix ? `${b.prefix.replace(/\/$/, '')}/` : ''}dbctl/${key}`;
    return {type: 'gcs', describe: `gcs: gs://${b.bucket}/${prefix}`, block: {gcs: {bucket: b.bucket, prefix}}, env: {}, lockFile: join(input.workDir, 'dbctl.lock')};
  }
  if (b.type === 's3') {
    const object = `${b.keyPrefix ? `${b.keyPrefix.replace(/\/$/, '')}/` : ''}dbctl/${key}/terraform.tfstate`;
    const block = {s3: {bucket: b.bucket, region: b.region, key: object, encrypt: true, ...(b.dynamodbTable ? {dynamodb_table: b.dynamodbTable} : {use_lockfile: true})}};
    return {type: 's3', describe: `s3: s3://${b.bucket}/${object}`, block, env: {}, lockFile: join(input.workDir, 'dbctl.lock')};
  }
  if (b.type === 'pg') {
    const connStr = pgConnStr(b, input);
    const schema = pgSchemaName(b.schemaPrefix, key);
    return {type: 'pg', describe: `pg: ${describeConnStr(connStr)}, schema ${schema}`, block: {pg: {schema_name: schema}}, env: {PG_CONN_STR: connStr}, pg: {connStr, schema}};
  }
  const path = localStatePath(input.settings, key);
  const absolute = path.startsWith('/') ? path : join(input.workDir, path);
  return {type: 'local', describe: `local: ${absolute}`, block: {local: {path}}, env: {}, lockFile: join(dirname(absolute), 'dbctl.lock')};
}

/** The pg backend's connection string from its one secret source; registered with the redactor. */
export function pgConnStr(b: PgBackendSettings, input: Pick<BackendInput, 'env' | 'redactor' | 'originOf'>): string {
  const sources = (['connStrEnv', 'connStrFile', 'connStr'] as const).filter((k) => b[k] !== undefined);
  if (sources.length !== 1) {
    throw invalidInput('dbctl.backend_invalid', `dbctl.backend (type pg): give exactly one of connStrEnv, connStrFile or connStr${sources.length > 1 ? ` (found ${sources.join(', ')})` : ''}`, {
      hint: 'For example: bcl config set dbctl.backend.connStrEnv DBCTL_STATE_PG, then export DBCTL_STATE_PG=postgres://user:password@host:5432/tfstate',
      details: {key: 'dbctl.backend'},
    });
  }
  let value: string;
  if (b.connStrEnv) {
    const v = input.env[b.connStrEnv];
    if (!v) throw invalidInput('dbctl.backend_invalid', `dbctl.backend.connStrEnv names ${b.connStrEnv}, which is not set`, {hint: `Export ${b.connStrEnv} with the state database's postgres:// URL.`, details: {key: 'dbctl.backend.connStrEnv'}});
    value = v.trim();
  } else if (b.connStrFile) {
    let mode: number;
    try {
      mode = statSync(b.connStrFile).mode;
      value = readFileSync(b.connStrFile, 'utf8').trim();
    } catch (error) {
      throw invalidInput('dbctl.backend_invalid', `dbctl.backend.connStrFile: cannot read ${b.connStrFile}: ${(error as Error).message}`, {details: {key: 'dbctl.backend.connStrFile'}});
    }
    input.redactor.add(value);
    if (mode & 0o077) {
      throw invalidInput('dbctl.backend_invalid', `dbctl.backend.connStrFile ${b.connStrFile} is readable by other users`, {hint: `chmod 600 ${b.connStrFile}`, details: {key: 'dbctl.backend.connStrFile'}});
    }
  } else {
    value = b.connStr!.trim();
    input.redactor.add(value);
    const origin = input.originOf('dbctl.backend.connStr');
    if (origin && origin.kind !== 'user' && origin.kind !== 'explicit' && origin.kind !== 'env' && origin.kind !== 'flag') {
      throw invalidInput('dbctl.backend_invalid', `dbctl.backend.connStr is set in ${origin.label}: the state database's connection string is a secret and is taken only from your own configuration file`, {
        hint: 'Move it to $XDG_CONFIG_HOME/bcl/config.yaml (mode 0600), or use connStrEnv or connStrFile.',
        details: {key: 'dbctl.backend.connStr', origin: origin.label},
      });
    }
    if (origin?.file && hasPassword(value)) {
      let mode = 0;
      try {
        mode = statSync(origin.file).mode;
      } catch {
        // the file was read a moment ago; leave the check to the next run
      }
      if (mode & 0o077) {
        throw invalidInput('dbctl.backend_invalid', `dbctl.backend.connStr holds a password, but ${origin.file} is readable by other users`, {hint: `chmod 600 ${origin.file}`, details: {key: 'dbctl.backend.connStr'}});
      }
    }
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidInput('dbctl.backend_invalid', 'dbctl.backend: the pg connection string is not a postgres:// URL', {hint: 'Use the form postgres://user:password@host:5432/database?sslmode=require', details: {key: 'dbctl.backend'}});
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw invalidInput('dbctl.backend_invalid', `dbctl.backend: the pg connection string must be a postgres:// URL (it is ${url.protocol}//...)`, {details: {key: 'dbctl.backend'}});
  }
  input.redactor.add(value);
  if (url.password) input.redactor.add(decodeURIComponent(url.password));
  return value;
}

/** A connection string without its credentials, for messages: postgres://host:5432/db. */
export function describeConnStr(connStr: string): string {
  try {
    const url = new URL(connStr);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(connection string)';
  }
}

function hasPassword(connStr: string): boolean {
  try {
    return new URL(connStr).password !== '';
  } catch {
    return true;
  }
}
