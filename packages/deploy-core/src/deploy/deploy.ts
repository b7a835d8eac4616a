import {hostname, userInfo} from 'node:os';
import {type BclError, interrupted, invalidInput, toBclError} from '@bcl/core/errors';
import {type EventSink, startTask, type TaskHandle} from '../events.js';
import {connectEnvironment, fencedClients, type KubeClients, kubeError} from '../kube/index.js';
import {applySteps, type KubeObject, objectRef} from '../render/objects.js';
import type {RenderedService} from '../render/index.js';
import {ANNOTATIONS, type EnvironmentSpec, LABELS} from '../spec/index.js';
import {applyObject, checkOwnership, ensureNamespace, listOwned, pruneObjects} from './apply.js';
import {DeployHistory, type Outcome, previousGood, type RevisionRecord} from './history.js';
import {DeployLease, leaseName} from './lease.js';
import {lastLogLines, type PodLogs} from './logs.js';
import type {PodFailure} from './rules/index.js';
import {NamespaceWatch, type PodEvent, waitForRollout} from './watch.js';

/** One service to deploy: its effective spec for the environment and the rendered objects. */
export interface DeployTarget {
  spec: EnvironmentSpec;
  rendered: RenderedService;
  imageTag: string;
  gitSha?: string | undefined;
}

export interface DeployOptions {
  environment: string;
  timeoutMs: number;
  /** Roll back to the previous good revision when the rollout fails (default true). */
  rollback: boolean;
  signal: AbortSignal;
  /** Where phases, progress, pod events, warnings and results go (svctl: its progress board). */
  events: EventSink;
  /** The process environment (KUBECONFIG, CI variables). */
  env: Record<string, string | undefined>;
  now?: () => Date;
  /** Who deploys, for the history (default: user@host of `env`, and the CI build). */
  who?: string;
  /** Who holds the deploy lease while this runs (default: `<who> pid <pid>`). */
  leaseHolder?: string;
  /** A lease whose holder this accepts is taken over before it expires: the same operation, continued by another process. */
  takeOverLease?: (holder: string) => boolean;
  /**
   * The operation this run belongs to (svapp's id), written on the revisions it records: a run that
   * continues it (a takeover) rolls back to the revision the first run chose, even once that run's
   * rollback is itself the current revision.
   */
  operation?: string;
  /** How to reach a cluster (default: its kubeconfig context through `env`); a server passes the clients it keeps. */
  connect?: (spec: EnvironmentSpec) => Promise<KubeClients>;
  /** Called before every write to a cluster; throws once this run may write nothing more (it lost its lock elsewhere). */
  fence?: () => void;
  /** The watch of a namespace's rollouts; a server passes the watches it keeps warm (and stops), by the clients `connect` gave (never the fenced ones of a run). Default: one per run and namespace, stopped at the end. */
  watch?: (clients: KubeClients, namespace: string) => NamespaceWatch;
}

export type ServiceOutcome = 'succeeded' | 'failed' | 'rolled-back' | 'rollback-failed' | 'interrupted' | 'locked' | 'error';

export interface RollbackReport {
  revision: number;
  /** The revision whose manifests were re-applied. */
  toRevision: number;
  image: string;
  outcome: 'succeeded' | 'failed' | 'interrupted';
  durationMs: number;
  message: string;
}

export interface FailureReport {
  reason: string;
  message: string;
  pods: PodFailure[];
  logs: PodLogs[];
  events: PodEvent[];
}

export interface ServiceDeployResult {
  service: string;
  environment: string;
  namespace: string;
  context: string;
  revision: number | null;
  image: string;
  imageTag: string;
  gitSha: string | null;
  outcome: ServiceOutcome;
  durationMs: number;
  applied: {ref: string; action: string}[];
  pruned: string[];
  message: string;
  failure?: FailureReport;
  rollback?: RollbackReport;
  /** For outcome "error" and "locked": the error's code and exit code. */
  error?: {code: string; exitCode: number; hint?: string};
}

