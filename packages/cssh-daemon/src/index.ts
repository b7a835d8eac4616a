// @bcl/cssh-daemon: the CSSH host agent (no oclif, no BCL CLI framework).
export {main} from './cli.js';
export {loadDaemonConfig, daemonConfigSchema, type DaemonConfig} from './config.js';
export {planAccounts, reconcileAccounts, type AccountAction, type AccountsRecord, type AccountSystem, type PasswdEntry} from './accounts.js';
export {refreshCaKeys, refreshKrl, type FileIo} from './host-files.js';
export {loadStatus, runDaemon, syncOnce, type DaemonDeps} from './daemon.js';
export {assessDaemonStatus, readDaemonStatus, type DaemonStatus} from './status.js';
