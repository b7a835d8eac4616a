// What deploys and dashboards need to know about monitoring: Prometheus alert rules from the SLO,
// the Grafana dashboard and its HTTP API (deploy annotations), ServiceMonitor/PrometheusRule.
export * from './alerts.js';
export * from './dashboard.js';
export * from './grafana.js';
export * from './metrics.js';
export * from './service-monitor.js';
