import {describe, expect, it} from 'vitest';
import type {BclError} from '@bcl/core';
import type {MysqlServer} from '../identifiers.js';
import type {AccessProfile} from '../spec/schema.js';
import type {AuditEntry} from '../audit/log.js';
import {runAdminOperation} from './operation.js';
import type {ServerTarget} from './target.js';
import type {DatabaseAdmin} from './types.js';
import {createUserWithProfile, type UserCreateIo} from './user-create.js';

/** The error a promise rejects with; a promise that resolves fails the test. */
async function rejection(promise: Promise<unknown>): Promise<BclError> {
  try {
    await promise;
  } catch (error) {
    return error as BclError;
  }
  throw new Error('expected the operation to be refused');
}

/**
 * An in-memory DatabaseAdmin for the cores' unit tests: it records every call, holds users and
 * their profiles, and fails the operations it is told to fail. The commands run against real
 * servers in test/; this only lets the cores' rules be checked without one.
 */
class FakeAdmin implements DatabaseAdmin {
  readonly calls: string[] = [];
  readonly users = new Map<string, {password: string; access: Record<string, AccessProfile>}>();
  failOn = new Set<string>();
  closed = false;

  constructor(
    readonly engine: 'postgres' | 'mysql' = 'postgres',
    private readonly server?: MysqlServer,
  ) {}

  private step(name: string): void {
    this.calls.push(name);
    if (this.failOn.has(name.split(' ')[0]!)) throw new Error(`${name} failed`);
  }

  async serverVersion() {
    return '16.0';
  }
  async mysqlServer(): Promise<MysqlServer> {
    this.step('mysqlServer');
    return this.server ?? {flavor: 'mysql', version: '8.0.36'};
  }
  async createDatabase(name: string) {
    this.step(`createDatabase ${name}`);
    return {created: true};
  }
  async dropDatabase(name: string) {
    this.step(`dropDatabase ${name}`);
    return {dropped: true};
  }
  async createSchema(database: string, name: string) {
    this.step(`createSchema ${database}.${name}`);
    return {created: true};
  }
  async dropSchema(database: string, name: string) {
    this.step(`dropSchema ${database}.${name}`);
    return {dropped: true};
  }
  async userExists(name: string) {
    this.step(`userExists ${name}`);
    return this.users.has(name);
  }
  async createUser(name: string, password: string) {
    this.step(`createUser ${name}`);
    this.users.set(name, {password, access: {}});
  }
  async applyProfile(user: string, profile: AccessProfile, database: string) {
    this.step(`applyProfile ${user} ${profile} ${database}`);
    this.users.get(user)!.access[database] = profile;
    return {schemas: ['public']};
  }
  async revokeAccess(user: string, database: string) {
    this.step(`revokeAccess ${user} ${database}`);
    return {schemas: []};
  }
  async setPassword(user: string, password: string) {
    this.step(`setPassword ${user}`);
    this.users.get(user)!.password = password;
  }
  async dropUser(name: string) {
    this.step(`dropUser ${name}`);
    const dropped = this.users.delete(name);
    return {dropped, reassigned: 0, droppedObjects: 0};
  }
  async listAccess() {
    return [];
  }
  async close() {
    this.closed = true;
  }
}

const FAKE_SERVER: ServerTarget = {engine: 'postgres', host: 'db.internal', port: 5432, user: 'admin', password: 'admin-secret', database: undefined, tls: 'require', caFile: undefined, label: 'connection main (db.internal:5432)'};

function io(admin: FakeAdmin, options: {interactive?: boolean; typed?: string; server?: Partial<ServerTarget>} = {}) {
  const audit: Omit<AuditEntry, 'time' | 'actor'>[] = [];
  const asked: string[] = [];
  let opened = 0;
  return {
    audit,
    asked,
    opened: () => opened,
    io: {
      resolveServer: async () => ({...FAKE_SERVER, engine: admin.engine, ...options.server}),
      open: async () => (opened++, admin as DatabaseAdmin),
      confirmer: {interactive: options.interactive ?? false, typeToConfirm: async (o: {expected: string}) => (asked.push(o.expected), options.typed === o.expected)},
      audit: {append: (e: Omit<AuditEntry, 'time' | 'actor'>) => audit.push(e)},
    },
  };
}


