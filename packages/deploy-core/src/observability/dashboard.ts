// Grafana's published dashboard model (the raw schema types: what is stored and sent as JSON).
import type {Dashboard, Panel, RowPanel, VariableModel} from '@grafana/schema/dist/esm/raw/dashboard/x/Dashboard_types.gen';
import type {ServiceSpec} from '../spec/index.js';
import {METRICS, selectors} from './metrics.js';

/** The dashboard schema version svctl writes: Grafana's current one (@grafana/schema's defaultDashboard). */
export const SCHEMA_VERSION = 42;

const DS = {type: 'prometheus', uid: '${datasource}'};
const WIDTH = 24;

/** The tags of a deploy annotation (posted by postDeployAnnotation); the dashboard shows them. */
export const DEPLOY_TAGS = (service: string): string[] => ['svctl-deploy', `service:${service}`];

/** Grafana's dashboard uid for a service: stable, so pushes update the same dashboard. */
export function dashboardUid(spec: Pick<ServiceSpec, 'name'>): string {
  return `svctl-${spec.name}`.slice(0, 40);
}

/**
 * The service's Grafana dashboard: traffic, errors against the SLO, latency percentiles against
 * the latency objective, CPU and memory against the limits, pod restarts, and deploys as
 * annotations. Variables pick the Prometheus data source and the namespace (environment).
 * `limits` are the spec's resource limits, shown in panel descriptions.
 */
export function renderDashboard(spec: ServiceSpec, limits: {cpu: string; memory: string}): Dashboard {
  const sel = selectors(spec, 'namespace="$namespace"');
  const pods = `namespace="$namespace", pod=~"${sel.podRegex}"`;
  const container = `${pods}, container!="", container!="POD"`;
  const slo = spec.slo;
  const errorBudget = 1 - slo.availability / 100;
  let id = 0;
  let y = 0;
  const panels: (Panel | RowPanel)[] = [];
  const row = (title: string) => {
    panels.push({type: 'row', title, id: ++id, collapsed: false, panels: [], gridPos: {h: 1, w: WIDTH, x: 0, y}});
    y += 1;
  };
  const place = (width: number, height: number, list: Panel[]) => {
    let x = 0;
    for (const panel of list) {
      panel.gridPos = {h: height, w: width, x, y};
      panel.id = ++id;
      x += width;
      panels.push(panel);
    }
    y += height;
  };

  row('Service level');
  place(6, 5, [
    stat('Availability (SLO window)', `Share of non-5xx answers over ${slo.windowDays} days; objective ${slo.availability}%.`, `1 - (sum(increase(${METRICS.requests}{${sel.errors}}[${slo.windowDays}d])) / sum(increase(${METRICS.requests}{${sel.service}}[${slo.windowDays}d])))`, 'percentunit', [
      {color: 'red', value: null},
      {color: 'green', value: slo.availability / 100},
    ]),
    stat('Error budget left', `What remains of the ${slo.windowDays}-day error budget (${(errorBudget * 100).toPrecision(3)}% of requests).`, `1 - ((sum(increase(${METRICS.requests}{${sel.errors}}[${slo.windowDays}d])) / sum(increase(${METRICS.requests}{${sel.service}}[${slo.windowDays}d]))) / ${errorBudget})`, 'percentunit', [
      {color: 'red', value: null},
      {color: 'orange', value: 0.25},
      {color: 'green', value: 0.5},
    ]),
    stat('Requests per second', 'All answers, last 5 minutes.', `sum(rate(${METRICS.requests}{${sel.service}}[5m]))`, 'reqps', [{color: 'green', value: null}]),
    stat('Ready pods', 'Pods of the service that pass their readiness probe.', `sum(kube_pod_status_ready{${pods}, condition="true"})`, 'none', [
      {color: 'red', value: null},
      {color: 'green', value: 1},
    ]),
  ]);

  row('Traffic, errors, latency');
  place(8, 8, [
    timeseries('Request rate', 'Answers per second by HTTP status.', 'reqps', [{expr: `sum by (${METRICS.statusLabel}) (rate(${METRICS.requests}{${sel.service}}[$__rate_interval]))`, legend: `{{${METRICS.statusLabel}}}`}]),
    timeseries(
      'Error ratio',
      `Share of 5xx answers; the dashed line is the error budget rate of the ${slo.availability}% objective.`,
      'percentunit',
      [
        {expr: `sum(rate(${METRICS.requests}{${sel.errors}}[$__rate_interval])) / sum(rate(${METRICS.requests}{${sel.service}}[$__rate_interval]))`, legend: '5xx ratio'},
        {expr: `vector(${errorBudget})`, legend: 'error budget rate'},
      ],
      {dashedSeries: 'error budget rate'},
    ),
    timeseries(
      'Latency p50 / p95 / p99',
      `Request latency percentiles; objective: ${slo.latencyObjective}% under ${slo.latencyThresholdMs} ms.`,
      's',
      [0.5, 0.95, 0.99].map((q) => ({expr: `histogram_quantile(${q}, sum by (le) (rate(${METRICS.duration}_bucket{${sel.service}}[$__rate_interval])))`, legend: `p${Math.round(q * 100)}`})),
      {threshold: slo.latencyThresholdMs / 1000},
    ),
  ]);

  row('Resources');
  place(8, 8, [
    timeseries(
      'CPU against limit',
      `CPU used per pod, and the limit per pod (${limits.cpu}).`,
      'short',
      [
        {expr: `sum by (pod) (rate(container_cpu_usage_seconds_total{${container}}[$__rate_interval]))`, legend: '{{pod}}'},
        {expr: `max(kube_pod_container_resource_limits{${container}, resource="cpu"})`, legend: 'limit'},
      ],
      {dashedSeries: 'limit'},
    ),
    timeseries(
      'Memory against limit',
      `Working set per pod, and the limit per pod (${limits.memory}).`,
      'bytes',
      [
        {expr: `sum by (pod) (container_memory_working_set_bytes{${container}})`, legend: '{{pod}}'},
        {expr: `max(kube_pod_container_resource_limits{${container}, resource="memory"})`, legend: 'limit'},
      ],
      {dashedSeries: 'limit'},
    ),
    timeseries('Pod restarts', 'Container restarts per pod (a crash loop shows as a staircase).', 'none', [
      {expr: `sum by (pod) (increase(kube_pod_container_status_restarts_total{${container}}[$__rate_interval]))`, legend: '{{pod}}'},
    ]),
  ]);

  const templating: VariableModel[] = [
    {type: 'datasource', name: 'datasource', label: 'Data source', query: 'prometheus', hide: 0 as never, refresh: 1 as never, regex: '', skipUrlSync: false, options: []},
    {
      type: 'query',
      name: 'namespace',
      label: 'Environment (namespace)',
      datasource: DS,
      query: {query: `label_values(${METRICS.requests}{service="${spec.name}"}, namespace)`, refId: 'namespace'},
      hide: 0 as never,
      refresh: 2 as never,
      sort: 1 as never,
      regex: '',
      skipUrlSync: false,
      includeAll: false,
      multi: false,
      options: [],
    },
  ];

  return {
    uid: dashboardUid(spec),
    title: `${spec.name} (${spec.team})`,
    description: spec.description ?? `Service ${spec.name}, generated by svctl from service.yaml.`,
    tags: ['svctl', `team:${spec.team}`, `service:${spec.name}`],
    editable: false,
    graphTooltip: 1 as never,
    fiscalYearStartMonth: 0,
    links: [],
    liveNow: false,
    refresh: '1m',
    schemaVersion: SCHEMA_VERSION,
    time: {from: 'now-6h', to: 'now'},
    timepicker: {},
    timezone: 'browser',
    weekStart: '',
    templating: {list: templating},
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: {type: 'grafana', uid: '-- Grafana --'},
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
        {
          datasource: {type: 'grafana', uid: '-- Grafana --'},
          enable: true,
          hide: false,
          iconColor: 'purple',
          name: 'Deploys',
          target: {type: 'tags', tags: DEPLOY_TAGS(spec.name), limit: 100, matchAny: false},
        },
      ],
    },
    panels,
  };
}

