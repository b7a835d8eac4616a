import {describe, expect, it} from 'vitest';
import {isBclError} from '@bcl/core';
import {parseSpec} from './load.js';

const base = `name: orders
engine: postgres
version: "16"
provider: gcp
project: acme
region: europe-west1
tier: db-custom-2-7680
databases:
  - name: orders
    schemas: [public, billing]
access:
  - role: app
    profile: owner
    databases: [orders]
environments:
  prod:
    highAvailability: true
    storage: {sizeGb: 100}
  dev:
    deletionProtection: false
`;

function failure(text: string, env?: string) {
  try {
    parseSpec(text, '/p/db.yaml', env);
  } catch (error) {
    if (isBclError(error)) return error;
    throw error;
  }
  throw new Error('expected the spec to be refused');
}

describe('db.yaml', () => {
  it('fills defaults: deletion protection on, backups with point-in-time recovery', () => {
    const {spec, environments} = parseSpec(base, '/p/db.yaml');
    expect(spec).toMatchObject({deletionProtection: true, highAvailability: false, backups: {enabled: true, retentionDays: 7, pointInTimeRecovery: true}, storage: {sizeGb: 20, autoResize: true}});
    expect(environments).toEqual(['prod', 'dev']);
  });

  it('merges an environment over the base: mappings key by key, the rest replaced', () => {
    const {spec, env} = parseSpec(base, '/p/db.yaml', 'prod');
    expect(env).toBe('prod');
    expect(spec).toMatchObject({highAvailability: true, storage: {sizeGb: 100, autoResize: true}, deletionProtection: true});
    expect(parseSpec(base, '/p/db.yaml', 'dev').spec.deletionProtection).toBe(false);
  });

  it('names the file, line and key path of an unknown key or a wrong type (exit 3)', () => {
    const unknown = failure(base.replace('    profile: owner', '    profile: owner\n    colour: red'));
    expect(unknown.exitCode).toBe(3);
    expect(unknown.message).toBe('/p/db.yaml:14:5: access[0].colour: unknown key (expected one of: role, profile, databases, schemas)');
    expect(unknown.details).toMatchObject({file: '/p/db.yaml', problems: [{path: 'access[0].colour', line: 14, column: 5}]});
    const wrongType = failure(base.replace('tier: db-custom-2-7680', 'tier: db-custom-2-7680\nhighAvailability: "yes"'));
    expect(wrongType.message).toBe('/p/db.yaml:8:19: highAvailability: expected true or false, got string "yes"');
    const profile = failure(base.replace('profile: owner', 'profile: admin'));
    expect(profile.message).toBe('/p/db.yaml:13:14: access[0].profile: one of readonly, readwrite, owner, got string "admin"');
  });

  it('points at the environment when the override is wrong', () => {
    const error = failure(base.replace('    storage: {sizeGb: 100}', '    storage: {sizeGb: 5}'), 'prod');
    expect(error.message).toMatch(/^\/p\/db\.yaml:18:\d+: environments\.prod\.storage\.sizeGb: at least 10/);
    const notAllowed = failure(base.replace('    highAvailability: true', '    engine: mysql'), 'prod');
    expect(notAllowed.message).toContain('environments.prod.engine: "engine" cannot be overridden per environment');
    expect(failure(base, 'staging').code).toBe('dbctl.unknown_env');
  });

  it('checks rules across keys', () => {
    expect(failure(base.replace('    databases: [orders]', '    databases: [ordres]')).message).toContain('access[0].databases[0]: database "ordres" is not declared under databases');
    expect(failure(base.replace('provider: gcp', 'provider: local')).message).toContain('connection: required when provider is local');
    expect(failure(base.replace('project: acme\n', '')).message).toContain('project: required when provider is gcp');
    const mysql = failure(base.replace('engine: postgres', 'engine: mysql'));
    expect(mysql.message).toContain('databases[0].schemas: MySQL has no schemas');
  });

  it('refuses YAML that does not parse, with its line', () => {
    expect(failure('name: [unclosed\n').message).toMatch(/^\/p\/db\.yaml:\d+:\d+: not valid YAML/);
  });

  it('counts names in bytes for PostgreSQL and characters for MySQL, per engine', () => {
    // 32 two-byte letters: 32 characters but 64 bytes, one more than PostgreSQL keeps.
    const wide = 'é'.repeat(32);
    const pg = failure(base.replace('  - role: app', `  - role: ${wide}`));
    expect(pg.exitCode).toBe(3);
    expect(pg.message).toContain('/p/db.yaml:12:11: access[0].role:');
    expect(pg.message).toContain('is 64 bytes long: PostgreSQL keeps only the first 63 bytes');
    expect(parseSpec(base.replace('  - role: app', `  - role: ${'é'.repeat(31)}a`), '/p/db.yaml').spec.access[0]!.role).toHaveLength(32);
    expect(failure(base.replace('    schemas: [public, billing]', '    schemas: [public, pg_billing]')).message).toContain('databases[0].schemas[1]: "pg_billing": schema names starting with "pg_" are reserved');
    expect(failure(base.replace('  - role: app', '  - role: pg_app')).message).toContain('access[0].role: "pg_app": role names starting with "pg_" are reserved');
    expect(failure(base.replace('  - role: app', "  - role: ''")).message).toContain('access[0].role: an empty name is not allowed');
    const mysqlBase = base.replace('engine: postgres', 'engine: mysql').replace('    schemas: [public, billing]\n', '');
    expect(parseSpec(mysqlBase.replace('  - role: app', `  - role: ${'é'.repeat(32)}`), '/p/db.yaml').spec.access[0]!.role).toHaveLength(32);
    expect(failure(mysqlBase.replace('  - role: app', `  - role: ${'u'.repeat(33)}`)).message).toContain('user names have at most 32 characters');
    expect(failure(mysqlBase.replace('  - name: orders', `  - name: ${'d'.repeat(65)}`)).message).toContain('MySQL and MariaDB database names have at most 64');
  });
});
