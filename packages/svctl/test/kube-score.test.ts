import {spawnSync} from 'node:child_process';
import {mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {isolatedHome, kubeScorePath, repoRoot, runCli, tempDir} from '@bcl/testkit';
import {RUNTIMES} from '@bcl/deploy-core/spec';
import {scaffoldService} from '../src/templates/scaffold.js';

// kube-score (the field's manifest linter, not ours) over everything `svctl render` produces:
// the spec of every runtime `svctl init` writes and the examples, in every environment they
// declare, with and without zones. Any finding fails, except the allow-list of docs/testing.md,
// which this test reads, so the list and its reasons cannot drift from what is enforced.

interface Allowed {
  id: string;
  /** When set, only this finding of the rule is allowed (a rule can report several things). */
  finding?: string;
}

/** The rows of the "kube-score allow-list" table in docs/testing.md: `| \`rule\` | finding | reason |`. */
function allowList(): Allowed[] {
  const doc = readFileSync(join(repoRoot, 'docs/testing.md'), 'utf8');
  const section = doc.split(/^#+ /m).find((s) => s.startsWith('kube-score allow-list'));
  if (!section) throw new Error('docs/testing.md has no "kube-score allow-list" section');
  return section
    .split('\n')
    .map((line) => /^\| `([a-z0-9-]+)` \| ([^|]*) \| ([^|]+) \|$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({id: m[1]!, ...(m[2]!.trim() && m[2]!.trim() !== 'any' ? {finding: m[2]!.trim()} : {})}));
}

interface ScoredObject {
  object_name: string;
  checks: {check: {id: string}; grade: number; skipped: boolean; comments: {summary: string; path: string}[] | null}[];
}

function kubeScore(file: string): ScoredObject[] {
  const res = spawnSync(kubeScorePath(), ['score', '--all-default-optional', '--kubernetes-version', 'v1.34', '--output-format', 'json', file], {encoding: 'utf8'});
  if (res.error) throw res.error;
  // Exit 1 means findings; anything else (or no JSON) is kube-score failing to read the file.
  if (res.status !== 0 && res.status !== 1) throw new Error(`kube-score exited ${res.status}: ${res.stderr}`);
  return JSON.parse(res.stdout) as ScoredObject[];
}

/** Every finding (grade below "all OK"), as "Kind/name: rule: summary". */
function findings(objects: ScoredObject[], allowed: readonly Allowed[]): {unexpected: string[]; allowedSeen: Set<string>} {
  const unexpected: string[] = [];
  const allowedSeen = new Set<string>();
  for (const o of objects) {
    for (const c of o.checks) {
      if (c.skipped || c.grade >= 10) continue;
      const summaries = c.comments?.length ? c.comments.map((x) => `${x.path ? `(${x.path}) ` : ''}${x.summary}`) : ['(no comment)'];
      for (const summary of summaries) {
        const hit = allowed.find((a) => a.id === c.check.id && (!a.finding || summary.includes(a.finding)));
        if (hit) allowedSeen.add(`${hit.id}${hit.finding ? `: ${hit.finding}` : ''}`);
        else unexpected.push(`${o.object_name}: ${c.check.id}: ${summary}`);
      }
    }
  }
  return {unexpected, allowedSeen};
}

describe('kube-score over every rendered manifest', () => {
  const work = tempDir('svctl-kube-score-');
  const home = isolatedHome();
  afterAll(() => {
    work.remove();
    home.remove();
  });
  // prod's cluster has zones, so both spread constraints are scored.
  mkdirSync(join(home.xdg.config, 'bcl'), {recursive: true});
  writeFileSync(join(home.xdg.config, 'bcl', 'config.yaml'), 'svctl:\n  clusters:\n    prod: {context: prod, zones: true, production: true}\n');

  const scaffolded = RUNTIMES.map((runtime) => {
    const dir = join(work.path, runtime);
    mkdirSync(dir);
    scaffoldService({dir, name: `svc-${runtime}`, team: 'payments', runtime, force: false});
    return dir;
  });
  // The sample services, and svapp's own service.yaml (a mutual-TLS server with mounted files).
  const examples = [...readdirSync(join(repoRoot, 'packages/svctl/examples')).map((e) => join(repoRoot, 'packages/svctl/examples', e)), join(repoRoot, 'packages/svapp')];
  // environment -> the specs that declare it
  const environments: [string, string[]][] = [
    ['staging', [...scaffolded, ...examples]],
    ['prod', [...scaffolded, ...examples]],
    ['local', examples],
  ];
  const allowed = allowList();
  const results = new Map<string, {stdout: string; deployments: number; unexpected: string[]; allowedSeen: Set<string>}>();

  beforeAll(async () => {
    for (const [environment, specs] of environments) {
      const r = await runCli('svctl', ['render', '--env', environment, '--image-tag', '1.4.2', ...specs], {env: home.env, cwd: work.path});
      if (r.exitCode !== 0) throw new Error(`svctl render --env ${environment} exited ${r.exitCode}: ${r.stderr}`);
      const file = join(work.path, `${environment}.yaml`);
      writeFileSync(file, r.stdout);
      const scored = kubeScore(file);
      results.set(environment, {stdout: r.stdout, deployments: scored.filter((o) => o.object_name.startsWith('Deployment/')).length, ...findings(scored, allowed)});
    }
  });

  it('has an allow-list with a reason for each entry', () => {
    expect(allowed.length).toBeGreaterThan(0);
    expect(new Set(allowed.map((a) => `${a.id}:${a.finding ?? ''}`)).size).toBe(allowed.length);
  });

  for (const [environment, specs] of environments) {
    it(`finds nothing outside the allow-list in ${environment} (${specs.length} services)`, () => {
      const r = results.get(environment)!;
      // Every service's objects, the NetworkPolicy and the spread constraints are in what is scored.
      expect(r.deployments).toBe(specs.length);
      expect(r.stdout.match(/^kind: NetworkPolicy$/gm)?.length).toBe(specs.length);
      expect(r.stdout).toContain('topologySpreadConstraints');
      expect(r.stdout).toContain('readOnlyRootFilesystem: true');
      expect(r.unexpected).toEqual([]);
    });
  }

  it('uses every entry of the allow-list (an entry nothing needs is removed)', () => {
    const seen = new Set([...results.values()].flatMap((r) => [...r.allowedSeen]));
    expect([...seen].sort()).toEqual(allowed.map((a) => `${a.id}${a.finding ? `: ${a.finding}` : ''}`).sort());
  });
});
