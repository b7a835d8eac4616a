import {createHash} from 'node:crypto';
import {MYSQL_PROFILES, POSTGRES_PROFILES} from '../spec/profiles.js';
import type {AccessEntry, DbSpec} from '../spec/schema.js';
import {compareAsLocale} from '@bcl/core/text';

/**
 * Terraform JSON (*.tf.json) for a database spec. Providers are pinned to exact versions; the
 * dependency lock file that `terraform init` writes pins their checksums too.
 */
export const PROVIDERS = {
  postgresql: {source: 'cyrilgdn/postgresql', version: '1.25.0'},
  mysql: {source: 'petoju/mysql', version: '3.0.62'},
  google: {source: 'hashicorp/google', version: '6.14.0'},
  aws: {source: 'hashicorp/aws', version: '5.80.0'},
  random: {source: 'hashicorp/random', version: '3.6.3'},
} as const;

export const REQUIRED_TERRAFORM = '>= 1.5.0';

/** The user Terraform creates on cloud instances and connects as to manage roles and grants. */
export const CLOUD_ADMIN_USER = 'dbctl_admin';

export interface GenerateContext {
  /** The environment the spec was resolved for (names cloud instances: <name>-<env>). */
  env: string | undefined;
  /** The terraform backend block (src/terraform/backend.ts: resolveBackend). */
  backend: Record<string, unknown>;
  /** provider local: the server, from the connection profile (the password travels by environment). */
  server?: {host: string; port: number; user: string; database: string | undefined; tls: 'disable' | 'prefer' | 'require' | 'verify-full'} | undefined;
}

type Json = Record<string, unknown>;

/** Strings reach Terraform as template expressions: "${" and "%{" in names are escaped to stay literal. */
export function literal(value: string): string {
  return value.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');
}

/** A resource label for a name: lowercase [a-z0-9_], with a short hash when the name had to change. */
export function label(...parts: string[]): string {
  const raw = parts.join('__');
  const clean = raw.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '').replace(/^(\d)/, '_$1') || 'x';
  if (clean === raw) return clean;
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 6);
  return `${clean.slice(0, 48)}_${hash}`;
}

export function instanceName(spec: DbSpec, env: string | undefined): string {
  return env ? `${spec.name}-${env}` : spec.name;
}

/** The whole configuration: one main.tf.json document. */
export function generateConfig(spec: DbSpec, context: GenerateContext): Json {
  const doc = new TerraformDocument();
  doc.terraform.required_version = REQUIRED_TERRAFORM;
  doc.terraform.backend = context.backend;
  if (spec.provider === 'local') local(spec, context, doc);
  else if (spec.provider === 'gcp') gcp(spec, context, doc);
  else aws(spec, context, doc);
  return doc.toJSON();
}

class TerraformDocument {
  readonly terraform: Json = {};
  private readonly providers: Record<string, {source: string; version: string}> = {};
  private readonly providerConfig: Json = {};
  private readonly resources: Record<string, Record<string, Json>> = {};
  private readonly data: Record<string, Record<string, Json>> = {};
  private readonly outputs: Json = {};

  require(name: keyof typeof PROVIDERS, config?: Json): void {
    this.providers[name] = {...PROVIDERS[name]};
    if (config) this.providerConfig[name] = config;
  }

  resource(type: string, name: string, body: Json): string {
    const of = (this.resources[type] ??= {});
    if (of[name]) throw new Error(`duplicate resource ${type}.${name}`);
    of[name] = body;
    return `${type}.${name}`;
  }

  dataSource(type: string, name: string, body: Json): void {
    (this.data[type] ??= {})[name] = body;
  }

  output(name: string, body: Json): void {
    this.outputs[name] = body;
  }

