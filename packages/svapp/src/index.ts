// svapp: the svctl back end. The server's parts, for tests and for embedding; clients import
// `@bcl/svapp/api` (types and constants only).
export * from './api.js';
export {buildServer, type SvappDeps, type SvappServer} from './server.js';
export {startSvapp, type RunningSvapp} from './main.js';
export {loadSvappConfig, svappConfigSchema, type SvappConfig} from './config.js';
export {migrations, grantSvapp} from './db/migrations.js';
export type {SvappDb} from './db/schema.js';
export {ServiceCatalog, type CatalogEntry} from './catalog.js';
export {KubeEngine, type DeployEngine, type EngineRun, type BuildRun, type BuildList} from './engine.js';
export {OperationRunner, operationLease} from './operations/runner.js';
export {jsonLog, silentLog, type Log} from './log.js';
export {main} from './cli.js';