/** Who deploys: user@host, and the CI build when there is one. */
export function deployer(env: Record<string, string | undefined>): string {
  let user = env.USER ?? env.LOGNAME;
  try {
    user ??= userInfo().username;
  } catch {
    user ??= 'unknown';
  }
  const ci = env.BUILD_URL ?? env.CI_JOB_URL;
  return `${user}@${hostname()}${ci ? ` (${ci})` : ''}`;
}

/**
 * Deploys services to one environment, in parallel, with one progress board. Per service:
 * namespace, lease, ownership check, a history record, server-side apply in kapp order, a
 * watched rollout with fail-fast, pruning, and on failure an automatic rollback that is itself
 * waited for. Never throws for one service's failure: each result says what happened.
 */
export function deployServices(targets: readonly DeployTarget[], options: DeployOptions): Promise<ServiceDeployResult[]> {
  return forEachService(targets, options, (d) => d.run());
}

/** Rolls services back to a revision of their history (default: the previous good one with another image). */
export function rollbackServices(targets: readonly DeployTarget[], options: DeployOptions, to?: number): Promise<ServiceDeployResult[]> {
  return forEachService(targets, options, (d) => d.runRollback(to));
}

async function forEachService(targets: readonly DeployTarget[], options: DeployOptions, action: (d: ServiceDeploy) => Promise<ServiceDeployResult>): Promise<ServiceDeployResult[]> {
  const watches = new Map<string, NamespaceWatch>();
  const connections = new Map<string, Promise<KubeClients>>();
  const connectFor = (spec: EnvironmentSpec) => {
    const key = spec.context ?? '';
    if (!connections.has(key)) connections.set(key, options.connect ? options.connect(spec) : connectEnvironment(spec, options.env));
    return connections.get(key)!;
  };
  const monitoringKinds = new Map<KubeClients, Promise<{serviceMonitor: boolean; prometheusRule: boolean}>>();
  const watchFor = (clients: KubeClients, namespace: string) => {
    if (options.watch) return options.watch(clients, namespace);
    const key = `${clients.context}/${namespace}`;
    if (!watches.has(key)) watches.set(key, new NamespaceWatch(clients, namespace));
    return watches.get(key)!;
  };
  try {
    return await Promise.all(
      targets.map(async (target) => {
        const task = startTask(options.events, targets.length > 1 ? `${target.spec.name}` : `${target.spec.name} (${target.spec.environment})`, 'connecting');
        // The connection as made, for what only reads (the rollout's watch, the monitoring kinds:
        // kept and shared by identity); the run's writes go through the fence.
        let connection: KubeClients;
        try {
          connection = await connectFor(target.spec);
        } catch (error) {
          const e = toBclError(error);
          task.done(false, e.message);
          return errorResult(target, '', e, 0);
        }
        let full = target;
        try {
          full = await withMonitoring(connection, target, monitoringKinds);
        } catch (error) {
          const e = toBclError(error);
          task.done(false, e.message);
          return errorResult(target, connection.context, e, 0);
        }
        const clients = options.fence ? fencedClients(connection, options.fence) : connection;
        return action(new ServiceDeploy(clients, full, options, task, watchFor(connection, target.spec.namespace)));
      }).map((done) =>
        done.then((result) => {
          options.events.emit({type: 'result', service: result.service, result});
          return result;
        }),
      ),
    );
  } finally {
    options.events.emit({type: 'tasks-ended'});
    await Promise.all([...watches.values()].map((w) => w.stop()));
  }
}

/**
 * Adds the ServiceMonitor and PrometheusRule of a service that exposes metrics, when the cluster
 * serves the Prometheus operator's kinds (asked once per cluster through API discovery).
 */
