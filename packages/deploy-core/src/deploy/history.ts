import {gunzipSync, gzipSync} from 'node:zlib';
import type {KubeObject} from '../render/objects.js';
import {type KubeClients, kubeError, statusOf} from '../kube/index.js';
import {LABELS, MANAGED_BY} from '../spec/index.js';

/** How many revisions a history keeps (Helm keeps 10 by default). */
export const HISTORY_LIMIT = 20;

/** `abandoned`: the run died (kill -9, a lost machine) without finishing; it applies nothing more. */
export type Outcome = 'in-progress' | 'succeeded' | 'failed' | 'interrupted' | 'abandoned';

/** One deploy (or rollback) of a service to an environment. */
export interface RevisionRecord {
  revision: number;
  /** "deploy", or "rollback" to `source`. */
  kind: 'deploy' | 'rollback';
  /** For a rollback: the revision whose manifests it re-applied. */
  source?: number;
  image: string;
  imageTag: string;
  gitSha?: string;
  /** user@host, and the CI build when there is one. */
  who: string;
  /** The svapp operation that made it. */
  operation?: string;
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  outcome: Outcome;
  /** Why it failed or was interrupted. */
  message?: string;
  /** Objects applied ("Deployment/hello"): what an interrupted deploy left. */
  applied: string[];
  pruned?: string[];
  /** Set when an automatic rollback followed: the revision of the rollback. */
  rolledBackBy?: number;
  /** For an abandoned run: who held the deploy lease, when it last renewed it, and who took it over. */
  abandoned?: {holder: string; lastRenewedAt?: string; takenOverBy?: string; at: string};
}

/** The label marking svctl's own records (history), which pruning never selects. */
export const RECORD_LABEL = 'svctl.bcl.io/record';

export function historyName(service: string, environment: string): string {
  return `svctl-history-${service}-${environment}`;
}

const key = (n: number) => `revision-${String(n).padStart(6, '0')}`;

interface ConfigMapObject extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

/**
 * The deploy history of a service in an environment: a ConfigMap with one JSON record per
 * revision and the applied manifests (gzipped) of each, so a rollback re-applies exactly what
 * ran. Writes use resourceVersion; the deploy lease keeps writers to one.
 */
export class DeployHistory {
  private cm: ConfigMapObject | undefined;

  constructor(
    private readonly clients: KubeClients,
    readonly namespace: string,
    readonly service: string,
    readonly environment: string,
  ) {}

  get name(): string {
    return historyName(this.service, this.environment);
  }

  /** Every record, oldest first. */
  async list(fresh = false): Promise<RevisionRecord[]> {
    const cm = await this.load(fresh);
    return records(cm);
  }

  /** The manifests a revision applied, when the history still has them. */
  async manifests(revision: number): Promise<KubeObject[] | undefined> {
    const cm = await this.load();
    const data = cm?.binaryData?.[`${key(revision)}.manifests.gz`];
    if (!data) return undefined;
    return JSON.parse(gunzipSync(Buffer.from(data, 'base64')).toString('utf8')) as KubeObject[];
  }

  /** Adds a record with its manifests; returns it with its revision number. */
  async begin(record: Omit<RevisionRecord, 'revision'>, manifests: readonly KubeObject[]): Promise<RevisionRecord> {
    const cm = (await this.load()) ?? this.empty();
    const existing = records(cm);
    const revision = (existing.at(-1)?.revision ?? 0) + 1;
    const full: RevisionRecord = {...record, revision};
    const data = {...cm.data, [key(revision)]: JSON.stringify(full)};
    const binaryData = {...cm.binaryData, [`${key(revision)}.manifests.gz`]: gzipSync(JSON.stringify(manifests)).toString('base64')};
    // Keep the newest HISTORY_LIMIT revisions.
    for (const old of existing.slice(0, Math.max(0, existing.length + 1 - HISTORY_LIMIT))) {
      delete data[key(old.revision)];
      delete binaryData[`${key(old.revision)}.manifests.gz`];
    }
    await this.save({...cm, data, binaryData});
    return full;
  }

  /**
   * For the run that now holds the lease: every record still in progress belongs to a run that
   * died (only lease holders write records), so it is recorded as abandoned, naming the lease
   * holder it had. Returns the records it marked.
   */
  async markAbandoned(previous: LeaseState, takenOverBy: string, now: Date): Promise<RevisionRecord[]> {
    const stale = (await this.list(true)).filter((r) => r.outcome === 'in-progress');
    const marked: RevisionRecord[] = [];
    for (const r of stale) {
      const {revision: _revision, ...changes} = abandonedRecord(r, previous, now, takenOverBy);
      marked.push(await this.update(r.revision, {...changes, finishedAt: now.toISOString()}));
    }
    return marked;
  }