  toJSON(): Json {
    const sorted = <T>(o: Record<string, T>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => compareAsLocale(a, b)));
    const doc: Json = {terraform: {...this.terraform, required_providers: sorted(this.providers)}};
    if (Object.keys(this.providerConfig).length > 0) doc.provider = sorted(this.providerConfig);
    if (Object.keys(this.data).length > 0) doc.data = sorted(this.data);
    doc.resource = sorted(Object.fromEntries(Object.entries(this.resources).map(([t, r]) => [t, sorted(r)])));
    if (Object.keys(this.outputs).length > 0) doc.output = sorted(this.outputs);
    return doc;
  }
}

const SSLMODE = {disable: 'disable', prefer: 'prefer', require: 'require', 'verify-full': 'verify-full'} as const;

function local(spec: DbSpec, context: GenerateContext, doc: TerraformDocument): void {
  const server = context.server;
  if (!server) throw new Error('provider local needs the connection profile of the server');
  if (spec.engine === 'postgres') {
    doc.require('postgresql', {
      host: server.host,
      port: server.port,
      username: server.user,
      database: server.database ?? 'postgres',
      sslmode: SSLMODE[server.tls],
      connect_timeout: 15,
    });
    postgresObjects(spec, doc, {admin: server.user, databaseRef: (db, owner) => postgresDatabase(doc, spec, db, owner)});
  } else {
    doc.require('mysql', {endpoint: `${server.host}:${server.port}`, username: server.user});
    doc.require('random');
    mysqlObjects(spec, doc, (db) => doc.resource('mysql_database', label(db), {name: literal(db), default_character_set: 'utf8mb4', default_collation: 'utf8mb4_unicode_ci'}));
  }
}

function postgresDatabase(doc: TerraformDocument, spec: DbSpec, db: DbSpec['databases'][number], owner: string): string {
  // The database depends on the roles that use it, so a destroy drops it (and every object those
  // roles own in it) before the roles: DROP ROLE then finds nothing left that depends on them.
  const roles = [...new Set(spec.access.filter((a) => a.databases.includes(db.name)).map((a) => `postgresql_role.${label(a.role)}`))].sort();
  const address = doc.resource('postgresql_database', label(db.name), {name: literal(db.name), owner, ...(roles.length > 0 ? {depends_on: roles} : {})});
  return `\${${address}.name}`;
}

interface PostgresWiring {
  /** The connecting administrator: it creates objects too, so its default privileges matter. */
  admin: string;
  /** The expression naming a database in grants (creating it, owned by `owner`, when this layout manages it). */
  databaseRef: (db: DbSpec['databases'][number], owner: string) => string;
}