describe('an administration operation', () => {
  it('checks names before it connects or asks anything: exit 3 naming the argument, nothing audited', async () => {
    const admin = new FakeAdmin();
    const t = io(admin, {interactive: true, typed: 'x'.repeat(64)});
    const error = await rejection(runAdminOperation({operation: 'db.drop', target: {}, names: [{value: 'x'.repeat(64), kind: 'database', from: '<name>'}], destructive: {what: 'Dropping', expected: 'x'.repeat(64), yes: false}, body: async (a) => a.dropDatabase('x')}, t.io));
    expect(error).toMatchObject({code: 'dbctl.invalid_name', exitCode: 3});
    expect(error.message).toMatch(/^<name>: .*64 bytes long/);
    expect([t.opened(), t.asked.length, t.audit.length, admin.calls.length]).toEqual([0, 0, 0, 0]);
  });

  it('holds MySQL-family names to the connected server\'s own limit before running anything', async () => {
    const admin = new FakeAdmin('mysql', {flavor: 'mysql', version: '8.0.36'});
    const t = io(admin);
    const error = await rejection(runAdminOperation({operation: 'user.create', target: {}, names: [{value: 'u'.repeat(40), kind: 'role', from: '<name>'}], body: async (a) => a.createUser('u'.repeat(40), 'pw')}, t.io));
    expect(error.message).toContain('at most 32 characters on MySQL 8.0.36');
    expect(admin.calls).toEqual(['mysqlServer']);
    expect(t.audit).toMatchObject([{operation: 'user.create', outcome: 'failed', error: 'dbctl.invalid_name'}]);
    expect(admin.closed).toBe(true);
    // MariaDB 10.11 takes it
    const maria = new FakeAdmin('mysql', {flavor: 'mariadb', version: '10.11.19-MariaDB'});
    await runAdminOperation({operation: 'user.create', target: {}, names: [{value: 'u'.repeat(40), kind: 'role', from: '<name>'}], body: async (a) => a.createUser('u'.repeat(40), 'pw')}, io(maria).io);
    expect(maria.users.has('u'.repeat(40))).toBe(true);
  });

  it('confirms a destructive step before connecting: unconfirmed in CI is exit 6 with nothing done', async () => {
    const admin = new FakeAdmin();
    const t = io(admin);
    const error = await rejection(runAdminOperation({operation: 'db.drop', target: {database: 'shop'}, names: [{value: 'shop', kind: 'database', from: '<name>'}], destructive: {what: 'Dropping database shop deletes all its data', expected: 'shop', yes: false}, body: async (a) => a.dropDatabase('shop')}, t.io));
    expect(error).toMatchObject({code: 'dbctl.not_confirmed', exitCode: 6});
    expect([t.opened(), admin.calls.length]).toEqual([0, 0]);
    const typed = io(admin, {interactive: true, typed: 'shop'});
    await runAdminOperation({operation: 'db.drop', target: {database: 'shop'}, names: [], destructive: {what: 'Dropping database shop', expected: 'shop', yes: false}, body: async (a) => a.dropDatabase('shop')}, typed.io);
    expect(typed.asked).toEqual(['shop']);
    expect(admin.calls).toEqual(['dropDatabase shop']);
    expect(typed.audit).toEqual([{as: 'admin', operation: 'db.drop', server: FAKE_SERVER.label, target: {database: 'shop'}, outcome: 'ok'}]);
  });

  it('audits a failure in the server and closes the connection', async () => {
    const admin = new FakeAdmin();
    admin.failOn.add('createDatabase');
    const t = io(admin);
    await expect(runAdminOperation({operation: 'db.create', target: {database: 'shop'}, names: [], body: async (a) => a.createDatabase('shop')}, t.io)).rejects.toThrow('createDatabase shop failed');
    expect(t.audit).toMatchObject([{operation: 'db.create', outcome: 'failed', error: 'unexpected'}]);
    expect(admin.closed).toBe(true);
  });
});

