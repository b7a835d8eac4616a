import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {invalidInput, unavailable} from '@bcl/core/errors';
import type {Redactor} from '@bcl/core/process';
import type {DeployTarget, NamespaceWatch, RevisionRecord, ServiceDeployResult, ServiceDiff, ServiceStatus} from '@bcl/deploy-core/deploy';
import type {EventSink} from '@bcl/deploy-core/events';
import type {BuildOutcome} from '@bcl/deploy-core/jenkins';
import type {KubeClients} from '@bcl/deploy-core/kube';
import type {ClusterSettings, ClustersSource, EnvironmentSpec, ServiceSpec} from '@bcl/deploy-core/spec';
import type {SvappConfig} from './config.js';
import {type Log, silentLog} from './log.js';
import {ConfigError, readSecret} from './secrets.js';

/** How one operation's run reaches the clusters: who it is, its stop signal, and its fence. */
export interface EngineRun {
  environment: string;
  timeoutMs: number;
  rollback: boolean;
  signal: AbortSignal;
  events: EventSink;
  /** For the history: the requester, through svapp. */
  who: string;
  /** The deploy lease's holder: this replica and this operation. */
  leaseHolder: string;
  /** Another replica's holder of the same operation: taken over at once. */
  takeOverLease: (holder: string) => boolean;
  /** The operation's id, on the revisions it records (a takeover of a rollback keeps its target). */
  operation: string;
  /** Throws once this replica lost the operation: it then writes nothing more anywhere. */
  fence: () => void;
}

export interface BuildRun {
  spec: ServiceSpec;
  jenkins?: string | undefined;
  parameters: {GIT_SHA: string; IMAGE_TAG: string; ENV: string};
  follow: boolean;
  signal: AbortSignal;
  events: EventSink;
}

export interface BuildList {
  jenkins: string;
  job: string;
  builds: {number: number; building: boolean; result: string | null; durationMs: number; gitSha: string | null; imageTag: string | null; env: string | null; startedAt: string; url: string}[];
}

/**
 * What svapp does to clusters and Jenkins: the deploy core, with svapp's own credentials. The
 * server and its operations depend on this interface only, so tests of the API and the policy
 * give their own (recording what they were asked) where no cluster is needed.
 */
export interface DeployEngine {
  /** The clusters by name, as the spec resolver reads them. */
  readonly clusters: Record<string, ClusterSettings>;
  deploy(targets: readonly DeployTarget[], run: EngineRun): Promise<ServiceDeployResult[]>;
  rollback(specs: readonly EnvironmentSpec[], run: EngineRun, to?: number): Promise<ServiceDeployResult[]>;
  status(spec: EnvironmentSpec): Promise<ServiceStatus>;
  history(spec: EnvironmentSpec): Promise<RevisionRecord[]>;
  diff(target: DeployTarget): Promise<ServiceDiff>;
  build(run: BuildRun): Promise<BuildOutcome>;
  builds(spec: ServiceSpec, jenkins: string | undefined, limit: number): Promise<BuildList>;
  close(): Promise<void>;
}

/** How long a namespace's rollout watch is kept once no operation uses it. */
const WATCH_IDLE_MS = 10 * 60_000;

/** Where svapp's clusters are configured, for the messages of environment resolution. */
export const SVAPP_CLUSTERS: ClustersSource = {
  key: "svapp's clusters",
  howToAdd: (environment) => `the platform team adds clusters.${environment} (svapp's kubeconfig for it) to svapp's configuration`,
};

/**
 * The real engine: one kept connection per cluster (clients and their TLS sessions stay warm
 * between operations), deploys and rollbacks through @bcl/deploy-core, builds through its
 * Jenkins core. The clusters' credentials are svapp's (svapp's configuration), never a caller's.
 */
