// @bcl/cssh-authz: the SSH user certificate authority service (no oclif, no BCL CLI framework).
export {main} from './cli.js';
export {loadServiceConfig, serviceConfigSchema, type ServiceConfig} from './config.js';
export {startAuthz, type RunningAuthz} from './server.js';
export {AccessRules, rulesSchema, DEFAULT_EXTENSIONS, type Decision, type RulesSpec} from './rules.js';
export {AuthzService, ServiceError, type Identity, type IssuedCertificate} from './service.js';
export {stderrLogger, type Logger} from './log.js';
export {hostSetup, type HostSetup} from './host-setup.js';
export {FileStore} from './store/file-store.js';
export type {AuditEvent, AuthzStore, CaKeyRecord, CaKeyring, IssuedRecord, Revocation, RevokeOutcome, TotpEnrolment} from './store/types.js';
export {SecretsKey} from './secrets.js';
export {PostgresStore, CHANGE_POLL_MS, type PostgresStoreOptions} from './store/postgres-store.js';
export {DatabaseError, NotEmptyError, isStoreUnavailable} from './store/errors.js';
export {migrations, MIGRATION_TABLE, AUDIT_TABLE} from './store/migrations/index.js';
export {migrateDatabase, type MigrateResult} from './store/schema.js';
export {importState, type ImportSummary} from './store/import.js';
export {openConfiguredState, type OpenedState} from './store/open.js';
