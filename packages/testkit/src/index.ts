export {runCli, runCliOnTerminal, repoRoot, type CliOptions, type CliResult} from './cli.js';
export {freePort} from './ports.js';
export {startPostgres, postgresBinDir, type PostgresServer} from './postgres.js';
export {startMariaDb, mariadbBinaries, type MariaDbServer} from './mariadb.js';
export {run, type RunOutput} from './run.js';
export {isolatedHome, tempDir, type IsolatedHome} from './temp.js';
export {chownTo, serviceUser} from './users.js';
export {terraformKit, terraformBinary, terraformEngines, opentofuBinary, OPENTOFU_VERSION, providerSourceHash, POSTGRESQL_PROVIDER, type TerraformKit, type TerraformEngine} from './terraform.js';
export {waitFor} from './wait.js';
export {rejection} from './rejection.js';
export {startJenkinsDouble, applyTree, type JenkinsDouble, type BuildPlan, type DoubleBuild, type DoubleJob, type SeenRequest} from './jenkins.js';
export {hadolintPath, kubeScorePath, promtoolPath} from './obs-tools.js';
export {startLocalCluster, trustClientCa, testNamespace, kubectl, kubectlPath, testKubeconfig, servePodLogs, LOCAL_CLUSTER, LOCAL_CONTEXT, type LocalCluster, type TestNamespace, type ServedPodLogs} from './k8s.js';
export {startSshd, ensureLoginUsers, SSHD, type SshdOptions, type SshdServer} from './sshd.js';
export {createOpensslPki, type OpensslPki, type IssuedX509} from './openssl-pki.js';
export {startGrafanaDouble, type GrafanaDouble} from './grafana.js';
export {serveCsshAuthz, startCsshAuthz, type CsshAuthz, type CsshAuthzOptions, type CsshAuthzReplica} from './cssh-authz.js';
export {startOidcProvider, type OidcProvider, type OidcProviderOptions, type OidcUser, type OidcClient, type MintOptions} from './oidc.js';
export {startTcpProxy, type TcpProxy} from './tcp-proxy.js';

export {startCsshDaemon, type CsshDaemon, type CsshDaemonOptions} from './cssh-daemon.js';

export {zlint, pkilint, zlintPath, pkilintBin, ZLINT_VERSION, PKILINT_VERSION, type LintFinding, type PkilintCheck} from './pki-lint.js';
export {startPkiServer, DEFAULT_SERVER_POLICY, type PkiServer, type PkiServerOptions, type PkiServerReplica} from './pki-server.js';
export {openvpn, openvpnHandshake, type OpenvpnProcess} from './openvpn.js';
export {startGoogleDirectoryDouble, GOOGLE_DIRECTORY_SCOPE, type GoogleDirectoryDouble} from './google-directory.js';