export class KubeEngine implements DeployEngine {
  readonly clusters: Record<string, ClusterSettings>;
  /** Per cluster: its clients, and the kubeconfig's contents they were made from (see connect). */
  readonly #connections = new Map<string, {connection: Promise<KubeClients>; stamp: string}>();
  /** Rollout watches by connection and namespace, kept between operations (see keptWatches). */
  readonly #watches = new Map<string, {watch: NamespaceWatch; clients: KubeClients; runs: number; lastUsed: number}>();
  readonly #clientIds = new WeakMap<KubeClients, number>();
  #nextClientId = 0;
  /** Clients a changed kubeconfig replaced: their watches are not kept once their runs end. */
  readonly #retired = new WeakSet<KubeClients>();
  #watchSweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: Pick<SvappConfig, 'clusters' | 'jenkins'>,
    private readonly redactor: Redactor,
    private readonly env: Record<string, string | undefined> = process.env,
    private readonly log: Log = silentLog,
  ) {
    this.clusters = Object.fromEntries(
      Object.entries(config.clusters).map(([name, c]) => [name, {context: c.context ?? `svapp clusters.${name}`, namespace: c.namespace, production: c.production, zones: c.zones, ingressController: c.ingressController, prometheus: c.prometheus}]),
    );
  }

  /**
   * The clients of the cluster an environment deploys to: connected once, then kept, until the
   * cluster's kubeconfig file changes (a rotated token): the next operation then connects again
   * with the new file, and the watches of the old clients stop once no run uses them.
   */
  connect = (spec: Pick<EnvironmentSpec, 'cluster' | 'environment'>): Promise<KubeClients> => {
    const cluster = this.config.clusters[spec.cluster];
    if (!cluster) {
      return Promise.reject(
        invalidInput('svapp.cluster_not_configured', `environment ${spec.environment} deploys to cluster ${spec.cluster}, which svapp's configuration does not name`, {
          hint: `svapp's clusters: ${Object.keys(this.config.clusters).sort().join(', ') || 'none'}; the platform team adds it (clusters.${spec.cluster}.kubeconfig).`,
          details: {environment: spec.environment, cluster: spec.cluster},
        }),
      );
    }
    const stamp = kubeconfigStamp(cluster.kubeconfig);
    const kept = this.#connections.get(spec.cluster);
    if (kept && kept.stamp === stamp) return kept.connection;
    if (kept) void kept.connection.then((old) => this.retire(old), () => undefined);
    const connection = import('@bcl/deploy-core/kube').then(({connect}) => connect({context: cluster.context, kubeconfig: cluster.kubeconfig, source: `svapp clusters.${spec.cluster}.context`}));
    const entry = {connection, stamp};
    // A failed connection is not kept: the next operation tries again.
    connection.catch(() => {
      if (this.#connections.get(spec.cluster) === entry) this.#connections.delete(spec.cluster);
    });
    this.#connections.set(spec.cluster, entry);
    return connection;
  };

  /** The watches of replaced clients stop now if idle; those in use stop when their runs end (done). */
  private retire(old: KubeClients): void {
    this.#retired.add(old);
    for (const [key, kept] of this.#watches) {
      if (kept.clients !== old || kept.runs > 0) continue;
      this.#watches.delete(key);
      void kept.watch.stop();
    }
  }

  private clientId(clients: KubeClients): number {
    let id = this.#clientIds.get(clients);
    if (id === undefined) this.#clientIds.set(clients, (id = this.#nextClientId++));
    return id;
  }

  /**
   * The watches of one run: a namespace's watch is kept warm between operations, so a deploy
   * finds its rollout's caches listed and watching instead of starting four lists and watches
   * while it applies. One unused by any run for WATCH_IDLE_MS is stopped. `done` ends the run's use.
   */
  private async keptWatches(): Promise<{watch: (clients: KubeClients, namespace: string) => NamespaceWatch; done: () => void}> {
    const {NamespaceWatch} = await import('@bcl/deploy-core/deploy');
    const mine = new Set<string>();
    this.#watchSweeper ??= setInterval(() => {
      for (const [key, kept] of this.#watches) {
        if (kept.runs > 0 || Date.now() - kept.lastUsed < WATCH_IDLE_MS) continue;
        this.#watches.delete(key);
        void kept.watch.stop();
      }
    }, WATCH_IDLE_MS / 4).unref();
    return {
      watch: (clients, namespace) => {
        const key = `${this.clientId(clients)}\u0000${namespace}`;
        let kept = this.#watches.get(key);
        if (!kept) {
          kept = {watch: new NamespaceWatch(clients, namespace), clients, runs: 0, lastUsed: Date.now()};
          this.#watches.set(key, kept);
          this.log.info(`watching the rollouts in namespace ${namespace} of ${clients.context} (kept while unused for ${WATCH_IDLE_MS / 60_000} minutes)`, {namespace, context: clients.context, watches: this.#watches.size});
        }
        if (!mine.has(key)) {
          mine.add(key);
          kept.runs += 1;
        }
        return kept.watch;
      },
      done: () => {
        for (const key of mine) {
          const kept = this.#watches.get(key);
          if (!kept) continue;
          kept.runs -= 1;
          kept.lastUsed = Date.now();
          if (kept.runs === 0 && this.#retired.has(kept.clients)) {
            this.#watches.delete(key);
            void kept.watch.stop();
          }
        }
      },
    };
  }

  private options(run: EngineRun) {
    return {
      environment: run.environment,
      timeoutMs: run.timeoutMs,
      rollback: run.rollback,
      signal: run.signal,
      events: run.events,
      env: {},
      who: run.who,
      leaseHolder: run.leaseHolder,
      takeOverLease: run.takeOverLease,
      operation: run.operation,
      fence: run.fence,
      connect: this.connect,
    };
  }

  async deploy(targets: readonly DeployTarget[], run: EngineRun): Promise<ServiceDeployResult[]> {
    const {deployServices} = await import('@bcl/deploy-core/deploy');
    const watches = await this.keptWatches();
    try {
      return await deployServices(targets, {...this.options(run), watch: watches.watch});
    } finally {
      watches.done();
    }
  }

  async rollback(specs: readonly EnvironmentSpec[], run: EngineRun, to?: number): Promise<ServiceDeployResult[]> {
    const {rollbackServices, rollbackTarget} = await import('@bcl/deploy-core/deploy');
    const targets = specs.map(rollbackTarget);
    const watches = await this.keptWatches();
    try {
      return await rollbackServices(targets, {...this.options(run), watch: watches.watch}, to);
    } finally {
      watches.done();
    }
  }

  async status(spec: EnvironmentSpec): Promise<ServiceStatus> {
    const {serviceStatus} = await import('@bcl/deploy-core/deploy');
    return serviceStatus(await this.connect(spec), spec);
  }

  async history(spec: EnvironmentSpec): Promise<RevisionRecord[]> {
    const {DeployHistory, readLeaseState, withAbandoned} = await import('@bcl/deploy-core/deploy');
    const clients = await this.connect(spec);
    const [records, lease] = await Promise.all([new DeployHistory(clients, spec.namespace, spec.name, spec.environment).list(), readLeaseState(clients, spec.namespace, spec.name, spec.environment)]);
    // A record left "in-progress" by a run that died is shown as abandoned, never as running.
    return withAbandoned(records, lease);
  }

  async diff(target: DeployTarget): Promise<ServiceDiff> {
    const {diffService, withMonitoring} = await import('@bcl/deploy-core/deploy');
    const clients = await this.connect(target.spec);
    const full = await withMonitoring(clients, target);
    return diffService(clients, target.spec, full.rendered);
  }

  private async jenkins(spec: ServiceSpec, name: string | undefined, signal?: AbortSignal) {
    const names = Object.keys(this.config.jenkins);
    const chosen = name ?? spec.build.jenkins ?? (names.length === 1 ? names[0] : undefined);
    if (!chosen || !this.config.jenkins[chosen]) {
      throw invalidInput('svctl.jenkins_not_configured', chosen ? `svapp has no Jenkins server ${chosen}` : names.length === 0 ? 'svapp has no Jenkins server configured' : `several Jenkins servers are configured in svapp (${names.sort().join(', ')}); choose one with --jenkins`, {
        hint: names.length > 0 ? `svapp's Jenkins servers: ${names.sort().join(', ')}.` : 'The platform team adds one to svapp (jenkins.<name>).',
      });
    }
    const server = this.config.jenkins[chosen];
    let token: string;
    try {
      token = readSecret(`jenkins.${chosen}.token`, server.token, this.env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw unavailable('svapp.jenkins_credentials', `svapp cannot read its credentials for Jenkins ${chosen}: ${error.message}`, {hint: "The platform team fixes svapp's configuration (`svapp check` names the problem)."});
    }
    this.redactor.add(token);
    this.redactor.add(Buffer.from(`${server.user}:${token}`).toString('base64'));
    const [{JenkinsApi, jobName}, {HttpClient}] = await Promise.all([import('@bcl/deploy-core/jenkins'), import('@bcl/core/http')]);
    // Retries are JenkinsApi's; the console log is read through the same client, redacted alike.
    const http = new HttpClient({timeoutMs: 30_000, retries: 0, env: this.env, redactor: this.redactor, userAgent: `svapp node/${process.versions.node}`, ...(signal ? {signal} : {})});
    try {
      return {api: await JenkinsApi.connect({name: chosen, url: server.url.replace(/\/+$/, ''), user: server.user, token}, {signal, env: this.env, http}), job: jobName(spec), http};
    } catch (error) {
      await http.close();
      throw error;
    }
  }

  async build(run: BuildRun): Promise<BuildOutcome> {
    const {runBuild} = await import('@bcl/deploy-core/jenkins');
    const {api, job, http} = await this.jenkins(run.spec, run.jenkins, run.signal);
    try {
      return await runBuild(api, {job, parameters: run.parameters, follow: run.follow, showLog: true}, {events: run.events, live: false, signal: run.signal});
    } finally {
      // The client is this operation's: its kept-alive connections to Jenkins go with it.
      await http.close();
    }
  }

  async builds(spec: ServiceSpec, jenkins: string | undefined, limit: number): Promise<BuildList> {
    const {api, job, http} = await this.jenkins(spec, jenkins);
    const builds = await api.builds(job, limit).finally(() => http.close());
    return {
      jenkins: api.server.name,
      job,
      builds: builds.map((b) => ({number: b.number, building: b.building, result: b.result, durationMs: b.durationMs, gitSha: b.gitSha, imageTag: b.parameters.IMAGE_TAG || null, env: b.parameters.ENV || null, startedAt: new Date(b.timestamp).toISOString(), url: b.url})),
    };
  }

  async close(): Promise<void> {
    if (this.#watchSweeper) clearInterval(this.#watchSweeper);
    this.#watchSweeper = undefined;
    const watches = [...this.#watches.values()];
    this.#watches.clear();
    await Promise.all(watches.map((w) => w.watch.stop()));
    this.#connections.clear();
  }
}

/**
 * What a cluster's kubeconfig holds now (a digest of its files' contents), so a rewritten file (a
 * rotated token, a mounted Secret updated) is noticed at the next operation. Empty for the
 * library's default lookup, which is read once.
 */
function kubeconfigStamp(kubeconfig: string | undefined): string {
  if (!kubeconfig) return '';
  const hash = createHash('sha256');
  for (const file of kubeconfig.split(':').filter(Boolean)) {
    try {
      hash.update(readFileSync(file)).update('\0');
    } catch {
      // Unreadable now: connecting again reports it the way a first connection does.
      hash.update(`unreadable ${file}\0`);
    }
  }
  return hash.digest('hex');
}