export async function withMonitoring(clients: KubeClients, target: DeployTarget, cache?: Map<KubeClients, Promise<{serviceMonitor: boolean; prometheusRule: boolean}>>): Promise<DeployTarget> {
  if (!target.spec.metrics.enabled || target.rendered.objects.length === 0) return target;
  const {detectMonitoringKinds, monitoringObjects} = await import('../observability/service-monitor.js');
  let kinds = cache?.get(clients);
  if (!kinds) {
    kinds = detectMonitoringKinds(clients).catch((error: unknown) => {
      throw kubeError(error, 'asking the cluster whether it serves the Prometheus operator kinds', clients.server);
    });
    cache?.set(clients, kinds);
  }
  const found = await kinds;
  if (!found.serviceMonitor && !found.prometheusRule) return target;
  const {renderAlertRules} = await import('../observability/alerts.js');
  const extraObjects = monitoringObjects(target.spec, found, found.prometheusRule ? renderAlertRules(target.spec as never) : undefined);
  const {renderService} = await import('../render/index.js');
  return {...target, rendered: renderService(target.spec, {imageTag: target.imageTag, extraObjects})};
}

function errorResult(target: DeployTarget, context: string, error: BclError, durationMs: number, extra: Partial<ServiceDeployResult> = {}): ServiceDeployResult {
  return {
    service: target.spec.name,
    environment: target.spec.environment,
    namespace: target.spec.namespace,
    context,
    revision: null,
    image: target.rendered.image,
    imageTag: target.imageTag,
    gitSha: target.gitSha ?? null,
    outcome: error.code === 'svctl.deploy_locked' ? 'locked' : error.exitCode === 130 ? 'interrupted' : 'error',
    durationMs,
    applied: [],
    pruned: [],
    message: error.message,
    error: {code: error.code, exitCode: error.exitCode, ...(error.hint ? {hint: error.hint} : {})},
    ...extra,
  };
}

/** One service's deploy, from lease to release. */
class ServiceDeploy {
  private readonly started = Date.now();
  private readonly now: () => Date;
  private readonly history: DeployHistory;
  private readonly lease: DeployLease;
  private readonly who: string;

  constructor(
    private readonly clients: KubeClients,
    private readonly target: DeployTarget,
    private readonly options: DeployOptions,
    private readonly task: TaskHandle,
    private readonly watch: NamespaceWatch,
  ) {
    this.now = options.now ?? (() => new Date());
    const {spec} = target;
    this.history = new DeployHistory(clients, spec.namespace, spec.name, spec.environment);
    this.who = options.who ?? deployer(options.env);
    this.lease = new DeployLease(clients, spec.namespace, leaseName(spec.name, spec.environment), options.leaseHolder ?? `${this.who} pid ${process.pid}`, {[LABELS.name]: spec.name, [LABELS.environment]: spec.environment}, undefined, undefined, {
      ...(options.takeOverLease ? {takeOver: options.takeOverLease} : {}),
    });
  }

