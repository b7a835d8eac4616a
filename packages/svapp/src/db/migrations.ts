import {auditMigration, grantAuditAccess} from '@bcl/audit';
import {crlNumberMigration, grantTables, type Kysely, LEASE_TABLE, leaseMigration, sql} from '@bcl/postgres';

/** Numbered migrations, never edited once released; every replica runs them at start (once, under a lock). */
export const migrations = {
  '0001-operations': {
    async up(db: Kysely<any>) {
      await sql`create table svapp_operations (
        id text primary key,
        kind text not null check (kind in ('deploy', 'rollback', 'build')),
        request_hash text not null,
        request jsonb not null,
        environment text,
        services text[] not null,
        requester jsonb not null,
        client jsonb,
        state text not null check (state in ('waiting-approval', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'rejected')),
        decisions jsonb not null,
        result jsonb,
        last_seq int not null default 0,
        attempts int not null default 0,
        runner text,
        cancel_requested jsonb,
        created_at timestamptz not null default now(),
        started_at timestamptz,
        finished_at timestamptz
      )`.execute(db);
      await sql`create index svapp_operations_open on svapp_operations (state) where state in ('waiting-approval', 'queued', 'running')`.execute(db);
      await sql`create index svapp_operations_created on svapp_operations (created_at desc)`.execute(db);
      await sql`create table svapp_operation_events (
        op_id text not null references svapp_operations,
        seq int not null,
        type text not null,
        data jsonb not null,
        at timestamptz not null default clock_timestamp(),
        primary key (op_id, seq)
      )`.execute(db);
    },
  },
  '0002-leases': leaseMigration,
  '0003-audit': auditMigration(),
  '0004-crl-numbers': crlNumberMigration,
  // Runs a replica handed over as it stopped (SIGTERM) do not count against operations.maxAttempts.
  '0005-handovers': {
    async up(db: Kysely<any>) {
      await sql`alter table svapp_operations add column handovers int not null default 0, add column last_handover_attempt int`.execute(db);
    },
  },
};

/** What the restricted role svapp runs as may do (run by the migrating owner). */
export async function grantSvapp(owner: Kysely<any>, role: string): Promise<void> {
  await grantAuditAccess(owner, role);
  await grantTables(owner, role, {
    svapp_operations: ['SELECT', 'INSERT', 'UPDATE'],
    svapp_operation_events: ['SELECT', 'INSERT'],
    [LEASE_TABLE]: ['SELECT', 'INSERT', 'UPDATE'],
    bcl_crl_number_seen: ['SELECT', 'INSERT', 'UPDATE'],
  });
}
