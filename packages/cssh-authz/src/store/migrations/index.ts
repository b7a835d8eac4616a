import {auditMigration} from '@bcl/audit';
import {crlNumberMigration, type Migration} from '@bcl/postgres';
import * as state from './0001-state.js';

/** Kysely's bookkeeping table of cssh-authz (a database may be shared with other servers). */
export const MIGRATION_TABLE = 'cssh_authz_migration';
/** The audit trail's table (its chain head is `cssh_audit_head`). */
export const AUDIT_TABLE = 'cssh_audit';

/** cssh-authz's migrations, in order; one module each, never edited once released. */
export const migrations: Record<string, Migration> = {
  '0001-state': state,
  '0002-audit': auditMigration({table: AUDIT_TABLE}),
  '0003-crl-numbers': crlNumberMigration,
};
