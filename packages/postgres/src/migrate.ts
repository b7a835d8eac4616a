import type {Kysely} from 'kysely';
import {type Migration, type MigrationResult, Migrator} from 'kysely/migration';

export type {Migration};

/** Migration names: a number, then words: "0001-audit-log". Applied in this order. */
export const MIGRATION_NAME = /^\d{4}-[a-z0-9][a-z0-9-]*$/;

export interface MigrateOptions {
  /** The migrations, by name (one module each, never edited once released). */
  migrations: Record<string, Migration>;
  /** Kysely's bookkeeping table (default "kysely_migration"); one per application sharing a database. */
  tableName?: string;
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    message: string,
    readonly failed: string | undefined,
  ) {
    super(message);
  }
}

/**
 * Brings the database to the newest schema with Kysely's Migrator: its PostgreSQL adapter
 * holds an advisory lock (pg_advisory_lock) for the whole run and reads the applied list under
 * it, so replicas starting at once apply each migration exactly once; all pending migrations
 * run in one transaction (PostgreSQL has transactional DDL): a failure leaves nothing half-done.
 * Returns the names applied by this call (empty when another replica did it).
 */
export async function migrateToLatest<DB>(db: Kysely<DB>, options: MigrateOptions): Promise<string[]> {
  const names = Object.keys(options.migrations);
  const bad = names.filter((n) => !MIGRATION_NAME.test(n));
  if (bad.length > 0) throw new MigrationError(`migration names must look like 0001-what-it-does: ${bad.join(', ')}`, bad[0]);
  const migrator = new Migrator({
    db: db as Kysely<unknown>,
    provider: {getMigrations: async () => options.migrations},
    ...(options.tableName ? {migrationTableName: options.tableName, migrationLockTableName: `${options.tableName}_lock`} : {}),
  });
  const {error, results} = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r: MigrationResult) => r.status === 'Error')?.migrationName;
    throw new MigrationError(`database migration ${failed ? `${failed} ` : ''}failed: ${(error as Error).message}`, failed);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
