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
