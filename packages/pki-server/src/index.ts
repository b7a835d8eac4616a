// @bcl/pki-server: the PKI server (no oclif). `main` for its bin; `buildServer` for tests.
export {main, testSerials} from './cli.js';
export {startServer, migrate, type RunningServer, type StartOptions} from './main.js';
export {buildServer, type ServerDeps} from './server.js';
export {loadServerConfig, serverConfigSchema, ConfigError, type ServerConfig} from './config.js';
export {migrations, grantApplication} from './db/migrations.js';
export {IdTokenVerifier, LoginRefused, type LoginRefusalCode, type VerifiedIdentity} from './oidc/verify.js';
export {googleDirectory, DIRECTORY_SCOPE} from './directory/google.js';
export {staticDirectory, noDirectory, type Directory, DirectoryUnavailable} from './directory/index.js';
export type {PkiDb} from './db/schema.js';
