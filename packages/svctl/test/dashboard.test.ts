import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {type GrafanaDouble, isolatedHome, type IsolatedHome, repoRoot, runCli, startGrafanaDouble, tempDir} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {renderDashboard, SCHEMA_VERSION} from '@bcl/deploy-core/observability';
import {parseSpec} from '@bcl/deploy-core/spec';
import {checkAgainstGrafanaModel} from './grafana-model.js';

const work = tempDir('svctl-dashboard-');
const example = join(repoRoot, 'packages/svctl/examples/hello');
const spec = parseSpec(readFileSync(join(example, 'service.yaml'), 'utf8'));
afterAll(() => work.remove());

describe('the dashboard', () => {
  const dashboard = renderDashboard(spec, {cpu: '250m', memory: '128Mi'}) as unknown as Record<string, unknown>;

  it("is valid against Grafana's published dashboard and panel model", () => {
    const dir = join(work.path, 'model-ok');
    mkdirSync(dir);
    const res = checkAgainstGrafanaModel(dir, dashboard);
    expect(res.errors).toBe('');
    expect(res.ok).toBe(true);
  });

  it('the model check catches unknown keys and wrong types (it can fail)', () => {
    const unknownKey = structuredClone(dashboard) as {panels: Record<string, unknown>[]};
    unknownKey.panels[1]!.gridPosition = {x: 0};
    mkdirSync(join(work.path, 'model-bad-key'));
    const a = checkAgainstGrafanaModel(join(work.path, 'model-bad-key'), unknownKey);
    expect(a.ok).toBe(false);
    expect(a.errors).toContain('gridPosition');
    const wrongType = structuredClone(dashboard) as {refresh: unknown};
    wrongType.refresh = 60;
    mkdirSync(join(work.path, 'model-bad-type'));
    const b = checkAgainstGrafanaModel(join(work.path, 'model-bad-type'), wrongType);
    expect(b.ok).toBe(false);
    expect(b.errors).toMatch(/number.*not assignable to type 'string'/);
  });

  it("is at Grafana's current schema version and has every panel the issue asks for", async () => {
    const {defaultDashboard} = await import('@grafana/schema/dist/esm/raw/dashboard/x/Dashboard_types.gen');
    expect(SCHEMA_VERSION).toBe(defaultDashboard.schemaVersion);
    expect(dashboard.schemaVersion).toBe(defaultDashboard.schemaVersion);
    const panels = dashboard.panels as {type: string; title: string; targets?: {expr: string}[]; gridPos: {x: number; y: number; w: number; h: number}}[];
    const titles = panels.map((p) => p.title);
    for (const t of ['Request rate', 'Error ratio', 'Latency p50 / p95 / p99', 'CPU against limit', 'Memory against limit', 'Pod restarts']) expect(titles).toContain(t);
    const exprs = panels.flatMap((p) => p.targets?.map((t) => t.expr) ?? []);
    for (const q of ['0.5', '0.95', '0.99']) expect(exprs).toContain(`histogram_quantile(${q}, sum by (le) (rate(http_request_duration_seconds_bucket{service="hello",namespace="$namespace"}[$__rate_interval])))`);
    expect(exprs.some((e) => e.includes('resource="cpu"'))).toBe(true);
    expect(exprs.some((e) => e.includes('resource="memory"'))).toBe(true);
    expect(exprs.some((e) => e.includes('kube_pod_container_status_restarts_total'))).toBe(true);
    // Every query selects the service's own series.
    for (const e of exprs.filter((x) => x.includes('http_request'))) expect(e).toContain('service="hello"');
    const annotations = (dashboard.annotations as {list: {name: string; target?: {tags: string[]}}[]}).list;
    expect(annotations.find((a) => a.name === 'Deploys')?.target?.tags).toEqual(['svctl-deploy', 'service:hello']);
    // Panels do not overlap on Grafana's 24-column grid.
    const cells = new Set<string>();
    for (const p of panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });
});

describe('svctl dashboard', () => {
  let grafana: GrafanaDouble;
  let home: IsolatedHome;
  const outputs: string[] = [];
  const svctl = async (args: string[], env: Record<string, string> = {}) => {
    const res = await runCli('svctl', args, {env: {...home.env, GRAFANA_TOKEN: grafana.token, ...env}, cwd: example});
    outputs.push(res.stdout, res.stderr);
    return res;
  };

  beforeAll(async () => {
    grafana = await startGrafanaDouble();
    home = isolatedHome();
    mkdirSync(join(home.xdg.config, 'bcl'), {recursive: true});
    writeFileSync(join(home.xdg.config, 'bcl', 'config.yaml'), `svctl:\n  grafana:\n    url: ${grafana.url}\n    tokenEnv: GRAFANA_TOKEN\n`);
  });
  afterAll(async () => {
    await grafana?.stop();
    home?.remove();
  });

  it('writes the dashboard JSON with --out', async () => {
    const file = join(work.path, 'hello.dashboard.json');
    const res = await svctl(['dashboard', '--out', file, '--env', 'prod']);
    expect(res.exitCode, res.stderr).toBe(0);
    const written = JSON.parse(readFileSync(file, 'utf8')) as {uid: string; panels: {title: string; description?: string}[]};
    expect(written.uid).toBe('svctl-hello');
    // prod overrides the memory limit.
    expect(written.panels.find((p) => p.title === 'Memory against limit')?.description).toContain('256Mi');
  });

  it('pushes into a folder per team, creating it once, and updates the same dashboard', async () => {
    const first = await svctl(['dashboard', '--push', '--json']);
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    expect(first.json().result).toMatchObject({uid: 'svctl-hello', push: {folder: {uid: 'svctl-team-platform', title: 'platform', created: true}, version: 1}});
    const second = await svctl(['dashboard', '--push', '--json']);
    expect(second.json().result).toMatchObject({push: {folder: {created: false}, version: 2}});
    expect(grafana.requests.filter((r) => r.method === 'POST' && r.path === '/api/folders')).toHaveLength(1);
    const saved = grafana.dashboards.get('svctl-hello')!;
    expect(saved.folderUid).toBe('svctl-team-platform');
    expect(saved.dashboard.title).toBe('hello (platform)');
    expect(saved.dashboard.schemaVersion).toBe(SCHEMA_VERSION);
  });

  it("uses a team folder that was made by hand, by its title", async () => {
    grafana.folders.set('hand-made', {id: 99, uid: 'hand-made', title: 'payments'});
    const dir = join(work.path, 'payments');
    mkdirSync(dir);
    writeFileSync(join(dir, 'service.yaml'), 'name: ledger\nteam: payments\nimage: registry.example.com/payments/ledger\nruntime: go\n');
    const res = await svctl(['dashboard', dir, '--push', '--json']);
    expect(res.exitCode).toBe(0);
    expect(res.json().result).toMatchObject({push: {folder: {uid: 'hand-made', created: false}}});
    expect(grafana.dashboards.get('svctl-ledger')?.folderUid).toBe('hand-made');
  });

  it('a rejected token is exit 4 and is never shown', async () => {
    const bad = await svctl(['dashboard', '--push'], {GRAFANA_TOKEN: 'glsa_not_a_valid_token_0000'});
    expect(bad.exitCode).toBe(4);
    expect(bad.stderr).toContain('rejected the token');
    expect(bad.stderr).not.toContain('glsa_not_a_valid_token_0000');
    const viewer = await svctl(['dashboard', '--push'], {GRAFANA_TOKEN: grafana.viewerToken});
    expect(viewer.exitCode).toBe(4);
    expect(viewer.stderr).toContain('Permissions needed: dashboards:create');
  });

  it('a Grafana failure is exit 5; no Grafana configured is exit 3', async () => {
    grafana.failNext({method: 'POST', path: /^\/api\/dashboards\/db$/});
    const failed = await svctl(['dashboard', '--push']);
    expect(failed.exitCode).toBe(5);
    const none = await runCli('svctl', ['dashboard', '--push'], {env: {...isolatedHome().env}, cwd: example});
    expect(none.exitCode).toBe(3);
    expect(none.stderr).toContain('svctl.grafana is not configured');
  });

  it('never prints the token', () => {
    const all = outputs.join('\n');
    expect(all.length).toBeGreaterThan(500);
    expect(all).not.toContain(grafana.token);
    expect(all).not.toContain(grafana.viewerToken);
  });
});
