/** Numbered migrations, one per change, never edited once released. */
import {auditMigration, grantAuditAccess} from '@bcl/audit';
import {grantTables, type Kysely, type Migration, sql} from '@bcl/postgres';

export const migrations: Record<string, Migration> = {
  '0001-pki': {
    async up(db: Kysely<any>) {
      await sql`create table users (
        iss text not null, sub text not null, email text not null, hd text, name text,
        first_login_at timestamptz not null default now(), last_login_at timestamptz not null,
        primary key (iss, sub))`.execute(db);
      await sql`create table id_token_uses (token_sha256 text primary key, iss text not null, sub text, expires_at timestamptz not null, used_at timestamptz not null default now())`.execute(db);
      await sql`create index id_token_uses_expires on id_token_uses (expires_at)`.execute(db);
      await sql`create table sessions (
        token_sha256 text primary key, id uuid not null unique, iss text not null, sub text not null, email text not null, name text,
        kind text not null check (kind in ('cli', 'web')), csrf_token text, groups jsonb not null default '[]', admin boolean not null default false,
        created_at timestamptz not null, expires_at timestamptz not null, ended_at timestamptz,
        foreign key (iss, sub) references users)`.execute(db);
      await sql`create table login_attempts (state text primary key, code_verifier text not null, nonce text not null, return_to text not null, expires_at timestamptz not null)`.execute(db);
      await sql`create table policies (version serial primary key, yaml text not null, sha256 text not null, signature text not null, source text not null, set_by text not null, set_at timestamptz not null default now())`.execute(db);
      await sql`create table requests (
        id text primary key, iss text, sub text, email text not null, name text not null, profile text not null, key_type text not null,
        csr_pem text not null, sans jsonb not null default '[]', lifetime_days int, device_label text, renews text,
        status text not null check (status in ('pending', 'issued', 'rejected')),
        created_at timestamptz not null, decided_at timestamptz, decided_by text, reason text, serial text)`.execute(db);
      await sql`create index requests_status on requests (status, created_at)`.execute(db);
      await sql`create index requests_owner on requests (iss, sub)`.execute(db);
      await sql`create table certificates (
        issuer text not null, serial text not null,
        status text not null check (status in ('reserved', 'valid', 'revoked')),
        request_id text, iss text, sub text, email text, name text, profile text, key_type text,
        pem text, not_before timestamptz, not_after timestamptz, issued_at timestamptz, approved_by text,
        revoked_at timestamptz, reason text, revoked_by text, renews text, superseded_by text, device_label text,
        reserved_at timestamptz not null,
        primary key (issuer, serial),
        check (status = 'reserved' or (pem is not null and not_after is not null)),
        check (status <> 'revoked' or (revoked_at is not null and reason is not null)))`.execute(db);
      await sql`create index certificates_owner on certificates (iss, sub)`.execute(db);
      await sql`create index certificates_email on certificates (lower(email))`.execute(db);
      await sql`create index certificates_revoked on certificates (issuer, not_after) where status = 'revoked'`.execute(db);
      await sql`create table crls (issuer text not null, number numeric not null, this_update timestamptz not null, next_update timestamptz not null, der bytea not null, revoked_count int not null, created_at timestamptz not null default now(), primary key (issuer, number))`.execute(db);
      await sql`create table crl_numbers (issuer text primary key, last_number numeric not null)`.execute(db);
      // Counters that need not survive a crash: no write-ahead log for them.
      await sql`create unlogged table rate_limits (key text primary key, window_start timestamptz not null, count int not null)`.execute(db);
    },
  },
  '0002-audit': auditMigration(),
  // What a statement sent with others in one text must make sure of raises here, rolling the whole text back.
  '0003-assert': {
    async up(db: Kysely<any>) {
      await sql`create function pki_assert(ok boolean, message text) returns boolean language plpgsql as $$
        begin
          if ok is not true then raise exception '%', message using errcode = 'P0001'; end if;
          return true;
        end $$`.execute(db);
    },
  },
};

/** What the application role may do: read and write the inventory, never delete a certificate or change the audit log. */
export async function grantApplication(owner: Kysely<any>, role: string): Promise<void> {
  await grantAuditAccess(owner, role);
  await grantTables(owner, role, {
    users: ['SELECT', 'INSERT', 'UPDATE'],
    id_token_uses: ['SELECT', 'INSERT', 'DELETE'],
    sessions: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
    login_attempts: ['SELECT', 'INSERT', 'DELETE'],
    policies: ['SELECT', 'INSERT'],
    requests: ['SELECT', 'INSERT', 'UPDATE'],
    certificates: ['SELECT', 'INSERT', 'UPDATE'],
    crls: ['SELECT', 'INSERT', 'DELETE'],
    crl_numbers: ['SELECT', 'INSERT', 'UPDATE'],
    rate_limits: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  });
  await sql`grant usage on sequence policies_version_seq to ${sql.id(role)}`.execute(owner);
  // Said outright rather than left to PUBLIC's default, which a hardened database revokes.
  await sql`grant execute on function pki_assert(boolean, text) to ${sql.id(role)}`.execute(owner);
}
