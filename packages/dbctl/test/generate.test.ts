import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {generateConfig, label, literal} from '../src/terraform/generate.js';
import {loadSpec} from '../src/spec/load.js';
import type {DbctlSettings} from '../src/config.js';
import {resolveBackend} from '../src/terraform/backend.js';

// The Cloud SQL, RDS and local mappings against expected Terraform JSON, spec by spec. The expected
// files are reviewed by hand; UPDATE_EXPECTED=1 rewrites them after a deliberate change.
const fixtures = join(import.meta.dirname, 'fixtures');
const server = {host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres', tls: 'disable' as const};
const cases: [string, string | undefined][] = [
  ['gcp-postgres', 'prod'],
  ['gcp-postgres', 'dev'],
  ['gcp-mysql', undefined],
  ['aws-postgres', undefined],
  ['aws-mysql', undefined],
  ['local-postgres', undefined],
];

function generated(name: string, env: string | undefined) {
  const {spec, env: resolved} = loadSpec(join(fixtures, 'specs', `${name}.yaml`), env);
  const backend = (name.startsWith('aws') ? {type: 's3', bucket: 'acme-tfstate', region: 'eu-central-1', dynamodbTable: 'tf-locks'} : name.startsWith('gcp') ? {type: 'gcs', bucket: 'acme-tfstate', prefix: 'databases'} : {type: 'local'}) as DbctlSettings['backend'];
  const instance = resolved ? `${spec.name}-${resolved}` : spec.name;
  const state = resolveBackend({settings: {backend} as DbctlSettings, instance, workDir: '/work', env: {}, redactor: {add: () => undefined} as never, originOf: () => undefined});
  return generateConfig(spec, {env: resolved, backend: state.block, server}) as Record<string, any>;
}

describe('Terraform JSON for each provider', () => {
  for (const [name, env] of cases) {
    it(`${name}${env ? ` (env ${env})` : ''} matches the expected configuration`, () => {
      const file = join(fixtures, 'expected', `${name}${env ? `.${env}` : ''}.tf.json`);
      const actual = generated(name, env);
      if (process.env.UPDATE_EXPECTED === '1') writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`);
      // A missing expected file is a failure, never a fresh golden written behind the reviewer's back.
      expect(existsSync(file), `${file} is missing: review the output and write it with UPDATE_EXPECTED=1`).toBe(true);
      expect(actual).toEqual(JSON.parse(readFileSync(file, 'utf8')));
    });
  }

  it('maps Cloud SQL settings from the spec and its environment', () => {
    const prod = generated('gcp-postgres', 'prod').resource.google_sql_database_instance.main;
    expect(prod).toMatchObject({name: 'orders-prod', database_version: 'POSTGRES_16', deletion_protection: true});
    expect(prod.settings).toMatchObject({tier: 'db-custom-2-7680', availability_type: 'REGIONAL', disk_size: 50, disk_autoresize_limit: 200});
    expect(prod.settings.backup_configuration).toMatchObject({point_in_time_recovery_enabled: true, backup_retention_settings: {retained_backups: 14, retention_unit: 'COUNT'}, transaction_log_retention_days: 7});
    expect(prod.settings.ip_configuration).toEqual({ipv4_enabled: false, ssl_mode: 'ENCRYPTED_ONLY', private_network: 'projects/acme-net/global/networks/prod'});
    expect(prod.settings.database_flags).toEqual([{name: 'max_connections', value: '400'}, {name: 'log_min_duration_statement', value: '500'}]);
    const dev = generated('gcp-postgres', 'dev').resource.google_sql_database_instance.main;
    expect(dev).toMatchObject({name: 'orders-dev', deletion_protection: false});
    expect(dev.settings).toMatchObject({tier: 'db-f1-micro', availability_type: 'ZONAL'});
    expect(dev.settings.backup_configuration.point_in_time_recovery_enabled).toBe(false);
  });

  it('maps RDS with a managed master password, parameter group and security group', () => {
    const doc = generated('aws-postgres', undefined);
    const db = doc.resource.aws_db_instance.main;
    expect(db).toMatchObject({engine: 'postgres', engine_version: '15.7', instance_class: 'db.r6g.large', multi_az: true, manage_master_user_password: true, storage_encrypted: true, deletion_protection: true, max_allocated_storage: 500, backup_retention_period: 7, backup_window: '23:45-00:15'});
    expect(db).not.toHaveProperty('password');
    expect(doc.resource.aws_db_parameter_group.main).toMatchObject({family: 'postgres15', parameter: [{name: 'rds.force_ssl', value: '1', apply_method: 'pending-reboot'}]});
    expect(doc.resource.aws_vpc_security_group_ingress_rule.vpn).toMatchObject({cidr_ipv4: '10.20.0.0/16', from_port: 5432, to_port: 5432});
    expect(doc.terraform.backend.s3).toEqual({bucket: 'acme-tfstate', region: 'eu-central-1', key: 'dbctl/billing/terraform.tfstate', encrypt: true, dynamodb_table: 'tf-locks'});
    expect(doc.provider.postgresql.password).toContain('aws_secretsmanager_secret_version.admin.secret_string');
  });

  it('keeps the pg backend in its own schema per instance, with no connection string in the file', () => {
    const settings = {backend: {type: 'pg', connStrEnv: 'STATE_PG', schemaPrefix: 'dbctl_'}} as DbctlSettings;
    const redacted: string[] = [];
    const state = resolveBackend({settings, instance: 'orders-prod', workDir: '/work', env: {STATE_PG: 'postgres://tf:s3cret-pw@db:5432/tfstate?sslmode=disable'}, redactor: {add: (s: string) => redacted.push(s)} as never, originOf: () => undefined});
    expect(state.block).toEqual({pg: {schema_name: 'dbctl_orders_prod'}});
    expect(state.env).toEqual({PG_CONN_STR: 'postgres://tf:s3cret-pw@db:5432/tfstate?sslmode=disable'});
    expect(state.describe).toBe('pg: postgres://db:5432/tfstate, schema dbctl_orders_prod');
    expect(redacted).toContain('s3cret-pw');
  });

  it('pins every provider to an exact version', () => {
    for (const [name, env] of cases) {
      for (const p of Object.values(generated(name, env).terraform.required_providers) as {version: string}[]) expect(p.version).toMatch(/^\d+\.\d+\.\d+$/);
    }
  });

  it('keeps names literal in Terraform and labels safe', () => {
    const doc = generated('aws-postgres', undefined);
    const evil = 'x"; DROP TABLE t; --';
    const roles = Object.entries(doc.resource.postgresql_role) as [string, {name: string}][];
    expect(roles.find(([, r]) => r.name === evil)?.[0]).toMatch(/^x_drop_table_t_[0-9a-f]{6}$/);
    expect(literal('a${b}%{c}')).toBe('a$${b}%%{c}');
    expect(label('Shop', 'public')).toMatch(/^shop__public_[0-9a-f]{6}$/);
    expect(label('shop', 'public')).toBe('shop__public');
  });
});
