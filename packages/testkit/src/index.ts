export {runCli, repoRoot, type CliOptions, type CliResult} from './cli.js';
export {freePort} from './ports.js';
export {startPostgres, postgresBinDir, type PostgresServer} from './postgres.js';
export {run, type RunOutput} from './run.js';
export {isolatedHome, tempDir, type IsolatedHome} from './temp.js';
export {chownTo, serviceUser} from './users.js';
export {waitFor} from './wait.js';
export {startJenkinsDouble, applyTree, type JenkinsDouble, type BuildPlan, type DoubleBuild, type DoubleJob, type SeenRequest} from './jenkins.js';
export {hadolintPath, promtoolPath} from './obs-tools.js';