  async run(): Promise<ServiceDeployResult> {
    const {spec} = this.target;
    let record: RevisionRecord | undefined;
    let applied: {ref: string; action: string}[] = [];
    try {
      this.task.update(`checking namespace ${spec.namespace}`);
      await ensureNamespace(this.clients, spec.namespace, {[LABELS.team]: spec.team});
      this.task.update('taking the deploy lease');
      const objects = this.target.rendered.objects;
      // Listed while abandoned runs are marked, once the lease is held (before it, another deploy may still change them).
      const owned = await this.takeLease(() => listOwned(this.clients, spec.namespace, spec.name, spec.environment, objects));
      if (this.options.signal.aborted) throw new Interrupted();
      const history = await this.history.list();
      await checkOwnership(this.clients, objects, owned, spec.name, spec.environment);

      record = await this.history.begin(
        {kind: 'deploy', image: this.target.rendered.image, imageTag: this.target.imageTag, ...(this.target.gitSha ? {gitSha: this.target.gitSha} : {}), who: this.who, ...this.operationMark(), startedAt: new Date(this.started).toISOString(), outcome: 'in-progress', applied: []},
        objects,
      );
      const attempt = await this.applyAndWait(withRevision(objects, record.revision), owned, `revision ${record.revision}`, record.revision);
      applied = attempt.applied;
      const durationMs = Date.now() - this.started;
      if (attempt.outcome === 'succeeded') {
        await this.history.update(record.revision, {outcome: 'succeeded', finishedAt: this.now().toISOString(), durationMs, applied: applied.map((a) => a.ref), pruned: attempt.pruned});
        this.task.done(true, `revision ${record.revision} ${changeSummary(applied, attempt.pruned)} in ${seconds(durationMs)}`);
        return this.result(record.revision, 'succeeded', durationMs, applied, attempt.pruned, attempt.message);
      }
      const lost = this.lease.lostError;
      if (lost) {
        // Another deploy owns the service now: record, and leave the cluster to it (no rollback).
        await this.history.update(record.revision, {outcome: 'failed', finishedAt: this.now().toISOString(), durationMs, applied: applied.map((a) => a.ref), message: lost.message}).catch(() => undefined);
        this.task.done(false, lost.message);
        return errorResult(this.target, this.clients.context, toBclError(lost), durationMs, {revision: record.revision, applied});
      }
      if (attempt.outcome === 'interrupted') {
        await this.history.update(record.revision, {outcome: 'interrupted', finishedAt: this.now().toISOString(), durationMs, applied: applied.map((a) => a.ref), message: attempt.message});
        this.task.done(false, `interrupted: applied ${applied.length} of ${objects.length} object(s)`);
        return this.result(record.revision, 'interrupted', durationMs, applied, [], attempt.message);
      }

      // Failed: find out why, record it, roll back.
      const failure = await this.failureReport(attempt);
      await this.history.update(record.revision, {outcome: 'failed', finishedAt: this.now().toISOString(), durationMs, applied: applied.map((a) => a.ref), message: failure.message});
      const result = this.result(record.revision, 'failed', durationMs, applied, [], failure.message);
      result.failure = failure;
      const good = previousGood(history, record.revision);
      if (!this.options.rollback || !good) {
        this.task.done(false, `revision ${record.revision} failed: ${failure.message}${good ? '' : ' (no earlier good revision to roll back to)'}`);
        return result;
      }
      const {failure: _rollbackFailure, ...report} = await this.rollbackTo(good, record.revision);
      result.rollback = report;
      result.outcome = result.rollback.outcome === 'succeeded' ? 'rolled-back' : result.rollback.outcome === 'interrupted' ? 'interrupted' : 'rollback-failed';
      result.durationMs = Date.now() - this.started;
      this.task.done(false, `revision ${record.revision} failed; rollback to revision ${good.revision} ${result.rollback.outcome}`);
      return result;
    } catch (error) {
      const e = error instanceof Interrupted ? interrupted('interrupted before anything was applied') : toBclError(error);
      const durationMs = Date.now() - this.started;
      if (record) {
        const outcome: Outcome = e.exitCode === 130 ? 'interrupted' : 'failed';
        await this.history.update(record.revision, {outcome, finishedAt: this.now().toISOString(), durationMs, applied: applied.map((a) => a.ref), message: e.message}).catch(() => undefined);
      }
      this.task.done(false, e.message);
      return errorResult(this.target, this.clients.context, e, durationMs, record ? {revision: record.revision, applied} : {});
    } finally {
      await this.lease.release();
    }
  }

