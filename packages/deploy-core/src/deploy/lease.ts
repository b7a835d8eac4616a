import {conflict} from '@bcl/core/errors';
import {type KubeClients, kubeError, statusOf} from '../kube/index.js';
import {LABELS, MANAGED_BY} from '../spec/index.js';
import type {LeaseState} from './history.js';

/** How long a lease holds without renewal: a killed deploy blocks others at most this long. */
export const LEASE_SECONDS = 30;
/** Never believe a lease longer than this, whatever duration its holder wrote. */
const MAX_TRUSTED_SECONDS = 300;

export interface LeaseHolder {
  holder: string;
  acquiredAt: string | undefined;
  renewedAt: string | undefined;
  expiresAt: string | undefined;
}

/** The Lease name of a service in an environment. */
export function leaseName(service: string, environment: string): string {
  return `svctl-deploy-${service}-${environment}`;
}

/** Whether a lease is held right now (renewed within its duration), by whom, last renewed when. */
export async function readLeaseState(clients: KubeClients, namespace: string, service: string, environment: string, now: Date = new Date()): Promise<LeaseState & {since?: string | undefined}> {
  let lease: LeaseObject | undefined;
  try {
    lease = (await clients.objects.read({apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: {name: leaseName(service, environment), namespace}})) as unknown as LeaseObject;
  } catch (error) {
    if (statusOf(error) === 404) return {live: false};
    throw kubeError(error, `reading the deploy lease ${namespace}/${leaseName(service, environment)}`, clients.server);
  }
  const held = describe(lease);
  const live = Boolean(lease.spec.holderIdentity) && held.expiresAt !== undefined && new Date(held.expiresAt).getTime() > now.getTime();
  return {live, holder: lease.spec.holderIdentity || undefined, renewedAt: held.renewedAt, since: held.acquiredAt};
}

/** MicroTime as the API server writes it (RFC 3339 with microseconds). */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

interface LeaseObject {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: {name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string>};
  spec: {holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number};
}

/**
 * The deploy lock of one service in one environment: a coordination.k8s.io Lease, renewed
 * while the deploy runs, released at the end. A lease whose holder stopped renewing (a killed
 * run) expires after LEASE_SECONDS and is taken over. Optimistic concurrency (resourceVersion)
 * makes two runs racing for it end with one holder.
 */
export class DeployLease {
  private timer: NodeJS.Timeout | undefined;
  private current: LeaseObject | undefined;
  private lost: Error | undefined;

  constructor(
    private readonly clients: KubeClients,
    readonly namespace: string,
    readonly name: string,
    readonly holder: string,
    private readonly labels: Record<string, string>,
    private readonly now: () => Date = () => new Date(),
    private readonly seconds = LEASE_SECONDS,
    private readonly options: {takeOver?: (holder: string) => boolean} = {},
  ) {}

  /** Takes the lease, or fails with exit 6 naming the holder and when it expires. */
  async acquire(): Promise<{takenOver?: LeaseHolder}> {
    // A released lease is deleted, so there is usually none: create it at once, and read only
    // when one exists (409), as before.
    try {
      this.current = (await this.clients.objects.create(this.body() as never)) as LeaseObject;
      this.startRenewing();
      return {};
    } catch (error) {
      if (statusOf(error) !== 409) throw kubeError(error, `taking the deploy lease ${this.namespace}/${this.name}`, this.clients.server);
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = await this.read();
      const body = this.body();
      try {
        if (!existing) {
          this.current = (await this.clients.objects.create(body as never)) as LeaseObject;
          this.startRenewing();
          return {};
        }
        const held = describe(existing);
        const continued = Boolean(existing.spec.holderIdentity) && existing.spec.holderIdentity !== this.holder && this.options.takeOver?.(existing.spec.holderIdentity!) === true;
        if (existing.spec.holderIdentity && !this.expired(existing) && !continued) {
          throw conflict('svctl.deploy_locked', `a deploy of this service is already running: the lease ${this.namespace}/${this.name} is held by ${existing.spec.holderIdentity}${held.acquiredAt ? ` since ${held.acquiredAt}` : ''}`, {
            hint: `Wait for it to finish. If that run was killed, its lease expires at ${held.expiresAt ?? 'soon'} and the next deploy takes it over.`,
            details: {lease: `${this.namespace}/${this.name}`, ...held},
          });
        }
        body.metadata.resourceVersion = existing.metadata.resourceVersion;
        body.spec.leaseTransitions = (existing.spec.leaseTransitions ?? 0) + 1;
        this.current = (await this.clients.objects.replace(body as never)) as LeaseObject;
        this.startRenewing();
        return existing.spec.holderIdentity ? {takenOver: held} : {};
      } catch (error) {
        // Someone else created or changed it between our read and write: look again.
        if (statusOf(error) === 409) continue;
        throw kubeError(error, `taking the deploy lease ${this.namespace}/${this.name}`, this.clients.server);
      }
    }
    const existing = await this.read();
    throw conflict('svctl.deploy_locked', `another deploy took the lease ${this.namespace}/${this.name} at the same time${existing?.spec.holderIdentity ? ` (${existing.spec.holderIdentity})` : ''}`, {
      hint: 'Wait for that deploy to finish.',
    });
  }

