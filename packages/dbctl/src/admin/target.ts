import {readFileSync, statSync} from 'node:fs';
import {invalidInput, type Redactor, usageError} from '@bcl/core';
import type {ConnectionProfile, DbctlSettings} from '../config.js';
import type {SecretStore} from '../secrets/kubernetes.js';

export type Engine = 'postgres' | 'mysql';
export type TlsMode = 'disable' | 'prefer' | 'require' | 'verify-full';

/** A database server dbctl talks to directly, with its administrative credentials resolved. */
export interface ServerTarget {
  engine: Engine;
  host: string;
  port: number;
  user: string;
  /** Never printed: registered with the redactor as soon as it is read. */
  password: string | undefined;
  /** The maintenance database (postgres) used when no database is named. */
  database: string | undefined;
  tls: TlsMode;
  caFile: string | undefined;
  /** How to name this server to a person: "connection prod-pg (db.internal:5432)". */
  label: string;
}

export const DEFAULT_PORT: Record<Engine, number> = {postgres: 5432, mysql: 3306};

export interface TargetInput {
  settings: DbctlSettings;
  connection?: string | undefined;
  url?: string | undefined;
  env: Record<string, string | undefined>;
  redactor: Redactor;
  /** Reads a Kubernetes Secret (passwordSecret); loaded lazily by the caller. */
  secrets?: () => Promise<SecretStore>;
}

/** The server named by --url, --connection or dbctl.defaultConnection, with its password. */
export async function resolveTarget(input: TargetInput): Promise<ServerTarget> {
  if (input.url) return fromUrl(input.url, input.env, input.redactor);
  const name = input.connection ?? input.settings.defaultConnection;
  if (!name) {
    throw usageError('no database server given: pass --connection <name> (a dbctl.connections entry) or --url <postgres://... | mysql://...>', {
      hint: 'Define one with `bcl config set dbctl.connections.<name>.host ...`, or set dbctl.defaultConnection.',
    });
  }
  const profile = input.settings.connections[name];
  if (!profile) {
    const known = Object.keys(input.settings.connections);
    throw invalidInput('dbctl.unknown_connection', `no connection profile "${name}" in dbctl.connections (defined: ${known.join(', ') || 'none'})`, {
      hint: 'Check the name, or add it to your BCL configuration under dbctl.connections.',
      details: {connection: name, known},
    });
  }
  const password = await profilePassword(name, profile, input);
  input.redactor.add(password);
  const port = profile.port ?? DEFAULT_PORT[profile.engine];
  return {
    engine: profile.engine,
    host: profile.host,
    port,
    user: profile.user,
    password,
    database: profile.database,
    tls: profile.tls,
    caFile: profile.caFile,
    label: `connection ${name} (${profile.host}:${port})`,
  };
}

async function profilePassword(name: string, profile: ConnectionProfile, input: TargetInput): Promise<string | undefined> {
  const key = `dbctl.connections.${name}`;
  if (profile.passwordEnv) {
    const value = input.env[profile.passwordEnv];
    if (value === undefined || value === '') {
      throw invalidInput('dbctl.password_missing', `${key}.passwordEnv names ${profile.passwordEnv}, which is not set`, {
        hint: `Export ${profile.passwordEnv} with the password of ${profile.user}.`,
        details: {connection: name, env: profile.passwordEnv},
      });
    }
    return value;
  }
  if (profile.passwordFile) {
    try {
      const mode = statSync(profile.passwordFile).mode & 0o077;
      const text = readFileSync(profile.passwordFile, 'utf8').replace(/\r?\n$/, '');
      if (mode !== 0) input.redactor.add(text);
      if (mode !== 0) {
        throw invalidInput('dbctl.password_file_mode', `${key}.passwordFile ${profile.passwordFile} is readable by other users`, {
          hint: `chmod 600 ${profile.passwordFile}`,
          details: {connection: name, file: profile.passwordFile},
        });
      }
      return text;
    } catch (error) {
      if ((error as {code?: string}).code === 'dbctl.password_file_mode') throw error;
      throw invalidInput('dbctl.password_missing', `${key}.passwordFile: cannot read ${profile.passwordFile}: ${(error as Error).message}`, {
        details: {connection: name, file: profile.passwordFile},
      });
    }
  }
  if (profile.passwordSecret) {
    if (!input.secrets) throw new Error('no Kubernetes access configured for passwordSecret');
    const [ref, dataKey = 'password'] = profile.passwordSecret.split('#') as [string, string?];
    const [namespace, secretName] = ref.split('/') as [string, string];
    const store = await input.secrets();
    return store.read(namespace, secretName, dataKey);
  }
  return defaultEnvPassword(profile.engine, input.env);
}

function defaultEnvPassword(engine: Engine, env: Record<string, string | undefined>): string | undefined {
  return (engine === 'postgres' ? env.PGPASSWORD : env.MYSQL_PWD) || undefined;
}

/** A standard connection URL: postgres[ql]://user[:password]@host[:port][/database][?sslmode=...], mysql://, mariadb://. */
export function fromUrl(url: string, env: Record<string, string | undefined>, redactor: Redactor): ServerTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidInput('dbctl.invalid_url', '--url: expected a connection URL such as postgres://admin@db.example:5432/postgres or mysql://root@127.0.0.1:3306', {
      details: {flag: '--url'},
    });
  }
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  redactor.add(password);
  const scheme = parsed.protocol.replace(/:$/, '');
  const engine: Engine | undefined = scheme === 'postgres' || scheme === 'postgresql' ? 'postgres' : scheme === 'mysql' || scheme === 'mariadb' ? 'mysql' : undefined;
  if (!engine) {
    throw invalidInput('dbctl.invalid_url', `--url: unsupported scheme "${scheme}" (expected postgres://, postgresql://, mysql:// or mariadb://)`, {details: {flag: '--url'}});
  }
  if (!parsed.hostname || !parsed.username) {
    throw invalidInput('dbctl.invalid_url', '--url: the URL needs a user and a host, e.g. postgres://admin@db.example:5432/postgres', {details: {flag: '--url'}});
  }
  const sslmode = parsed.searchParams.get('sslmode') ?? parsed.searchParams.get('ssl-mode')?.toLowerCase() ?? 'prefer';
  const tls = ({disable: 'disable', prefer: 'prefer', require: 'require', 'verify-full': 'verify-full', verify_identity: 'verify-full', required: 'require', preferred: 'prefer', disabled: 'disable'} as Record<string, TlsMode>)[sslmode];
  if (!tls) throw invalidInput('dbctl.invalid_url', `--url: sslmode=${sslmode} is not supported (disable, prefer, require, verify-full)`, {details: {flag: '--url'}});
  const port = parsed.port ? Number(parsed.port) : DEFAULT_PORT[engine];
  const database = parsed.pathname.replace(/^\//, '') || undefined;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const resolvedPassword = password ?? defaultEnvPassword(engine, env);
  redactor.add(resolvedPassword);
  return {
    engine,
    host,
    port,
    user: decodeURIComponent(parsed.username),
    password: resolvedPassword,
    database: database ? decodeURIComponent(database) : undefined,
    tls,
    caFile: parsed.searchParams.get('sslrootcert') ?? undefined,
    label: `${engine}://${host}:${port}`,
  };
}