/** Roles, schemas, grants and default privileges through the cyrilgdn/postgresql provider. */
function postgresObjects(spec: DbSpec, doc: TerraformDocument, wiring: PostgresWiring): void {
  const roles = [...new Set(spec.access.map((a) => a.role))].sort();
  const roleRefs = new Map<string, string>();
  for (const role of roles) {
    // Passwords are set out of band (dbctl password rotate): Terraform must not reset them.
    const address = doc.resource('postgresql_role', label(role), {name: literal(role), login: true, lifecycle: {ignore_changes: ['password']}});
    roleRefs.set(role, `\${${address}.name}`);
  }
  const roleRef = (name: string) => roleRefs.get(name) ?? literal(name);
  for (const db of spec.databases) {
    const dbRef = wiring.databaseRef(db, db.owner ? roleRef(db.owner) : literal(wiring.admin));
    // Least privilege: PUBLIC may not connect; access comes from the grants below.
    doc.resource('postgresql_grant', label(db.name, 'public', 'database'), {database: dbRef, role: 'public', object_type: 'database', privileges: []});
    const schemaRefs = new Map<string, string>();
    for (const schema of db.schemas) {
      if (schema === 'public') {
        schemaRefs.set(schema, 'public');
        continue;
      }
      // Without deletion protection, dropping the schema takes its tables with it (as dropping the database would).
      const address = doc.resource('postgresql_schema', label(db.name, schema), {
        name: literal(schema),
        database: dbRef,
        owner: db.owner ? roleRef(db.owner) : literal(wiring.admin),
        drop_cascade: !spec.deletionProtection,
      });
      schemaRefs.set(schema, `\${${address}.name}`);
    }
    const entries = spec.access.filter((a) => a.databases.includes(db.name));
    for (const entry of entries) {
      const grants = POSTGRES_PROFILES[entry.profile];
      const role = roleRef(entry.role);
      doc.resource('postgresql_grant', label(entry.role, db.name, 'database'), {database: dbRef, role, object_type: 'database', privileges: grants.database});
      for (const schema of entry.schemas ?? db.schemas) {
        const schemaRef = schemaRefs.get(schema)!;
        const base = {database: dbRef, role, schema: schemaRef};
        doc.resource('postgresql_grant', label(entry.role, db.name, schema, 'schema'), {...base, object_type: 'schema', privileges: grants.schema});
        doc.resource('postgresql_grant', label(entry.role, db.name, schema, 'table'), {...base, object_type: 'table', objects: [], privileges: grants.tables});
        doc.resource('postgresql_grant', label(entry.role, db.name, schema, 'sequence'), {...base, object_type: 'sequence', objects: [], privileges: grants.sequences});
        for (const creator of creatorsOf(spec, db, schema, wiring.admin)) {
          if (creator === entry.role) continue;
          const owner = roleRefs.has(creator) ? roleRef(creator) : literal(creator);
          doc.resource('postgresql_default_privileges', label(entry.role, db.name, schema, creator, 'table'), {...base, owner, object_type: 'table', privileges: grants.tables});
          doc.resource('postgresql_default_privileges', label(entry.role, db.name, schema, creator, 'sequence'), {...base, owner, object_type: 'sequence', privileges: grants.sequences});
        }
      }
    }
  }
}

/** Who creates tables in a schema: the administrator, the database owner, and roles with the owner profile there. */
export function creatorsOf(spec: DbSpec, db: DbSpec['databases'][number], schema: string, admin: string): string[] {
  const owners = spec.access.filter((a: AccessEntry) => a.profile === 'owner' && a.databases.includes(db.name) && (a.schemas ?? db.schemas).includes(schema)).map((a) => a.role);
  return [...new Set([admin, ...(db.owner ? [db.owner] : []), ...owners])].sort();
}

/** MySQL: accounts and grants through petoju/mysql; databases through `createDatabase`. */
function mysqlObjects(spec: DbSpec, doc: TerraformDocument, createDatabase: (db: string) => string): void {
  const dbRefs = new Map<string, string>();
  for (const db of spec.databases) dbRefs.set(db.name, `\${${createDatabase(db.name)}.name}`);
  const roles = [...new Set(spec.access.map((a) => a.role))].sort();
  const users = new Map<string, string>();
  for (const role of roles) {
    // An account needs a password from the start (MySQL would accept logins without one); it is
    // kept in state only until dbctl password rotate replaces it, which Terraform then ignores.
    const pw = doc.resource('random_password', label(role, 'password'), {length: 32, special: false});
    const address = doc.resource('mysql_user', label(role), {user: literal(role), host: '%', plaintext_password: `\${${pw}.result}`, lifecycle: {ignore_changes: ['plaintext_password']}});
    users.set(role, `\${${address}.user}`);
  }
  for (const entry of spec.access) {
    for (const db of entry.databases) {
      doc.resource('mysql_grant', label(entry.role, db), {user: users.get(entry.role), host: '%', database: dbRefs.get(db), table: '*', privileges: MYSQL_PROFILES[entry.profile].map((p) => (p === 'ALL PRIVILEGES' ? 'ALL' : p))});
    }
  }
}

const GCP_VERSION = (spec: DbSpec) => (spec.engine === 'postgres' ? `POSTGRES_${spec.version!.split('.')[0]}` : `MYSQL_${spec.version!.replace('.', '_')}`);

