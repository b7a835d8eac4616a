// The two ways svctl works, for tests that must hold in both (describe.each(modes)): direct mode
// (the user's kubeconfig, svctl.clusters) and server mode (svctl.server: a real svapp process
// with its own ServiceAccount credentials for the cluster, on a real PostgreSQL, authenticating
// svctl by a PKI client certificate; svctl then has no kubeconfig at all).
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {createOpensslPki, createSvappSite, type OpensslPki, type PostgresServer, serviceAccountKubeconfig, startPostgres, type SvappReplica, type SvappSite, tempDir} from '@bcl/testkit';
import {type ServiceRepo, serviceRepo, svctlHome} from './helpers.js';

export interface ModeHome {
  /** The CLI's environment: an isolated HOME with this mode's configuration. */
  cliEnv: Record<string, string>;
  /** A service checkout (and, in server mode, its spec in svapp's catalog). */
  repo(spec: string): Promise<ServiceRepo>;
  site?: SvappSite;
  replica?: SvappReplica;
  remove(): Promise<void>;
}

export interface Mode {
  name: 'direct' | 'server';
  setup(kubeconfig: string): Promise<ModeHome>;
}

/** Everyone may do everything in environment test: these tests are about deploys, not the policy. */
export const OPEN_POLICY = `environments:\n  test: {}\nrules:\n  - id: everyone\n    allow: ['*']\n    who: '*'\n    services: '*'\n    environments: '*'\n`;

export const direct: Mode = {
  name: 'direct',
  async setup(kubeconfig) {
    const home = svctlHome(kubeconfig);
    return {
      cliEnv: home.cliEnv,
      repo: (spec) => serviceRepo(spec),
      async remove() {
        home.remove();
      },
    };
  },
};

/** A svapp for one test file: PostgreSQL, a PKI, svapp's own ServiceAccount, one replica. */
export async function startSvappFor(kubeconfig: string, options: {policy?: string; extraConfig?: string} = {}): Promise<{pg: PostgresServer; pki: OpensslPki; site: SvappSite; replica: SvappReplica; stop(): Promise<void>}> {
  const [pg, pki] = await Promise.all([startPostgres(), createOpensslPki('Company PKI')]);
  const creds = tempDir('svapp-sa-');
  const name = `svapp-${Math.random().toString(16).slice(2, 8)}`;
  const saKubeconfig = await serviceAccountKubeconfig(kubeconfig, {name, file: join(creds.path, 'kubeconfig'), context: 'svapp'});
  const site = await createSvappSite({pg, pki, policy: options.policy ?? OPEN_POLICY, clusters: {test: {kubeconfig: saKubeconfig, context: 'svapp'}}, ...(options.extraConfig ? {extraConfig: options.extraConfig} : {})});
  const replica = await site.startReplica('svapp-0');
  return {
    pg,
    pki,
    site,
    replica,
    async stop() {
      await site.stop();
      await pg.stop();
      pki.remove();
      creds.remove();
    },
  };
}

/** An isolated HOME whose svctl goes through svapp as `email`, with no kubeconfig and no clusters configured. */
export async function serverHome(svapp: {pki: OpensslPki; site: SvappSite}, url: string, email = 'tester@example.com'): Promise<{cliEnv: Record<string, string>; remove(): void; configFile: string}> {
  const home = svctlHome();
  const client = await svapp.pki.issueClient({email});
  const configFile = join(home.xdg.config, 'bcl', 'config.yaml');
  mkdirSync(join(home.xdg.config, 'bcl'), {recursive: true});
  writeFileSync(configFile, `svctl:\n  server:\n    url: ${url}\n    ca: ${svapp.site.serverCa}\n    certificate: {cert: ${client.cert}, key: ${client.key}}\n`);
  return {cliEnv: {...home.cliEnv}, remove: home.remove, configFile};
}

export const server: Mode = {
  name: 'server',
  async setup(kubeconfig) {
    const svapp = await startSvappFor(kubeconfig);
    const home = await serverHome(svapp, svapp.replica.url);
    return {
      cliEnv: home.cliEnv,
      site: svapp.site,
      replica: svapp.replica,
      async repo(spec) {
        const name = /^name: (\S+)$/m.exec(spec)![1]!;
        svapp.site.writeCatalog(name, spec);
        return serviceRepo(spec);
      },
      async remove() {
        home.remove();
        await svapp.stop();
      },
    };
  },
};

export const modes: Mode[] = [direct, server];