  /**
   * Takes the lease; a run whose lease it took over (or any run still "in progress" in the
   * history: only lease holders write records) died, and its revision is recorded as abandoned.
   * `alongside` (reads that need the lease held) runs meanwhile; both are waited for, whatever
   * fails, so nothing is still writing once the lease is released.
   */
  private async takeLease<T>(alongside: () => Promise<T> = async () => undefined as T): Promise<T> {
    const {spec} = this.target;
    const {takenOver} = await this.lease.acquire();
    if (takenOver) this.warn(`${spec.name}: took over the expired deploy lease of ${takenOver.holder} (last renewed ${takenOver.renewedAt ?? 'never'})`);
    const previous = takenOver ? {live: false, holder: takenOver.holder, renewedAt: takenOver.renewedAt} : {live: false};
    const marking = (async () => {
      for (const r of await this.history.markAbandoned(previous, this.lease.holder, this.now())) {
        this.warn(`${spec.name}: revision ${r.revision} (${r.image}) never finished: recorded as abandoned${r.applied.length ? ` (it had applied ${r.applied.join(', ')})` : ''}`);
      }
    })();
    const [marked, read] = await Promise.allSettled([marking, alongside()]);
    if (marked.status === 'rejected') throw marked.reason;
    if (read.status === 'rejected') throw read.reason;
    return read.value;
  }

  private warn(message: string): void {
    this.options.events.emit({type: 'warning', message});
  }

  /** Applies a set of objects, waits for the workload, prunes on success. */
  private async applyAndWait(objects: readonly KubeObject[], owned: ReadonlyMap<string, KubeObject>, label: string, revision: number): Promise<{outcome: 'succeeded' | 'failed' | 'timeout' | 'interrupted'; applied: {ref: string; action: string}[]; pruned: string[]; message: string; rolloutFailures: PodFailure[]; events: PodEvent[]; reason: string}> {
    const applied: {ref: string; action: string}[] = [];
    let deployment: KubeObject | undefined;
    // The watch lists and connects while the objects are applied.
    const watching = objects.some((o) => o.kind === 'Deployment') ? this.watch.start() : undefined;
    watching?.catch(() => undefined);
    // In steps (render/objects.ts): the objects of a step at once, the steps in apply order.
    let done = 0;
    for (const step of applySteps(objects)) {
      // Stop between steps, never inside one: what was applied is whole, and recorded.
      if (this.options.signal.aborted) return {outcome: 'interrupted', applied, pruned: [], message: `interrupted after applying ${applied.length} of ${objects.length} object(s)`, rolloutFailures: [], events: [], reason: 'Interrupted'};
      const which = step.length === 1 ? `${done + 1}/${objects.length}` : `${done + 1}-${done + step.length}/${objects.length}`;
      this.task.update(`${label}: applying ${which} ${step.map(objectRef).join(', ')}`);
      done += step.length;
      const results = await Promise.allSettled(step.map((object) => applyObject(this.clients, object, owned.get(objectRef(object)))));
      let failure: unknown;
      for (const [i, r] of results.entries()) {
        if (r.status === 'rejected') {
          failure ??= r.reason;
          continue;
        }
        applied.push({ref: r.value.ref, action: r.value.action});
        if (step[i]!.kind === 'Deployment') deployment = r.value.object;
      }
      // The first failure in apply order is the message; what the step applied besides is recorded.
      if (failure !== undefined) return {outcome: 'failed', applied, pruned: [], message: toBclError(failure).message, rolloutFailures: [], events: [], reason: 'ApplyFailed'};
    }
    if (deployment) {
      // What a run killed from here on had applied, for the one that finds it abandoned.
      await this.history.update(revision, {applied: applied.map((a) => a.ref)}).catch(() => undefined);
      this.task.update(`${label}: rolling out`);
      await watching;
      const wait = await waitForRollout(this.watch, {
        service: this.target.spec.name,
        deployment: deployment.metadata.name,
        generation: deployment.metadata.generation ?? 0,
        uid: deployment.metadata.uid,
        timeoutMs: this.options.timeoutMs,
        signal: this.options.signal,
        abortReason: () => this.lease.lostError,
        onProgress: (state, event) =>
          this.task.update(`${label}: ${state.message}${event && !state.failures.length ? ` · ${event.reason}: ${event.message}` : ''}`, {
            rollout: {...state.progress, done: state.done, ok: state.ok},
            ...(event ? {podEvent: event} : {}),
          }),
      });
      if (wait.outcome !== 'succeeded') {
        return {outcome: wait.outcome, applied, pruned: [], message: wait.message, rolloutFailures: wait.rollout?.failures ?? [], events: wait.events, reason: wait.outcome === 'timeout' ? 'Timeout' : wait.outcome === 'interrupted' ? 'Interrupted' : 'RolloutFailed'};
      }
    }
    this.task.update(`${label}: pruning`);
    const pruned = await pruneObjects(this.clients, owned, objects);
    return {outcome: 'succeeded', applied, pruned, message: 'rolled out', rolloutFailures: [], events: [], reason: ''};
  }