  /** The lease as this holder takes it now. */
  private body(): LeaseObject {
    const now = this.now();
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {name: this.name, namespace: this.namespace, labels: {...this.labels, [LABELS.managedBy]: MANAGED_BY}},
      spec: {holderIdentity: this.holder, leaseDurationSeconds: this.seconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0},
    };
  }

  /** Set when a renewal found the lease taken by someone else; the deploy must stop. */
  get lostError(): Error | undefined {
    return this.lost;
  }

  /** Gives the lease up (deletes it, if it is still ours). Never throws. */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.current) return;
    const mine = this.current;
    this.current = undefined;
    try {
      await this.clients.coordination.deleteNamespacedLease({
        name: this.name,
        namespace: this.namespace,
        body: {preconditions: {resourceVersion: mine.metadata.resourceVersion}},
      });
    } catch (error) {
      // Renewed in between (resourceVersion moved) or already gone: look once more.
      const now = await this.read().catch(() => undefined);
      if (now?.spec.holderIdentity === this.holder) {
        await this.clients.coordination.deleteNamespacedLease({name: this.name, namespace: this.namespace}).catch(() => undefined);
      }
      void error;
    }
  }

  private expired(lease: LeaseObject): boolean {
    const renewed = lease.spec.renewTime ?? lease.spec.acquireTime;
    if (!renewed) return true;
    const seconds = Math.min(lease.spec.leaseDurationSeconds ?? this.seconds, MAX_TRUSTED_SECONDS);
    return new Date(renewed).getTime() + seconds * 1000 < this.now().getTime();
  }

  private async read(): Promise<LeaseObject | undefined> {
    try {
      return (await this.clients.objects.read({apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: {name: this.name, namespace: this.namespace}})) as unknown as LeaseObject;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw kubeError(error, `reading the deploy lease ${this.namespace}/${this.name}`, this.clients.server);
    }
  }

  private startRenewing(): void {
    this.timer = setInterval(() => void this.renew(), (this.seconds * 1000) / 3);
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    const mine = this.current;
    if (!mine) return;
    try {
      const body = {...mine, spec: {...mine.spec, renewTime: microTime(this.now())}};
      this.current = (await this.clients.objects.replace(body as never)) as LeaseObject;
    } catch (error) {
      if (statusOf(error) === 409 || statusOf(error) === 404) {
        const now = await this.read().catch(() => undefined);
        if (now && now.spec.holderIdentity === this.holder) {
          this.current = now;
          return;
        }
        this.lost = conflict('svctl.lease_lost', `the deploy lease ${this.namespace}/${this.name} was taken by ${now?.spec.holderIdentity ?? 'someone else'} while this deploy ran`, {
          hint: 'Another deploy took over (this one was not renewing in time); check `svctl status` and `svctl history`.',
        });
        if (this.timer) clearInterval(this.timer);
        this.current = undefined;
      }
      // Other errors (a network blip): the next renewal tries again well before expiry.
    }
  }
}

function describe(lease: LeaseObject): LeaseHolder {
  const renewed = lease.spec.renewTime ?? lease.spec.acquireTime;
  const seconds = Math.min(lease.spec.leaseDurationSeconds ?? LEASE_SECONDS, MAX_TRUSTED_SECONDS);
  return {
    holder: lease.spec.holderIdentity ?? '',
    acquiredAt: lease.spec.acquireTime ? new Date(lease.spec.acquireTime).toISOString() : undefined,
    renewedAt: renewed ? new Date(renewed).toISOString() : undefined,
    expiresAt: renewed ? new Date(new Date(renewed).getTime() + seconds * 1000).toISOString() : undefined,
  };
}
