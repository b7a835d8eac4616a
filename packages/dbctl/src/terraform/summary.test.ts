import {describe, expect, it} from 'vitest';
import {renderPlan, summarizePlan, type ShowPlan} from './summary.js';

// The shapes of `terraform show -json` (format 1.2) for the cases a person must read right.
const plan: ShowPlan & Record<string, unknown> = {
  format_version: '1.2',
  resource_changes: [
    {
      address: 'google_sql_database_instance.main',
      type: 'google_sql_database_instance',
      name: 'main',
      mode: 'managed',
      change: {
        actions: ['delete', 'create'],
        before: {name: 'orders', database_version: 'POSTGRES_15', root_password: 'hunter2-old'},
        after: {name: 'orders', database_version: 'POSTGRES_16', root_password: 'hunter2-new'},
        after_unknown: {self_link: true},
        before_sensitive: {root_password: true},
        after_sensitive: {root_password: true},
        replace_paths: [['database_version']],
      },
      action_reason: 'replace_because_cannot_update',
    },
    {
      address: 'postgresql_grant.app__orders__database',
      type: 'postgresql_grant',
      name: 'app__orders__database',
      mode: 'managed',
      change: {actions: ['update'], before: {role: 'app', database: 'orders', object_type: 'database', privileges: ['CONNECT']}, after: {role: 'app', database: 'orders', object_type: 'database', privileges: ['CONNECT', 'TEMPORARY']}, before_sensitive: {privileges: []}, after_sensitive: {privileges: []}},
    },
    {address: 'postgresql_role.old', type: 'postgresql_role', name: 'old', mode: 'managed', change: {actions: ['delete'], before: {name: 'old'}, after: null}},
    {address: 'postgresql_role.app', type: 'postgresql_role', name: 'app', mode: 'managed', change: {actions: ['no-op'], before: {name: 'app'}, after: {name: 'app'}}},
    {address: 'data.aws_secretsmanager_secret_version.admin', type: 'aws_secretsmanager_secret_version', name: 'admin', mode: 'data', change: {actions: ['read'], before: null, after: {}}},
  ],
  resource_drift: [
    {address: 'postgresql_role.app', type: 'postgresql_role', name: 'app', change: {actions: ['update'], before: {name: 'app', password: null, roles: null}, after: {name: 'app', password: 'SCRAM-SHA-256$4096:x', roles: []}, before_sensitive: {password: true}, after_sensitive: {password: true}}},
    {address: 'postgresql_grant.app__orders__database', type: 'postgresql_grant', name: 'app__orders__database', change: {actions: ['update'], before: {privileges: ['CONNECT']}, after: {privileges: []}}},
  ],
  relevant_attributes: [{resource: 'postgresql_grant.app__orders__database', attribute: ['privileges']}],
};

describe('plan summary', () => {
  const summary = summarizePlan(plan);

  it('counts creates, updates, replaces and deletes, skipping no-ops and data sources', () => {
    expect(summary.counts).toEqual({create: 0, update: 1, replace: 1, delete: 1});
    expect(summary.noChanges).toBe(false);
  });

  it('names the attribute that forces a replacement, and masks sensitive values', () => {
    const replace = summary.changes.find((c) => c.action === 'replace')!;
    expect(replace).toMatchObject({object: 'database instance orders', reason: 'replace_because_cannot_update'});
    expect(replace.attributes).toEqual([
      {attribute: 'database_version', before: '"POSTGRES_15"', after: '"POSTGRES_16"', forcesReplacement: true},
      {attribute: 'root_password', before: '(sensitive)', after: '(sensitive)'},
      {attribute: 'self_link', before: 'null', after: '(known after apply)'},
    ]);
    expect(JSON.stringify(summary)).not.toContain('hunter2');
  });

  it('lists what a person must confirm: deletes and replaces of instances, databases and roles', () => {
    expect(summary.destructive.map((d) => d.address)).toEqual(['google_sql_database_instance.main', 'postgresql_role.old']);
  });

  it('shows drift only where it matters: ignored password changes are not drift', () => {
    expect(summary.drift.map((d) => d.address)).toEqual(['postgresql_grant.app__orders__database']);
  });

  it('renders a plan a person can read', () => {
    const text = renderPlan(summary, 'Plan for orders (gcp)');
    expect(text).toContain('Plan for orders (gcp): 0 to create, 1 to update, 1 to replace, 1 to delete');
    expect(text).toMatch(/-\/\+ database instance orders {2}google_sql_database_instance\.main\n {8}database_version: "POSTGRES_15" → "POSTGRES_16" {2}\(forces replacement\)/);
    expect(text).toMatch(/~ {3}grant on database in orders to app .*\n {8}privileges: \[CONNECT\] → \[CONNECT, TEMPORARY\]/);
    expect(text).toContain('Destroys 2: database instance orders, role old');
    expect(text).not.toContain('hunter2');
  });
});
