import {defineNamespace, projectKey, trustedKey} from '@bcl/core';
import * as z from 'zod';

/** A server dbctl administers directly. The password is referenced, never stored here. */
const connection = () => z.strictObject({
  engine: z.enum(['postgres', 'mysql']).default('postgres'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).optional(),
  /** The administrative user. */
  user: z.string().min(1),
  database: z.string().min(1).optional(),
  passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
  passwordFile: z.string().min(1).optional(),
  /** A Kubernetes Secret holding the password: <namespace>/<name>[#key]. */
  passwordSecret: z.string().regex(/^[a-z0-9-]+\/[a-z0-9.-]+(#[-._a-zA-Z0-9]+)?$/, '<namespace>/<name>[#key]').optional(),
  tls: z.enum(['disable', 'prefer', 'require', 'verify-full'], {message: 'one of disable, prefer, require, verify-full'}).default('prefer'),
  /** PEM file of the CA that signs the server certificate (for verify-full). */
  caFile: z.string().min(1).optional(),
});

export type ConnectionProfile = z.output<ReturnType<typeof connection>>;

/** The `dbctl` namespace: Terraform settings and database connection profiles (built on first use, see defineNamespace). */
export const dbctlSchema = () => z.strictObject({
  terraform: z
    .strictObject({
      /** terraform, tofu, or a path; detected when unset. */
      binary: trustedKey(z.string().min(1).optional()),
      /** How long a run waits for another run's lock on the same instance (dbctl's and Terraform's); --lock-timeout overrides. */
      lockTimeout: projectKey(z.string().regex(/^\d+[smh]$/, 'a duration such as 60s or 5m').default('60s')),
      /** Where working directories go; default $XDG_STATE_HOME/bcl/dbctl/work. */
      workDir: trustedKey(z.string().min(1).optional()),
      /** Time limit of one plan or apply, e.g. 30m. */
      timeout: projectKey(z.string().regex(/^\d+[smh]$/, 'a duration such as 90s, 30m or 2h').default('60m')),
    })
    .default({lockTimeout: '60s', timeout: '60m'}),
  /** Terraform state backend for generated configurations. */
  backend: trustedKey(
    z
    .discriminatedUnion('type', [
      z.strictObject({type: z.literal('local'), dir: z.string().min(1).optional()}),
      z.strictObject({type: z.literal('gcs'), bucket: z.string().min(1), prefix: z.string().optional()}),
      z.strictObject({type: z.literal('s3'), bucket: z.string().min(1), region: z.string().min(1), keyPrefix: z.string().optional(), dynamodbTable: z.string().optional()}),
      /**
       * Terraform's pg backend: state (and dbctl's lock) in PostgreSQL, one schema per instance
       * (<schemaPrefix><instance>). The connection string is a secret: it comes from exactly one
       * of an environment variable, a 0600 file, or connStr in your own configuration file.
       */
      z.strictObject({
        type: z.literal('pg'),
        connStrEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
        connStrFile: z.string().min(1).optional(),
        connStr: z.string().min(1).optional(),
        schemaPrefix: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'lowercase letters, digits and "_", not starting with a digit').max(32).default('dbctl_'),
      }),
    ])
    .default({type: 'local'}),
  ),
  connections: trustedKey(z.record(z.string().min(1), connection()).default({})),
  /** The connection used when --connection is not given. */
  defaultConnection: projectKey(z.string().min(1).optional()),
  /** The append-only audit log of administrative operations; default $XDG_STATE_HOME/bcl/dbctl/audit.log. */
  auditLog: trustedKey(z.string().min(1).optional()),
});

export type DbctlSettings = z.output<ReturnType<typeof dbctlSchema>>;
export default defineNamespace('dbctl', dbctlSchema, 'databases: terraform, state backend, connection profiles', {
  defaults: {terraform: {lockTimeout: '60s', timeout: '60m'}, backend: {type: 'local'}, connections: {}},
});
