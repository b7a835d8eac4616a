import type {ServiceSpec} from '../spec/index.js';
import {METRICS, promDuration, selectors} from './metrics.js';

/** A Prometheus rule file: groups of recording and alerting rules. */
export interface RuleFile {
  groups: RuleGroup[];
}

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: (RecordingRule | AlertingRule)[];
}

export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/**
 * The burn-rate alert windows of the Google SRE workbook ("Alerting on SLOs", multiwindow,
 * multi-burn-rate): each pairs a long window with a short one (1/12 of it) so an alert both needs
 * a significant spend and stops soon after the spend stops. `budget` is the share of the error
 * budget spent in the long window that fires it; the burn factor follows from the SLO window.
 */
export const BURN_WINDOWS = [
  {severity: 'critical', longHours: 1, shortHours: 5 / 60, budget: 0.02},
  {severity: 'critical', longHours: 6, shortHours: 0.5, budget: 0.05},
  {severity: 'warning', longHours: 24, shortHours: 2, budget: 0.1},
  {severity: 'warning', longHours: 72, shortHours: 6, budget: 0.1},
] as const;

/** How many times faster than "exactly on budget" errors must come to spend `budget` in `longHours`. */
export function burnFactor(windowDays: number, longHours: number, budget: number): number {
  return Math.round(((budget * windowDays * 24) / longHours) * 1000) / 1000;
}

/** The record name of the error ratio over a window. */
export function errorRatioRecord(window: string): string {
  return `service:http_request_error_ratio:rate${window}`;
}

/**
 * Alerting rules for a service: error-budget burn for its availability SLO (fast burn pages,
 * slow burn opens a ticket), latency above the latency objective, crash-looping containers and
 * unavailable replicas. Series are aggregated by namespace, so each environment alerts apart.
 */
export function renderAlertRules(spec: ServiceSpec): RuleFile {
  const sel = selectors(spec);
  const slo = spec.slo;
  const budget = Math.round((1 - slo.availability / 100) * 1e9) / 1e9;
  const labels = {service: spec.name, team: spec.team};
  const windows = [...new Set(BURN_WINDOWS.flatMap((w) => [promDuration(w.longHours), promDuration(w.shortHours)]))];
  const recording: RecordingRule[] = windows.map((w) => ({
    record: errorRatioRecord(w),
    expr: `sum by (namespace) (rate(${METRICS.requests}{${sel.errors}}[${w}]))\n/\nsum by (namespace) (rate(${METRICS.requests}{${sel.service}}[${w}]))`,
    labels,
  }));
  const burnAlert = (severity: 'critical' | 'warning'): AlertingRule => {
    const pairs = BURN_WINDOWS.filter((w) => w.severity === severity).map((w) => {
      const factor = burnFactor(slo.windowDays, w.longHours, w.budget);
      const threshold = `(${factor} * ${budget})`;
      return `(\n  ${errorRatioRecord(promDuration(w.longHours))}{service="${spec.name}"} > ${threshold}\nand\n  ${errorRatioRecord(promDuration(w.shortHours))}{service="${spec.name}"} > ${threshold}\n)`;
    });
    const fast = severity === 'critical';
    return {
      alert: fast ? 'ErrorBudgetBurnFast' : 'ErrorBudgetBurnSlow',
      expr: pairs.join('\nor\n'),
      for: fast ? '2m' : '15m',
      labels: {severity, ...labels},
      annotations: {
        summary: `${spec.name} is burning its error budget ${fast ? 'fast' : 'steadily'} in {{ $labels.namespace }}`,
        description: `The share of 5xx answers of ${spec.name} spends the ${slo.availability}% availability objective's ${slo.windowDays}-day error budget ${fast ? 'within hours' : 'within days'} if it goes on.`,
      },
    };
  };
  const latencySeconds = slo.latencyThresholdMs / 1000;
  const alerts: AlertingRule[] = [
    burnAlert('critical'),
    burnAlert('warning'),
    {
      alert: 'HighLatency',
      expr: `histogram_quantile(${slo.latencyObjective / 100}, sum by (namespace, le) (rate(${METRICS.duration}_bucket{${sel.service}}[5m]))) > ${latencySeconds}`,
      for: '10m',
      labels: {severity: 'warning', ...labels},
      annotations: {
        summary: `${spec.name} answers slower than ${slo.latencyThresholdMs} ms at the ${slo.latencyObjective}th percentile in {{ $labels.namespace }}`,
        description: `The ${slo.latencyObjective}th percentile of request latency of ${spec.name} has been above the ${slo.latencyThresholdMs} ms objective for 10 minutes.`,
      },
    },
    {
      alert: 'CrashLooping',
      expr: `max by (namespace, pod, container) (max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", pod=~"${sel.podRegex}"}[5m])) >= 1`,
      for: '5m',
      labels: {severity: 'critical', ...labels},
      annotations: {
        summary: `A container of ${spec.name} is crash looping in {{ $labels.namespace }}`,
        description: `Container {{ $labels.container }} of pod {{ $labels.pod }} keeps restarting (CrashLoopBackOff) for 5 minutes; its last logs tell why.`,
      },
    },
    {
      alert: 'ReplicasUnavailable',
      expr: `max by (namespace, deployment) (kube_deployment_status_replicas_unavailable{deployment="${spec.name}"}) > 0`,
      for: '10m',
      labels: {severity: 'warning', ...labels},
      annotations: {
        summary: `${spec.name} has unavailable replicas in {{ $labels.namespace }}`,
        description: `Deployment {{ $labels.deployment }} has had replicas unavailable for 10 minutes (pending, not ready or crashing pods).`,
      },
    },
  ];
  return {
    groups: [
      {name: `${spec.name}.slo.recording`, rules: recording},
      {name: `${spec.name}.alerts`, rules: alerts},
    ],
  };
}

/** The rule file as YAML. */
export async function alertRulesYaml(rules: RuleFile, header: string): Promise<string> {
  const {stringify} = await import('yaml');
  return `${header}${stringify(rules, {lineWidth: 0, blockQuote: 'literal'})}`;
}
