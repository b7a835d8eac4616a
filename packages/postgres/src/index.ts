// @bcl/postgres: Kysely over pg for BCL's servers, with migrations, transactions and locks.
export {openDatabase, redactUrl, redactSecrets, type Database, type DatabaseOptions} from './connect.js';
export {migrateToLatest, MigrationError, MIGRATION_NAME, type MigrateOptions, type Migration} from './migrate.js';
export {inTransaction, isRetryable, type Isolation, type TransactionOptions} from './transaction.js';
export {withAdvisoryLock, lockId, LockBusyError} from './lock.js';
export {acquireLease, renewLease, releaseLease, assertLease, leaseMigration, LEASE_TABLE, LeaseHeldError, FencedError, type Lease} from './lease.js';
export {ensureApplicationRole, grantTables, type TablePrivilege} from './roles.js';
export {scramVerifier} from './scram.js';
export {listen, notify, type Listener} from './notify.js';
export {sql, type Kysely, type Transaction, type Generated, type Selectable, type Insertable} from 'kysely';
export {postgresCrlNumberStore, crlNumberMigration} from './crl-numbers.js';
export {escapeLiteral, escapeNullable, escapeIdentifier} from './literal.js';
export {ReservedBlock} from './reserved-block.js';