describe('user create as one unit', () => {
  const sinks = {showPassword: false, passwordFile: '/tmp/app.pw'};
  function userIo(): UserCreateIo & {delivered: string[]; redacted: string[]; warnings: string[]} {
    const delivered: string[] = [];
    const redacted: string[] = [];
    const warnings: string[] = [];
    return {
      delivered,
      redacted,
      warnings,
      generatePassword: () => 'Generated-Password-0123456789ABCD',
      deliver: async (_u, password) => (delivered.push(password), {passwordFile: '/tmp/app.pw'}),
      redact: (s) => redacted.push(s),
      warn: (m) => warnings.push(m),
    };
  }

  it('creates the user, applies the profile on every database, then delivers the password (redacted everywhere)', async () => {
    const admin = new FakeAdmin();
    const u = userIo();
    const result = await createUserWithProfile(admin, FAKE_SERVER, {user: 'app', profile: 'owner', databases: ['shop', 'billing'], sinks}, u);
    expect(result).toEqual({user: 'app', profile: 'owner', databases: ['shop', 'billing'], schemas: {shop: ['public'], billing: ['public']}, created: true, passwordFile: '/tmp/app.pw'});
    expect(admin.calls).toEqual(['userExists app', 'createUser app', 'applyProfile app owner shop', 'applyProfile app owner billing']);
    expect(u.redacted).toEqual(['Generated-Password-0123456789ABCD']);
    expect(u.delivered).toEqual(['Generated-Password-0123456789ABCD']);
  });

  it('drops the new user again when a grant fails, and delivers no password', async () => {
    const admin = new FakeAdmin();
    admin.failOn.add('applyProfile');
    const u = userIo();
    await expect(createUserWithProfile(admin, FAKE_SERVER, {user: 'app', profile: 'owner', databases: ['shop'], sinks}, u)).rejects.toThrow('failed');
    expect(admin.calls).toEqual(['userExists app', 'createUser app', 'applyProfile app owner shop', 'dropUser app']);
    expect(admin.users.has('app')).toBe(false);
    expect(u.delivered).toEqual([]);
  });

  it('drops the new user again when the password cannot be delivered', async () => {
    const admin = new FakeAdmin();
    const u = userIo();
    u.deliver = async () => {
      throw new Error('the Secret cannot be written');
    };
    await expect(createUserWithProfile(admin, FAKE_SERVER, {user: 'app', profile: 'readonly', databases: ['shop'], sinks}, u)).rejects.toThrow('the Secret cannot be written');
    expect(admin.users.has('app')).toBe(false);
  });

  it('refuses before creating anything when the password would go nowhere (exit 2)', async () => {
    const admin = new FakeAdmin();
    const error = await rejection(createUserWithProfile(admin, FAKE_SERVER, {user: 'app', profile: 'readonly', databases: ['shop'], sinks: {showPassword: false}}, userIo()));
    expect(error.exitCode).toBe(2);
    expect(admin.calls).toEqual(['userExists app']);
  });

  it('sets an existing user\'s access to the profile and leaves its password alone', async () => {
    const admin = new FakeAdmin();
    admin.users.set('app', {password: 'old', access: {shop: 'owner'}});
    const u = userIo();
    const result = await createUserWithProfile(admin, FAKE_SERVER, {user: 'app', profile: 'readonly', databases: ['shop'], sinks: {showPassword: false}}, u);
    expect(result.created).toBe(false);
    expect(admin.users.get('app')).toEqual({password: 'old', access: {shop: 'readonly'}});
    expect(u.delivered).toEqual([]);
    expect(u.warnings[0]).toContain('already exists');
  });
});
