// @bcl/audit: the append-only, hash-chained audit log of BCL's servers.
export {PostgresAuditLog, auditMigration, grantAuditAccess, type PostgresAuditOptions, type AuditTableOptions} from './postgres.js';
export {FileAuditLog} from './file.js';
export {canonicalJson, chainEntry, entryLine, verifyEntries, GENESIS, type AuditRecord, type AuditEntry, type Verification, type ChainProblem} from './chain.js';
export {GroupCommit, type GroupCommitOptions, type BatchClient} from './group-commit.js';
