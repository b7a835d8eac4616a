import type {ServiceSpec} from '../spec/index.js';

/**
 * The metric names and labels svctl's dashboards and alerts read (docs/svctl/observability.md):
 * the service's own HTTP metrics, scraped with the label `service="<name>"` (the Prometheus
 * operator sets it from the Kubernetes Service), and kube-state-metrics / cAdvisor series for
 * pods, containers and deployments.
 */
export const METRICS = {
  requests: 'http_requests_total',
  duration: 'http_request_duration_seconds',
  statusLabel: 'code',
} as const;

export interface ServiceSelectors {
  /** Selector of the service's HTTP series. */
  service: string;
  /** Selector of its 5xx series. */
  errors: string;
  /** Regex of its pod names (<deployment>-<replicaset hash>-<suffix>). */
  podRegex: string;
}

export function selectors(spec: Pick<ServiceSpec, 'name'>, extra = ''): ServiceSelectors {
  const more = extra ? `,${extra}` : '';
  return {
    service: `service="${spec.name}"${more}`,
    errors: `service="${spec.name}",${METRICS.statusLabel}=~"5.."${more}`,
    podRegex: `${spec.name}-[a-z0-9]{5,10}-[a-z0-9]{5}`,
  };
}

/** "1h", "30m", "3d": a Prometheus duration from hours. */
export function promDuration(hours: number): string {
  if (hours >= 24 && hours % 24 === 0) return `${hours / 24}d`;
  if (hours >= 1 && Number.isInteger(hours)) return `${hours}h`;
  return `${Math.round(hours * 60)}m`;
}
