import {builtOnFirstUse} from '@bcl/spec-loader/first-use';
import * as z from 'zod';

/**
 * The database spec (db.yaml): one managed database server, its databases and who may do what
 * on them. The reference is docs/dbctl/db-spec.md; keep both in step.
 */

import {identifierProblem, type IdentifierKind} from '../identifiers.js';
import {PROFILES} from './profiles-list.js';

export {PROFILES};
export type AccessProfile = (typeof PROFILES)[number];

/**
 * The schemas, built on first use: building them costs more than validating a spec, and a spec
 * validated before by the same build is not validated again (a memo, see loadSpec).
 */
export const specSchemas = builtOnFirstUse(() => {
  /** A database, schema or role name: quoted everywhere; what each engine accepts is checked per engine below. */
  const identifier = z.string();

  const specName = z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,61}[a-z0-9]$/, 'lowercase letters, digits and "-", starting with a letter (it names cloud instances)');

  const storage = z.strictObject({
    /** Allocated storage in GiB. */
    sizeGb: z.number().int().min(10, 'at least 10 (GiB)').max(65536).default(20),
    /** Grow automatically when nearly full (Cloud SQL disk_autoresize, RDS max_allocated_storage). */
    autoResize: z.boolean().default(true),
    /** Upper bound for automatic growth, in GiB. */
    maxSizeGb: z.number().int().min(10).max(65536).optional(),
    type: z.enum(['ssd', 'hdd']).default('ssd'),
  });

  const backups = z.strictObject({
    enabled: z.boolean().default(true),
    /** Days (RDS backup_retention_period) or number of daily backups kept (Cloud SQL). */
    retentionDays: z.number().int().min(1).max(35).default(7),
    pointInTimeRecovery: z.boolean().default(true),
    /** Start of the daily backup window, HH:MM in UTC. */
    startTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM (UTC)').default('03:00'),
  });

  const authorizedNetwork = z.strictObject({
    name: z.string().min(1),
    cidr: z.string().regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/, 'an IPv4 CIDR such as 203.0.113.0/24'),
  });

  const network = z.strictObject({
    /** gcp: the VPC network (self link or id) for a private IP; aws: the DB subnet group name. */
    privateNetwork: z.string().min(1).optional(),
    /** Whether the instance gets a public IP (Cloud SQL ipv4_enabled, RDS publicly_accessible). */
    publicIp: z.boolean().default(false),
    authorizedNetworks: z.array(authorizedNetwork).default([]),
    /** aws: the VPC in which the security group admitting authorizedNetworks is created. */
    vpcId: z.string().min(1).optional(),
  });

  const database = z.strictObject({
    name: identifier,
    /** The owning role; default: the administrative user of the connection. */
    owner: identifier.optional(),
    /** PostgreSQL schemas (besides public, which always exists). Not for MySQL. */
    schemas: z.array(identifier).default(['public']),
  });

  const accessEntry = z.strictObject({
    role: identifier,
    profile: z.enum(PROFILES, {message: `one of ${PROFILES.join(', ')}`}),
    databases: z.array(identifier).min(1, 'at least one database'),
    /** PostgreSQL schemas the profile applies to; default: every schema of each database. */
    schemas: z.array(identifier).min(1).optional(),
  });

  /** The keys an environment may override (everything but name, engine and environments). */
  const overridable = {
    version: z.string().regex(/^\d+(\.\d+)*$/, 'a version such as 15 or 8.0').optional(),
    provider: z.enum(['gcp', 'aws', 'local'], {message: 'one of gcp (Cloud SQL), aws (RDS), local (an existing server)'}),
    /** local: the connection profile (dbctl.connections.<name>) that reaches the server. */
    connection: z.string().min(1).optional(),
    /** gcp: the machine tier (db-custom-2-7680); aws: the instance class (db.t4g.medium). */
    tier: z.string().min(1).optional(),
    region: z.string().min(1).optional(),
    /** gcp: the project id; aws: unused (the provider's default account). */
    project: z.string().min(1).optional(),
    storage: storage.default({sizeGb: 20, autoResize: true, type: 'ssd'}),
    highAvailability: z.boolean().default(false),
    backups: backups.default({enabled: true, retentionDays: 7, pointInTimeRecovery: true, startTime: '03:00'}),
    deletionProtection: z.boolean().default(true),
    network: network.default({publicIp: false, authorizedNetworks: []}),
    /** Server flags (Cloud SQL database_flags, RDS parameter group parameters). */
    flags: z.record(z.string().min(1), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
    databases: z.array(database).default([]),
    access: z.array(accessEntry).default([]),
  };

  const resolvedSpecObject = z.strictObject({
    name: specName,
    engine: z.enum(['postgres', 'mysql'], {message: 'one of postgres, mysql'}),
    ...overridable,
  });

  /**
   * The spec after its environment's overrides, with every name checked for its engine
   * (src/identifiers.ts, the same rules the administration commands apply). MySQL user names are
   * held to MySQL's 32 characters: a spec may move between a local server, Cloud SQL and RDS.
   */
  const resolvedSpecSchema = resolvedSpecObject.superRefine((spec, ctx) => {
    const check = (name: string, kind: IdentifierKind, path: (string | number)[]) => {
      const problem = identifierProblem(name, kind, spec.engine, 'portable');
      if (problem) ctx.addIssue({code: 'custom', message: problem, path});
    };
    spec.databases.forEach((db, i) => {
      check(db.name, 'database', ['databases', i, 'name']);
      if (db.owner !== undefined) check(db.owner, 'role', ['databases', i, 'owner']);
      db.schemas.forEach((schema, j) => check(schema, 'schema', ['databases', i, 'schemas', j]));
    });
    spec.access.forEach((entry, i) => check(entry.role, 'role', ['access', i, 'role']));
  });

  /** The file as written: the base plus per-environment overrides (validated after merging). */
  const specFileSchema = resolvedSpecObject.extend({
    environments: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'an environment name of lowercase letters, digits and "-"'), z.record(z.string(), z.unknown())).default({}),
  });
  return {resolvedSpecSchema, specFileSchema, overridableKeys: Object.keys(overridable)};
});

type Schemas = ReturnType<typeof specSchemas>;
export type DbSpec = z.output<Schemas['resolvedSpecSchema']>;
export type SpecFile = z.output<Schemas['specFileSchema']>;
export type DatabaseSpec = DbSpec['databases'][number];
export type AccessEntry = DbSpec['access'][number];
