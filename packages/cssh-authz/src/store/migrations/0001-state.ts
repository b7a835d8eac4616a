import {type Kysely, sql} from '@bcl/postgres';

/**
 * The state of cssh-authz: serials (reserved before signing, unique by the primary key), the
 * ledger of issued certificates, revocations with the KRL version that first listed them, the
 * KRL version and the CA keyring (one row each, locked by their single writer), TOTP enrolments
 * and recent failures. Serials are unsigned 64-bit: numeric(20), not bigint.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create table cssh_serial (
    serial numeric(20, 0) primary key check (serial > 0 and serial < 18446744073709551616),
    reserved_by text not null,
    reserved_at timestamptz not null default now()
  )`.execute(db);
  await sql`create table cssh_issued (
    serial numeric(20, 0) primary key references cssh_serial,
    key_id text not null,
    email text not null,
    principals jsonb not null,
    valid_after timestamptz not null,
    valid_before timestamptz not null,
    issued_at timestamptz not null,
    ca_key text,
    mfa text
  )`.execute(db);
  await sql`create index cssh_issued_email on cssh_issued (email, valid_before)`.execute(db);
  await sql`create index cssh_issued_valid_before on cssh_issued (valid_before)`.execute(db);
  await sql`create table cssh_revocation (
    serial numeric(20, 0) primary key,
    key_id text not null,
    email text not null,
    valid_before timestamptz not null,
    revoked_at timestamptz not null,
    revoked_by text not null,
    reason text not null,
    krl_version bigint not null
  )`.execute(db);
  await sql`create index cssh_revocation_valid_before on cssh_revocation (valid_before)`.execute(db);
  await sql`create table cssh_krl (id int primary key check (id = 1), version bigint not null check (version >= 0))`.execute(db);
  await sql`insert into cssh_krl (id, version) values (1, 0)`.execute(db);
  await sql`create table cssh_ca_keyring (id int primary key check (id = 1), version bigint not null check (version >= 0), keys jsonb not null)`.execute(db);
  await sql`insert into cssh_ca_keyring (id, version, keys) values (1, 0, '[]')`.execute(db);
  await sql`create table cssh_totp_enrolment (
    email text primary key,
    sealed_secret text not null,
    state text not null check (state in ('pending', 'active')),
    created_at timestamptz not null,
    confirmed_at timestamptz,
    last_step bigint not null
  )`.execute(db);
  await sql`create table cssh_totp_failure (email text not null, at timestamptz not null)`.execute(db);
  await sql`create index cssh_totp_failure_email on cssh_totp_failure (email, at)`.execute(db);
}