  private async failureReport(attempt: {message: string; rolloutFailures: PodFailure[]; events: PodEvent[]; reason: string}): Promise<FailureReport> {
    const fatal = attempt.rolloutFailures.filter((f) => f.fatal);
    const logs = fatal.length > 0 ? await lastLogLines(this.clients, this.target.spec.namespace, fatal) : [];
    return {reason: attempt.reason, message: attempt.message, pods: attempt.rolloutFailures, logs, events: attempt.events.filter((e) => e.type === 'Warning').slice(-5)};
  }

  /** Re-applies a good revision's manifests as a new revision, waits for it, and records it. */
  private async rollbackTo(good: RevisionRecord, failed?: number): Promise<RollbackReport & {failure?: FailureReport}> {
    const started = Date.now();
    const manifests = await this.history.manifests(good.revision);
    if (!manifests) {
      return {revision: 0, toRevision: good.revision, image: good.image, outcome: 'failed', durationMs: 0, message: `the history no longer holds the manifests of revision ${good.revision}`};
    }
    const {spec} = this.target;
    const record = await this.history.begin({kind: 'rollback', source: good.revision, image: good.image, imageTag: good.imageTag, ...(good.gitSha ? {gitSha: good.gitSha} : {}), who: this.who, ...this.operationMark(), startedAt: new Date(started).toISOString(), outcome: 'in-progress', applied: []}, manifests);
    if (failed !== undefined) await this.history.update(failed, {rolledBackBy: record.revision});
    const owned = await listOwned(this.clients, spec.namespace, spec.name, spec.environment, manifests);
    const attempt = await this.applyAndWait(withRevision(manifests, record.revision), owned, `rolling back to revision ${good.revision}`, record.revision);
    const durationMs = Date.now() - started;
    const outcome = attempt.outcome === 'succeeded' ? 'succeeded' : attempt.outcome === 'interrupted' ? 'interrupted' : 'failed';
    await this.history.update(record.revision, {outcome, finishedAt: this.now().toISOString(), durationMs, applied: attempt.applied.map((a) => a.ref), pruned: attempt.pruned, ...(outcome === 'succeeded' ? {} : {message: attempt.message})});
    const report: RollbackReport & {failure?: FailureReport} = {revision: record.revision, toRevision: good.revision, image: good.image, outcome, durationMs, message: attempt.message};
    if (outcome === 'failed') report.failure = await this.failureReport(attempt);
    return report;
  }

