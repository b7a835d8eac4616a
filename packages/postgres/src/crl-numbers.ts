import {type Kysely, sql} from 'kysely';
import type {Migration} from 'kysely/migration';

/** The table of the highest CRL number a server has loaded per issuer (include under its own number). */
export const crlNumberMigration: Migration = {
  async up(db) {
    await sql`create table bcl_crl_number_seen (issuer text primary key, number numeric not null, seen_at timestamptz not null default now())`.execute(db);
  },
};

/**
 * @bcl/mtls's CrlNumberStore in PostgreSQL, shared by every replica: one replica that loaded
 * CRL 42 makes all of them refuse CRL 41. The number only ever grows (greatest()).
 */
export function postgresCrlNumberStore(db: Kysely<any>): {highest(issuerKey: string): Promise<bigint | undefined>; record(issuerKey: string, number: bigint): Promise<void>} {
  return {
    async highest(issuerKey) {
      const {rows} = await sql<{number: string}>`select number::text as number from bcl_crl_number_seen where issuer = ${issuerKey}`.execute(db);
      return rows[0] ? BigInt(rows[0].number) : undefined;
    },
    async record(issuerKey, number) {
      await sql`insert into bcl_crl_number_seen (issuer, number) values (${issuerKey}, ${number.toString()}::numeric)
        on conflict (issuer) do update set number = greatest(bcl_crl_number_seen.number, excluded.number), seen_at = now()`.execute(db);
    },
  };
}
