// The two ways svctl works, for tests that must hold in both (describe.each(modes)): direct mode
// (the user's kubeconfig, svctl.clusters) and server mode (svctl.server: a real svapp process
// with its own ServiceAccount credentials for the cluster, on a real PostgreSQL, authenticating
// svctl by a PKI client certificate; svctl then has no kubeconfig at all).
import {startSvappOnCluster, svctlServerHome, type SvappReplica, type SvappSite} from '@bcl/testkit';
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

export const server: Mode = {
  name: 'server',
  async setup(kubeconfig) {
    const svapp = await startSvappOnCluster(kubeconfig);
    const home = await svctlServerHome(svapp, svapp.replicas[0]!.url);
    return {
      cliEnv: home.cliEnv,
      site: svapp.site,
      replica: svapp.replicas[0]!,
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