function gcp(spec: DbSpec, context: GenerateContext, doc: TerraformDocument): void {
  const name = instanceName(spec, context.env);
  doc.require('google', {project: spec.project, region: spec.region});
  doc.require('random');
  const b = spec.backups;
  const backup: Json = {enabled: b.enabled, start_time: b.startTime, backup_retention_settings: {retained_backups: b.retentionDays, retention_unit: 'COUNT'}};
  if (spec.engine === 'postgres') backup.point_in_time_recovery_enabled = b.enabled && b.pointInTimeRecovery;
  else backup.binary_log_enabled = b.enabled && b.pointInTimeRecovery;
  if (b.enabled && b.pointInTimeRecovery) backup.transaction_log_retention_days = Math.min(7, b.retentionDays);
  const ip: Json = {ipv4_enabled: spec.network.publicIp, ssl_mode: 'ENCRYPTED_ONLY'};
  if (spec.network.privateNetwork) ip.private_network = spec.network.privateNetwork;
  if (spec.network.authorizedNetworks.length > 0) ip.authorized_networks = spec.network.authorizedNetworks.map((n) => ({name: n.name, value: n.cidr}));
  const settings: Json = {
    tier: spec.tier,
    availability_type: spec.highAvailability ? 'REGIONAL' : 'ZONAL',
    disk_type: spec.storage.type === 'ssd' ? 'PD_SSD' : 'PD_HDD',
    disk_size: spec.storage.sizeGb,
    disk_autoresize: spec.storage.autoResize,
    disk_autoresize_limit: spec.storage.autoResize ? (spec.storage.maxSizeGb ?? 0) : 0,
    deletion_protection_enabled: spec.deletionProtection,
    backup_configuration: backup,
    ip_configuration: ip,
    user_labels: {'managed-by': 'dbctl', 'dbctl-spec': spec.name, ...(context.env ? {'dbctl-env': context.env} : {})},
  };
  const flags = Object.entries(spec.flags);
  if (flags.length > 0) settings.database_flags = flags.map(([n, value]) => ({name: n, value}));
  const instance = doc.resource('google_sql_database_instance', 'main', {
    name,
    database_version: GCP_VERSION(spec),
    region: spec.region,
    deletion_protection: spec.deletionProtection,
    settings,
  });
  const pw = doc.resource('random_password', 'admin', {length: 32, special: false});
  doc.resource('google_sql_user', 'admin', {name: CLOUD_ADMIN_USER, instance: `\${${instance}.name}`, password: `\${${pw}.result}`});
  const host = spec.network.privateNetwork ? `\${${instance}.private_ip_address}` : `\${${instance}.public_ip_address}`;
  doc.output('connection_name', {value: `\${${instance}.connection_name}`});
  doc.output('host', {value: host});
  doc.output('admin_user', {value: CLOUD_ADMIN_USER});
  const createDb = (db: string) =>
    doc.resource('google_sql_database', label(db), {name: literal(db), instance: `\${${instance}.name}`, ...(spec.deletionProtection ? {deletion_policy: 'ABANDON'} : {})});
  if (spec.engine === 'postgres') {
    doc.require('postgresql', {host, port: 5432, username: `\${google_sql_user.admin.name}`, password: `\${${pw}.result}`, database: 'postgres', sslmode: 'require', superuser: false, connect_timeout: 15});
    postgresObjects(spec, doc, {admin: CLOUD_ADMIN_USER, databaseRef: (db) => `\${${createDb(db.name)}.name}`});
  } else {
    doc.require('mysql', {endpoint: `${host}:3306`, username: `\${google_sql_user.admin.name}`, password: `\${${pw}.result}`, tls: 'skip-verify'});
    mysqlObjects(spec, doc, createDb);
  }
}

