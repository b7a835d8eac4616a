import {readFileSync, statSync} from 'node:fs';
import {dirname, resolve} from 'node:path';
import * as z from 'zod';
import {formatDuration, parseDuration} from './duration.js';
import {MAX_TTL_SECONDS} from './rules.js';
import {InvalidFileError, loadYamlFile} from './yaml-file.js';

/** The service's own configuration file (`cssh-authz serve --config <file>`). Paths are relative to it. */
const path = z.string().min(1, 'expected a file path');
const duration = z.string().refine((d) => {
  const s = parseDuration(d);
  return s !== undefined && s > 0 && s <= MAX_TTL_SECONDS;
}, `expected a duration such as 30m, 8h or 1d (at most ${formatDuration(MAX_TTL_SECONDS)})`);

export const serviceConfigSchema = z.strictObject({
  /** host:port to listen on (port 0: any free port, printed at start). */
  listen: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port, e.g. 0.0.0.0:8443 or 127.0.0.1:0')
    .default('127.0.0.1:8443'),
  tls: z.strictObject({
    /** The service's own certificate chain (PEM) and key. */
    cert: path,
    key: path,
    /** The PKI CA certificate(s) (PEM) that issue engineers' client certificates. */
    clientCa: path,
    /**
     * The PKI's CRL file(s) (PEM, possibly several blocks, or DER); reloaded when they change.
     * Every CA of a chain needs its CRL: with an intermediate, list the root's and the intermediate's.
     */
    crl: z.union([path, z.array(path).min(1)]).optional(),
  }),
  ca: z.strictObject({
    /** The SSH user CA private key: PKCS#8 PEM (optionally encrypted) or an unencrypted OpenSSH key. */
    key: path,
    /** A file holding the passphrase of an encrypted PKCS#8 key. */
    passphraseFile: path.optional(),
    /** How long `cssh-authz ca rotate` keeps the previous key trusted (at least the longest certificate lifetime). */
    rotationOverlap: duration.default('8h'),
  }),
  /**
   * 32 random bytes, base64, in a 0600 file (`cssh-authz secrets-key --out`): seals TOTP secrets
   * and rotated CA keys in the state. Needed for TOTP and for `ca rotate`.
   */
  secretsKey: path.optional(),
  mfa: z
    .strictObject({
      /** The issuer an authenticator app shows next to the account. */
      issuer: z.string().min(1).max(64).regex(/^[^:]+$/, 'expected a name without ":"').default('cssh-authz'),
      /** Wrong codes within failureWindow after which every code is refused until the window has passed. */
      maxFailures: z.number().int().min(1).max(100).default(5),
      failureWindow: duration.default('15m'),
    })
    .default({issuer: 'cssh-authz', maxFailures: 5, failureWindow: '15m'}),
  /** The access rules (YAML); reloaded on change and on SIGHUP. */
  rules: path,
  /**
   * The shared state of replicas: PostgreSQL. The connection string (it holds a password) comes
   * from a 0600 file or an environment variable, never from this file or a command line.
   */
  database: z
    .strictObject({
      urlFile: path.optional(),
      urlEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected the name of an environment variable, e.g. CSSH_AUTHZ_DATABASE_URL').optional(),
      /** Connections per replica. */
      pool: z.number().int().min(2).max(100).default(10),
    })
    .refine((d) => (d.urlFile === undefined) !== (d.urlEnv === undefined), 'give exactly one of urlFile (a 0600 file holding postgres://user:password@host:port/database) or urlEnv (the environment variable holding it)')
    .optional(),
  /** Single node: where issued certificates and revocations are remembered (not with database). */
  stateDir: path.optional(),
  /** Single node: the audit log, JSON lines, appended to, never rewritten (not with database). */
  auditLog: path.optional(),
  certificates: z
    .strictObject({
      /** Lifetime when the request names none. */
      defaultTtl: duration.default('8h'),
      /** Lifetime limit of grants that name no maxTtl. */
      maxTtl: duration.default('8h'),
    })
    .default({defaultTtl: '8h', maxTtl: '8h'}),
  /** Who may query GET /v1/principals: anyone (hosts without a PKI certificate), or PKI clients only. */
  principalsEndpoint: z.enum(['public', 'client-certificate']).default('public'),
}).superRefine((c, ctx) => {
  for (const key of ['stateDir', 'auditLog'] as const) {
    if (c.database && c[key] !== undefined) ctx.addIssue({code: 'custom', path: [key], message: `not used with database: the state and the audit trail are in the database (cssh-authz db import moves a state directory there); remove ${key}`});
    if (!c.database && c[key] === undefined) ctx.addIssue({code: 'custom', path: [key], message: `required without database (a single node keeps its state in files)`});
  }
});