  /**
   * Updates a record (outcome, duration, applied objects...). The copy this run wrote or read
   * last is tried first: the write names its resourceVersion, so a copy someone changed since
   * fails with a conflict, and the history is read again.
   */
  async update(revision: number, changes: Partial<RevisionRecord>): Promise<RevisionRecord> {
    for (let attempt = 0; ; attempt++) {
      const cm = await this.load(attempt > 0);
      const current = cm?.data?.[key(revision)];
      if (!cm || !current) throw new Error(`revision ${revision} is not in the history ${this.namespace}/${this.name}`);
      const updated: RevisionRecord = {...(JSON.parse(current) as RevisionRecord), ...changes};
      try {
        await this.save({...cm, data: {...cm.data, [key(revision)]: JSON.stringify(updated)}});
        return updated;
      } catch (error) {
        if (attempt < 3 && (error as {exitCode?: number}).exitCode === 6) continue;
        throw error;
      }
    }
  }

  private empty(): ConfigMapObject {
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: this.name,
        namespace: this.namespace,
        labels: {
          [LABELS.managedBy]: MANAGED_BY,
          [LABELS.name]: this.service,
          [LABELS.environment]: this.environment,
          [RECORD_LABEL]: 'history',
        },
      },
      data: {},
      binaryData: {},
    };
  }

  private async load(fresh = false): Promise<ConfigMapObject | undefined> {
    if (this.cm && !fresh) return this.cm;
    try {
      this.cm = (await this.clients.objects.read({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: this.name, namespace: this.namespace}})) as ConfigMapObject;
      return this.cm;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw kubeError(error, `reading the deploy history ${this.namespace}/${this.name}`, this.clients.server);
    }
  }

  private async save(cm: ConfigMapObject): Promise<void> {
    try {
      const body = {apiVersion: 'v1', kind: 'ConfigMap', metadata: {...cm.metadata, managedFields: undefined}, data: cm.data, binaryData: cm.binaryData};
      this.cm = (cm.metadata.resourceVersion
        ? await this.clients.objects.replace(body as never)
        : await this.clients.objects.create(body as never)) as ConfigMapObject;
    } catch (error) {
      this.cm = undefined;
      throw kubeError(error, `writing the deploy history ${this.namespace}/${this.name}`, this.clients.server);
    }
  }
}

function records(cm: ConfigMapObject | undefined): RevisionRecord[] {
  return Object.entries(cm?.data ?? {})
    .filter(([k]) => /^revision-\d+$/.test(k))
    .map(([, v]) => JSON.parse(v) as RevisionRecord)
    .sort((a, b) => a.revision - b.revision);
}

/** The revision a failed deploy rolls back to: the newest that succeeded before it. */
export function previousGood(history: readonly RevisionRecord[], before: number): RevisionRecord | undefined {
  return [...history].reverse().find((r) => r.revision < before && r.outcome === 'succeeded');
}

/** What the deploy lease says right now, for telling a running deploy from a dead one. */
export interface LeaseState {
  /** Someone holds the lease and renewed it in time. */
  live: boolean;
  holder?: string | undefined;
  renewedAt?: string | undefined;
}

/**
 * The history as it really is: a record still "in-progress" whose run no longer holds the lease
 * (it expired or was released: the run died) is abandoned. With a live lease, only the newest
 * in-progress record can be the running deploy; older ones are abandoned too.
 */
export function withAbandoned(history: readonly RevisionRecord[], lease: LeaseState, now: Date = new Date()): RevisionRecord[] {
  const running = lease.live ? [...history].reverse().find((r) => r.outcome === 'in-progress')?.revision : undefined;
  return history.map((r) => (r.outcome !== 'in-progress' || r.revision === running ? r : abandonedRecord(r, lease, now)));
}

/** A dead run's record, marked abandoned (what it had applied stays as recorded). */
export function abandonedRecord(r: RevisionRecord, lease: LeaseState, now: Date, takenOverBy?: string): RevisionRecord {
  const holder = lease.holder ?? 'a deploy whose lease is gone';
  const last = lease.renewedAt ? `, last renewed ${lease.renewedAt}` : '';
  const applied = r.applied.length > 0 ? `after applying ${r.applied.join(', ')}` : 'before it recorded any applied object';
  return {
    ...r,
    outcome: 'abandoned',
    message: `abandoned: the run holding the deploy lease (${holder}${last}) stopped ${applied}${takenOverBy ? `; ${takenOverBy} took the lease over` : ''}`,
    abandoned: {holder, ...(lease.renewedAt ? {lastRenewedAt: lease.renewedAt} : {}), ...(takenOverBy ? {takenOverBy} : {}), at: now.toISOString()},
  };
}