  /** `svctl rollback`: re-applies a good revision under the lease, as a new revision. */
  async runRollback(to?: number): Promise<ServiceDeployResult> {
    const {spec} = this.target;
    try {
      const where = `${spec.name} in ${spec.environment} (namespace ${spec.namespace}, context ${this.clients.context})`;
      if ((await this.history.list()).length === 0) throw invalidInput('svctl.no_history', `${where} has no deploy history`, {hint: 'Nothing was deployed there by svctl yet.'});
      this.task.update('taking the deploy lease');
      await this.takeLease();
      const history = await this.history.list(true);
      let good: RevisionRecord | undefined;
      const earlier = this.options.operation === undefined ? undefined : history.find((r) => r.kind === 'rollback' && r.operation === this.options.operation);
      if (to !== undefined) {
        good = history.find((r) => r.revision === to);
        if (!good) throw invalidInput('svctl.revision_unknown', `--to ${to}: ${where} has no revision ${to}`, {hint: `Known revisions: ${history.map((r) => r.revision).join(', ')} (svctl history).`});
        if (good.outcome !== 'succeeded') throw invalidInput('svctl.revision_not_good', `--to ${to}: revision ${to} ${good.outcome === 'in-progress' ? 'never finished' : good.outcome}; svctl only rolls back to a revision that rolled out`, {hint: 'Pick a succeeded revision from `svctl history`.'});
      } else if (earlier) {
        // This operation ran before (its replica stopped): the same target as then, not "the one
        // before the current", which that run's rollback may have become.
        good = history.find((r) => r.revision === earlier.source);
        if (!good) throw invalidInput('svctl.revision_unknown', `${where} no longer has revision ${earlier.source}, which this rollback chose when it started`, {hint: 'See `svctl history`; pass --to <revision> to choose one.'});
      } else {
        const current = [...history].reverse().find((r) => r.outcome === 'succeeded');
        good = current && ([...history].reverse().find((r) => r.revision < current.revision && r.outcome === 'succeeded' && r.image !== current.image) ?? previousGood(history, current.revision));
        if (!good) throw invalidInput('svctl.nothing_to_roll_back', `${where} has no earlier good revision to roll back to`, {hint: 'See `svctl history`; pass --to <revision> to choose one.'});
      }
      const report = await this.rollbackTo(good);
      const result = this.result(report.revision, report.outcome === 'succeeded' ? 'succeeded' : report.outcome === 'interrupted' ? 'interrupted' : 'failed', Date.now() - this.started, [], [], report.outcome === 'succeeded' ? `rolled back to revision ${good.revision}` : report.message);
      result.image = good.image;
      result.imageTag = good.imageTag;
      result.gitSha = good.gitSha ?? null;
      result.rollback = {revision: report.revision, toRevision: report.toRevision, image: report.image, outcome: report.outcome, durationMs: report.durationMs, message: report.message};
      if (report.failure) result.failure = report.failure;
      this.task.done(report.outcome === 'succeeded', `revision ${report.revision} = revision ${good.revision} (${good.image}): ${report.outcome} in ${seconds(report.durationMs)}`);
      return result;
    } catch (error) {
      const e = toBclError(error);
      this.task.done(false, e.message);
      return errorResult(this.target, this.clients.context, e, Date.now() - this.started);
    } finally {
      await this.lease.release();
    }
  }

  private operationMark(): {operation?: string} {
    return this.options.operation === undefined ? {} : {operation: this.options.operation};
  }

  private result(revision: number, outcome: ServiceOutcome, durationMs: number, applied: {ref: string; action: string}[], pruned: string[], message: string): ServiceDeployResult {
    const {spec} = this.target;
    return {
      service: spec.name,
      environment: spec.environment,
      namespace: spec.namespace,
      context: this.clients.context,
      revision,
      image: this.target.rendered.image,
      imageTag: this.target.imageTag,
      gitSha: this.target.gitSha ?? null,
      outcome,
      durationMs,
      applied,
      pruned,
      message,
    };
  }
}

class Interrupted extends Error {}

/** Marks the Deployment with the revision that applied it (metadata only: no new ReplicaSet). */
function withRevision(objects: readonly KubeObject[], revision: number): KubeObject[] {
  return objects.map((o) => (o.kind === 'Deployment' ? {...o, metadata: {...o.metadata, annotations: {...o.metadata.annotations, [ANNOTATIONS.revision]: String(revision)}}} : o));
}

function changeSummary(applied: readonly {action: string}[], pruned: readonly string[]): string {
  const count = (a: string) => applied.filter((x) => x.action === a).length;
  const parts = [`${count('created')} created`, `${count('configured')} changed`, `${count('unchanged')} unchanged`];
  if (pruned.length) parts.push(`${pruned.length} pruned`);
  return `rolled out (${parts.join(', ')})`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