/** Where the state is: files of one node, or the database of replicas. */
export type StateConfig = {kind: 'files'; stateDir: string; auditLog: string} | {kind: 'database'; urlFile?: string; urlEnv?: string; pool: number};

export type ServiceConfig = Omit<z.output<typeof serviceConfigSchema>, 'tls' | 'stateDir' | 'auditLog' | 'database'> & {
  file: string;
  listenHost: string;
  listenPort: number;
  /** Absolute paths; `crl` always a list (empty: revocation not checked). */
  tls: {cert: string; key: string; clientCa: string; crl: string[]};
  state: StateConfig;
};

export function loadServiceConfig(file: string): ServiceConfig {
  const {stateDir, auditLog, database, ...raw} = loadYamlFile(file, serviceConfigSchema);
  const base = dirname(resolve(file));
  const abs = (p: string) => resolve(base, p);
  const at = raw.listen.lastIndexOf(':');
  return {
    ...raw,
    file: resolve(file),
    tls: {
      cert: abs(raw.tls.cert),
      key: abs(raw.tls.key),
      clientCa: abs(raw.tls.clientCa),
      crl: (raw.tls.crl === undefined ? [] : Array.isArray(raw.tls.crl) ? raw.tls.crl : [raw.tls.crl]).map(abs),
    },
    ca: {key: abs(raw.ca.key), ...(raw.ca.passphraseFile ? {passphraseFile: abs(raw.ca.passphraseFile)} : {}), rotationOverlap: raw.ca.rotationOverlap},
    ...(raw.secretsKey ? {secretsKey: abs(raw.secretsKey)} : {}),
    rules: abs(raw.rules),
    // The schema makes sure exactly one of the two is configured.
    state: database
      ? {kind: 'database', ...(database.urlFile ? {urlFile: abs(database.urlFile)} : {}), ...(database.urlEnv ? {urlEnv: database.urlEnv} : {}), pool: database.pool}
      : {kind: 'files', stateDir: abs(stateDir!), auditLog: abs(auditLog!)},
    listenHost: raw.listen.slice(0, at).replace(/^\[|\]$/g, ''),
    listenPort: Number(raw.listen.slice(at + 1)),
  };
}

/** The database's connection string, from the file or environment variable the configuration names. */
export function databaseUrl(config: ServiceConfig, env: NodeJS.ProcessEnv = process.env): string {
  const state = config.state;
  if (state.kind !== 'database') throw new InvalidFileError(`${config.file}: database: not configured (the state is in ${state.stateDir})`, config.file);
  const source = state.urlFile ? {file: state.urlFile} : {env: state.urlEnv!};
  return readConnectionString(source, (m) => new InvalidFileError(`${config.file}: ${state.urlFile ? 'database.urlFile' : 'database.urlEnv'}: ${m}`, config.file), env);
}

/**
 * A connection string from a 0600 file or an environment variable. The value is a secret:
 * messages (built by `problem`) never quote it.
 */
export function readConnectionString(source: {file: string} | {env: string}, problem: (message: string) => Error, env: NodeJS.ProcessEnv = process.env): string {
  let url: string;
  if ('file' in source) {
    let mode: number;
    try {
      mode = statSync(source.file).mode;
      url = readFileSync(source.file, 'utf8').trim();
    } catch (error) {
      throw problem(`${source.file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    // It holds a password: readable by the service's user only, like the CA key.
    if ((mode & 0o077) !== 0) throw problem(`${source.file}: holds a password and must not be readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  } else {
    const value = env[source.env];
    if (value === undefined || value.trim() === '') throw problem(`the environment variable ${source.env} is not set (it should hold postgres://user:password@host:port/database)`);
    url = value.trim();
  }
  if (!/^postgres(ql)?:\/\/\S+$/.test(url)) throw problem(`${'file' in source ? source.file : source.env}: expected a connection string postgres://user:password@host:port/database (the value is not shown: it may hold a password)`);
  return url;
}
