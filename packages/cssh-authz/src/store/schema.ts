import {grantAuditAccess} from '@bcl/audit';
import {ensureApplicationRole, grantTables, migrateToLatest, openDatabase, sql, type TablePrivilege} from '@bcl/postgres';
import {asDatabaseError} from './postgres-store.js';
import {AUDIT_TABLE, MIGRATION_TABLE, migrations} from './migrations/index.js';

/**
 * What the role cssh-authz runs as may do: append to the ledger, revocations and audit trail
 * (never change or remove a row of them), move the single-writer rows, keep TOTP state.
 */
const APPLICATION_GRANTS: Record<string, readonly TablePrivilege[]> = {
  cssh_serial: ['SELECT', 'INSERT', 'DELETE'],
  cssh_issued: ['SELECT', 'INSERT'],
  cssh_revocation: ['SELECT', 'INSERT'],
  cssh_krl: ['SELECT', 'UPDATE'],
  cssh_ca_keyring: ['SELECT', 'UPDATE'],
  cssh_totp_enrolment: ['SELECT', 'INSERT', 'UPDATE'],
  cssh_totp_failure: ['SELECT', 'INSERT', 'DELETE'],
  bcl_crl_number_seen: ['SELECT', 'INSERT', 'UPDATE'],
  [MIGRATION_TABLE]: ['SELECT'],
};

export interface MigrateResult {
  /** Migrations this run applied (none: the schema was current). */
  applied: string[];
  /** The application role given its privileges, when it is not the owner. */
  applicationRole: string | null;
}

/**
 * Brings the schema to this version's as `ownerUrl`'s role (under the migrator's advisory lock,
 * so replicas started at once are safe), then, when the service connects as another role,
 * creates or updates that role (password from its connection string, sent as a SCRAM verifier)
 * and sets its privileges to exactly APPLICATION_GRANTS.
 */
export async function migrateDatabase(options: {ownerUrl: string; applicationUrl: string}): Promise<MigrateResult> {
  const owner = openDatabase<any>({url: options.ownerUrl, max: 2, applicationName: 'cssh-authz-migrate'});
  try {
    const applied = await migrateToLatest(owner.db, {migrations, tableName: MIGRATION_TABLE});
    const app = new URL(options.applicationUrl);
    const role = decodeURIComponent(app.username);
    const {rows} = await sql<{user: string}>`select current_user as user`.execute(owner.db);
    if (!role || role === rows[0]!.user) return {applied, applicationRole: null};
    if (app.password) await ensureApplicationRole(owner.db, {role, password: decodeURIComponent(app.password)});
    await grantAuditAccess(owner.db, role, {table: AUDIT_TABLE});
    await grantTables(owner.db, role, APPLICATION_GRANTS);
    return {applied, applicationRole: role};
  } catch (error) {
    throw asDatabaseError(error, owner.describe, options.ownerUrl);
  } finally {
    await owner.close();
  }
}