function aws(spec: DbSpec, context: GenerateContext, doc: TerraformDocument): void {
  const name = instanceName(spec, context.env);
  doc.require('aws', {region: spec.region, default_tags: {tags: {'managed-by': 'dbctl', 'dbctl-spec': spec.name, ...(context.env ? {'dbctl-env': context.env} : {})}}});
  const major = spec.version!.split('.')[0]!;
  const family = spec.engine === 'postgres' ? `postgres${major}` : `mysql${spec.version!.split('.').slice(0, 2).join('.')}`;
  const params = doc.resource('aws_db_parameter_group', 'main', {
    name: `${name}-params`,
    family,
    parameter: Object.entries(spec.flags).map(([n, value]) => ({name: n, value, apply_method: 'pending-reboot'})),
    lifecycle: {create_before_destroy: true},
  });
  const port = spec.engine === 'postgres' ? 5432 : 3306;
  const securityGroups: string[] = [];
  if (spec.network.authorizedNetworks.length > 0) {
    const sg = doc.resource('aws_security_group', 'main', {name: `${name}-db`, description: `Database clients of ${name} (dbctl)`, vpc_id: spec.network.vpcId});
    securityGroups.push(`\${${sg}.id}`);
    for (const n of spec.network.authorizedNetworks) {
      doc.resource('aws_vpc_security_group_ingress_rule', label(n.name), {security_group_id: `\${${sg}.id}`, cidr_ipv4: n.cidr, from_port: port, to_port: port, ip_protocol: 'tcp', description: n.name});
    }
  }
  const maxStorage = spec.storage.autoResize ? (spec.storage.maxSizeGb ?? spec.storage.sizeGb * 2) : null;
  const instance = doc.resource('aws_db_instance', 'main', {
    identifier: name,
    engine: spec.engine === 'postgres' ? 'postgres' : 'mysql',
    engine_version: spec.version,
    instance_class: spec.tier,
    allocated_storage: spec.storage.sizeGb,
    max_allocated_storage: maxStorage,
    storage_type: spec.storage.type === 'ssd' ? 'gp3' : 'standard',
    storage_encrypted: true,
    multi_az: spec.highAvailability,
    username: CLOUD_ADMIN_USER,
    manage_master_user_password: true,
    parameter_group_name: `\${${params}.name}`,
    backup_retention_period: spec.backups.enabled ? spec.backups.retentionDays : 0,
    backup_window: `${spec.backups.startTime}-${addMinutes(spec.backups.startTime, 30)}`,
    copy_tags_to_snapshot: true,
    deletion_protection: spec.deletionProtection,
    skip_final_snapshot: false,
    final_snapshot_identifier: `${name}-final`,
    publicly_accessible: spec.network.publicIp,
    db_subnet_group_name: spec.network.privateNetwork ?? null,
    vpc_security_group_ids: securityGroups.length > 0 ? securityGroups : null,
    auto_minor_version_upgrade: true,
    apply_immediately: false,
  });
  doc.dataSource('aws_secretsmanager_secret_version', 'admin', {secret_id: `\${${instance}.master_user_secret[0].secret_arn}`});
  const password = '${jsondecode(data.aws_secretsmanager_secret_version.admin.secret_string)["password"]}';
  doc.output('host', {value: `\${${instance}.address}`});
  doc.output('admin_secret_arn', {value: `\${${instance}.master_user_secret[0].secret_arn}`});
  if (spec.engine === 'postgres') {
    doc.require('postgresql', {host: `\${${instance}.address}`, port, username: `\${${instance}.username}`, password, database: 'postgres', sslmode: 'require', superuser: false, connect_timeout: 15});
    postgresObjects(spec, doc, {admin: CLOUD_ADMIN_USER, databaseRef: (db, owner) => postgresDatabase(doc, spec, db, owner)});
  } else {
    doc.require('mysql', {endpoint: `\${${instance}.endpoint}`, username: `\${${instance}.username}`, password, tls: 'true'});
    doc.require('random');
    mysqlObjects(spec, doc, (db) => doc.resource('mysql_database', label(db), {name: literal(db), default_character_set: 'utf8mb4', default_collation: 'utf8mb4_unicode_ci'}));
  }
}

function addMinutes(hhmm: string, minutes: number): string {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  const total = (h * 60 + m + minutes) % (24 * 60);
  return `${String(Math.floor(total / 60)).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`;
}
