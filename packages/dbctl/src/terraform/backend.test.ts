import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {pgConnStr, pgSchemaName} from './backend.js';
import {mask} from './state.js';
import {Terraform} from './terraform.js';

const dir = mkdtempSync(join(tmpdir(), 'dbctl-backend-'));
afterAll(() => rmSync(dir, {recursive: true, force: true}));
const url = 'postgres://tf:s3cret@db.internal:5432/tfstate';
const input = (origin?: {kind: string; file?: string; label: string}, env: Record<string, string> = {}) => ({env, redactor: {add: () => undefined} as never, originOf: () => origin});
const pgBackend = (extra: Record<string, string>) => ({type: 'pg' as const, schemaPrefix: 'dbctl_', ...extra});

describe('the pg backend', () => {
  it('takes the connection string from exactly one secret source', () => {
    expect(pgConnStr(pgBackend({connStrEnv: 'STATE'}), input(undefined, {STATE: url}))).toBe(url);
    expect(() => pgConnStr(pgBackend({connStrEnv: 'STATE'}), input())).toThrow('dbctl.backend.connStrEnv names STATE, which is not set');
    expect(() => pgConnStr(pgBackend({connStrEnv: 'STATE', connStr: url}), input())).toThrow('give exactly one of connStrEnv, connStrFile or connStr (found connStrEnv, connStr)');
    const file = join(dir, 'conn');
    writeFileSync(file, `${url}\n`, {mode: 0o600});
    expect(pgConnStr(pgBackend({connStrFile: file}), input())).toBe(url);
    chmodSync(file, 0o644);
    expect(() => pgConnStr(pgBackend({connStrFile: file}), input())).toThrow('is readable by other users');
  });

  it('takes connStr only from the user\'s own configuration file, and only when that file is private', () => {
    const own = join(dir, 'config.yaml');
    writeFileSync(own, 'x', {mode: 0o600});
    expect(pgConnStr(pgBackend({connStr: url}), input({kind: 'user', file: own, label: own}))).toBe(url);
    expect(() => pgConnStr(pgBackend({connStr: url}), input({kind: 'project', file: '/repo/.bcl.yaml', label: '/repo/.bcl.yaml:3'}))).toThrow('dbctl.backend.connStr is set in /repo/.bcl.yaml:3');
    chmodSync(own, 0o644);
    expect(() => pgConnStr(pgBackend({connStr: url}), input({kind: 'user', file: own, label: own}))).toThrow(`holds a password, but ${own} is readable by other users`);
    expect(() => pgConnStr(pgBackend({connStr: 'host=db user=tf'}), input({kind: 'user', label: 'x'}))).toThrow('not a postgres:// URL');
  });

  it('names one schema per instance, within 63 bytes', () => {
    expect(pgSchemaName('dbctl_', 'orders-prod')).toBe('dbctl_orders_prod');
    const long = pgSchemaName('dbctl_', `${'a'.repeat(62)}-prod`);
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(63);
    expect(long).not.toBe(pgSchemaName('dbctl_', `${'a'.repeat(62)}-dev`));
  });
});

describe('reading state and plans', () => {
  it('masks sensitive values at any depth', () => {
    expect(mask({name: 'app', password: 'SCRAM', nested: [{key: 'k', value: 'v'}]}, {password: true, nested: [{value: true}]})).toEqual({name: 'app', password: '(sensitive)', nested: [{key: 'k', value: '(sensitive)'}]});
  });

  it('skips show -json only when the plan output says nothing changes, no output changes and drift is only in-place', () => {
    const quiet = {diagnostics: [], changeSummary: {add: 0, change: 0, remove: 0, import: 0}, plannedChanges: 0, drifted: 0, driftBeyondUpdates: 0, outputChanges: 0};
    expect(Terraform.nothingToShow(quiet)).toBe(true);
    // in-place drift of unchanged resources is never relevant to a plan without changes
    expect(Terraform.nothingToShow({...quiet, drifted: 3})).toBe(true);
    expect(Terraform.nothingToShow({...quiet, drifted: 1, driftBeyondUpdates: 1})).toBe(false);
    expect(Terraform.nothingToShow({...quiet, outputChanges: 1})).toBe(false);
    expect(Terraform.nothingToShow({...quiet, plannedChanges: 1})).toBe(false);
    expect(Terraform.nothingToShow({...quiet, changeSummary: {add: 0, change: 1, remove: 0}})).toBe(false);
    expect(Terraform.nothingToShow({...quiet, changeSummary: undefined})).toBe(false);
  });
});
