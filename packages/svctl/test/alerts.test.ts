import {spawnSync} from 'node:child_process';
import {readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {isolatedHome, promtoolPath, repoRoot, runCli, tempDir} from '@bcl/testkit';
import {afterAll, describe, expect, it} from 'vitest';
import {alertRulesYaml, burnFactor, renderAlertRules} from '@bcl/deploy-core/observability';
import {parseSpec, RUNTIMES} from '@bcl/deploy-core/spec';
import {scaffoldSpecText} from '../src/templates/spec-text.js';

// Alert rules checked and unit-tested with the real promtool (Debian's prometheus package).
const work = tempDir('svctl-alerts-');
afterAll(() => work.remove());

function promtool(args: string[], cwd = work.path): {code: number; out: string} {
  const res = spawnSync(promtoolPath(), args, {cwd, encoding: 'utf8'});
  return {code: res.status ?? 1, out: `${res.stdout}${res.stderr}`};
}

/** Every sample spec: the examples, what `svctl init` writes for each runtime, and unusual SLOs. */
function sampleSpecs(): {name: string; text: string}[] {
  const examples = join(repoRoot, 'packages/svctl/examples');
  const out = readdirSync(examples, {withFileTypes: true})
    .filter((d) => d.isDirectory())
    .map((d) => ({name: `examples/${d.name}`, text: readFileSync(join(examples, d.name, 'service.yaml'), 'utf8')}));
  for (const runtime of RUNTIMES) out.push({name: `init ${runtime}`, text: scaffoldSpecText({name: `svc-${runtime}`, team: 'team-a', runtime})});
  out.push({
    name: 'strict SLO over 7 days',
    text: 'name: ledger\nteam: payments\nimage: registry.example.com/payments/ledger\nruntime: java\nslo: {availability: 99.99, latencyThresholdMs: 50, latencyObjective: 95, windowDays: 7}\n',
  });
  out.push({name: 'lenient SLO', text: 'name: batch-ui\nteam: data\nimage: registry.example.com/data/batch-ui\nruntime: static\nslo: {availability: 95, windowDays: 90}\n'});
  return out;
}

describe('promtool check rules', () => {
  it.each(sampleSpecs())('accepts the rules of $name', async ({name, text}) => {
    const spec = parseSpec(text);
    const file = join(work.path, `${spec.name}.rules.yaml`);
    writeFileSync(file, await alertRulesYaml(renderAlertRules(spec), `# ${name}\n`));
    const res = promtool(['check', 'rules', file]);
    expect(res.out).toContain('SUCCESS: 12 rules found');
    expect(res.code).toBe(0);
  });

  it('rejects a broken rule file (the check can fail)', () => {
    const file = join(work.path, 'broken.rules.yaml');
    writeFileSync(file, 'groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: sum(rate(x[5m]) >\n');
    expect(promtool(['check', 'rules', file]).code).not.toBe(0);
  });
});

describe('burn rates', () => {
  it('derives the SRE workbook factors from the SLO window', () => {
    expect(burnFactor(30, 1, 0.02)).toBe(14.4);
    expect(burnFactor(30, 6, 0.05)).toBe(6);
    expect(burnFactor(30, 24, 0.1)).toBe(3);
    expect(burnFactor(30, 72, 0.1)).toBe(1);
    expect(burnFactor(7, 1, 0.02)).toBe(3.36);
  });
});

describe('promtool test rules', () => {
  const spec = parseSpec(readFileSync(join(repoRoot, 'packages/svctl/examples/hello/service.yaml'), 'utf8'));
  const rules = renderAlertRules(spec);
  const annotations = (alert: string, labels: Record<string, string>) => {
    const rule = rules.groups.flatMap((g) => g.rules).find((r) => 'alert' in r && r.alert === alert) as {annotations: Record<string, string>};
    return Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, v.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_m, l: string) => labels[l] ?? '')]));
  };
  const base = {service: 'hello', team: 'platform'};

  it('pages on a fast burn, opens a ticket on a slow one, and stops paging soon after the errors stop', async () => {
    writeFileSync(join(work.path, 'hello.rules.yaml'), await alertRulesYaml(rules, ''));
    const labels = {...base, namespace: 'prod'};
    const critical = {exp_labels: {severity: 'critical', ...labels}, exp_annotations: annotations('ErrorBudgetBurnFast', labels)};
    const warning = {exp_labels: {severity: 'warning', ...labels}, exp_annotations: annotations('ErrorBudgetBurnSlow', labels)};
    const test = {
      rule_files: ['hello.rules.yaml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            // prod: 100 requests a minute, 10 of them 5xx for the first hour (10% errors, 100x the budget), then none.
            {series: 'http_requests_total{service="hello",namespace="prod",code="200"}', values: '0+90x180'},
            {series: 'http_requests_total{service="hello",namespace="prod",code="500"}', values: '0+10x60 600+0x120'},
            // staging: healthy, and another service failing: neither alerts for hello in staging.
            {series: 'http_requests_total{service="hello",namespace="staging",code="200"}', values: '0+100x180'},
            {series: 'http_requests_total{service="other",namespace="staging",code="500"}', values: '0+100x180'},
          ],
          alert_rule_test: [
            {eval_time: '1m', alertname: 'ErrorBudgetBurnFast', exp_alerts: []},
            {eval_time: '15m', alertname: 'ErrorBudgetBurnFast', exp_alerts: [critical]},
            {eval_time: '40m', alertname: 'ErrorBudgetBurnSlow', exp_alerts: [warning]},
            // Still paging 15 minutes after the errors stopped: the 6h/30m pair still sees them...
            {eval_time: '75m', alertname: 'ErrorBudgetBurnFast', exp_alerts: [critical]},
            // ...and no more once both short windows (5m, 30m) are clean...
            {eval_time: '95m', alertname: 'ErrorBudgetBurnFast', exp_alerts: []},
            // ...while the slow burn (2h short window) still holds.
            {eval_time: '95m', alertname: 'ErrorBudgetBurnSlow', exp_alerts: [warning]},
          ],
        },
      ],
    };
    writeFileSync(join(work.path, 'burn.test.yaml'), JSON.stringify(test, null, 2));
    const res = promtool(['test', 'rules', 'burn.test.yaml']);
    expect(res.out).toContain('SUCCESS');
    expect(res.code).toBe(0);
  });

  it('alerts on a crash-looping pod of the service only', async () => {
    writeFileSync(join(work.path, 'hello.rules.yaml'), await alertRulesYaml(rules, ''));
    const labels = {...base, namespace: 'prod', pod: 'hello-6d4cf56db6-x7k2p', container: 'hello'};
    const test = {
      rule_files: ['hello.rules.yaml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            {series: 'kube_pod_container_status_waiting_reason{namespace="prod",pod="hello-6d4cf56db6-x7k2p",container="hello",reason="CrashLoopBackOff"}', values: '0 0 1x30'},
            // A pod of the service "hello-world" must not raise hello's alert.
            {series: 'kube_pod_container_status_waiting_reason{namespace="prod",pod="hello-world-6d4cf56db6-abcde",container="app",reason="CrashLoopBackOff"}', values: '1x30'},
            {series: 'kube_pod_container_status_waiting_reason{namespace="prod",pod="hello-6d4cf56db6-q9w8e",container="hello",reason="ContainerCreating"}', values: '1x30'},
          ],
          alert_rule_test: [
            {eval_time: '4m', alertname: 'CrashLooping', exp_alerts: []},
            {eval_time: '10m', alertname: 'CrashLooping', exp_alerts: [{exp_labels: {severity: 'critical', ...labels}, exp_annotations: annotations('CrashLooping', labels)}]},
          ],
        },
      ],
    };
    writeFileSync(join(work.path, 'crash.test.yaml'), JSON.stringify(test, null, 2));
    const res = promtool(['test', 'rules', 'crash.test.yaml']);
    expect(res.out).toContain('SUCCESS');
    expect(res.code).toBe(0);
  });

  it('alerts on unavailable replicas and high latency', async () => {
    writeFileSync(join(work.path, 'hello.rules.yaml'), await alertRulesYaml(rules, ''));
    const dep = {...base, namespace: 'prod', deployment: 'hello'};
    const lat = {...base, namespace: 'prod'};
    const test = {
      rule_files: ['hello.rules.yaml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            {series: 'kube_deployment_status_replicas_unavailable{namespace="prod",deployment="hello"}', values: '0 0 1x20'},
            // Every request takes 0.5-1s: p99 is above the 250 ms objective.
            {series: 'http_request_duration_seconds_bucket{service="hello",namespace="prod",le="0.25"}', values: '0x30'},
            {series: 'http_request_duration_seconds_bucket{service="hello",namespace="prod",le="1"}', values: '0+60x30'},
            {series: 'http_request_duration_seconds_bucket{service="hello",namespace="prod",le="+Inf"}', values: '0+60x30'},
          ],
          alert_rule_test: [
            {eval_time: '15m', alertname: 'ReplicasUnavailable', exp_alerts: [{exp_labels: {severity: 'warning', ...dep}, exp_annotations: annotations('ReplicasUnavailable', dep)}]},
            {eval_time: '20m', alertname: 'HighLatency', exp_alerts: [{exp_labels: {severity: 'warning', ...lat}, exp_annotations: annotations('HighLatency', lat)}]},
          ],
        },
      ],
    };
    writeFileSync(join(work.path, 'other.test.yaml'), JSON.stringify(test, null, 2));
    const res = promtool(['test', 'rules', 'other.test.yaml']);
    expect(res.out).toContain('SUCCESS');
    expect(res.code).toBe(0);
  });
});

describe('svctl alerts', () => {
  it('writes a rule file promtool accepts, and Kubernetes objects for an environment', async () => {
    const home = isolatedHome();
    const file = join(work.path, 'cli.rules.yaml');
    const example = join(repoRoot, 'packages/svctl/examples/hello');
    const res = await runCli('svctl', ['alerts', example, '--out', file], {env: home.env});
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toContain('ErrorBudgetBurnFast, ErrorBudgetBurnSlow, HighLatency, CrashLooping, ReplicasUnavailable');
    expect(promtool(['check', 'rules', file]).code).toBe(0);
    const k8s = await runCli('svctl', ['alerts', example, '--format', 'kubernetes', '--env', 'local', '--json'], {env: home.env});
    const objects = k8s.json<{result: {content: {kind: string; metadata: {namespace: string}}[]}}>().result.content;
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace}`)).toEqual(['ServiceMonitor/hello-local', 'PrometheusRule/hello-local']);
    const noEnv = await runCli('svctl', ['alerts', example, '--format', 'kubernetes'], {env: home.env});
    expect(noEnv.exitCode).toBe(3);
    expect(noEnv.stderr).toContain('--format kubernetes needs --env');
    home.remove();
  });
});