interface Target {
  expr: string;
  legend: string;
}

function targets(list: Target[]): Record<string, unknown>[] {
  return list.map((t, i) => ({datasource: DS, expr: t.expr, legendFormat: t.legend, range: true, refId: String.fromCharCode(65 + i)}));
}

function timeseries(title: string, description: string, unit: string, list: Target[], extra: {dashedSeries?: string; threshold?: number} = {}): Panel {
  const overrides = extra.dashedSeries
    ? [
        {
          matcher: {id: 'byName', options: extra.dashedSeries},
          properties: [
            {id: 'custom.lineStyle', value: {fill: 'dash', dash: [10, 10]}},
            {id: 'color', value: {mode: 'fixed', fixedColor: 'red'}},
          ],
        },
      ]
    : [];
  return {
    type: 'timeseries',
    title,
    description,
    datasource: DS,
    targets: targets(list),
    fieldConfig: {
      defaults: {
        unit,
        min: 0,
        color: {mode: 'palette-classic' as never},
        custom: {drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never', spanNulls: false, ...(extra.threshold !== undefined ? {thresholdsStyle: {mode: 'dashed'}} : {})},
        thresholds: {mode: 'absolute' as never, steps: extra.threshold !== undefined ? [{color: 'green', value: null as unknown as number}, {color: 'red', value: extra.threshold}] : [{color: 'green', value: null as unknown as number}]},
      },
      overrides,
    },
    options: {
      legend: {showLegend: true, displayMode: 'list', placement: 'bottom', calcs: []},
      tooltip: {mode: 'multi', sort: 'desc'},
    },
  };
}

function stat(title: string, description: string, expr: string, unit: string, steps: {color: string; value: number | null}[]): Panel {
  return {
    type: 'stat',
    title,
    description,
    datasource: DS,
    targets: targets([{expr, legend: title}]),
    fieldConfig: {
      defaults: {unit, decimals: unit === 'percentunit' ? 3 : undefined, color: {mode: 'thresholds' as never}, thresholds: {mode: 'absolute' as never, steps: steps as {color: string; value: number}[]}},
      overrides: [],
    },
    options: {
      reduceOptions: {calcs: ['lastNotNull'], fields: '', values: false},
      orientation: 'auto',
      textMode: 'auto',
      colorMode: 'value',
      graphMode: 'area',
      justifyMode: 'auto',
      wideLayout: true,
      showPercentChange: false,
      percentChangeColorMode: 'standard',
    },
  };
}
