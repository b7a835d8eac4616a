import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {parseYaml} from '@bcl/spec-loader';
import {describe, expect, it} from 'vitest';
import {type AccessRequest, type Action, approve, type DecidedBy, type Decision, type DecisionCode, decide, explain, type Explanation, formatExplanation, type Identity, loadPolicy} from '../src/index.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const policy = loadPolicy(here('./golden/policy.yaml'));

interface Row {
  name: string;
  as: string;
  action: Action;
  service: string;
  team: string;
  env?: string;
  at: string;
  reason?: string;
  expect: {outcome: string; code: string; decidedBy: string; message: string; frozenUntil?: string};
  approvals?: {by: string; at: string; expect: {ok: boolean; code: string; message: string}}[];
}

const file = here('./golden/decisions.yaml');
const rows = parseYaml(readFileSync(file, 'utf8'), file).data as Row[];

const identity = (s: string): Identity => (s.startsWith('ci:') ? {kind: 'ci', name: s.slice(3)} : {kind: 'person', name: s});
const decidedBy = (d: DecidedBy) => (d.kind === 'rule' ? `rule ${d.id}` : d.kind === 'freeze' ? `freeze ${d.environment}/${d.id}` : d.kind === 'ci-builds' ? `ci ${d.ci}` : 'no rule');
const requestOf = (row: Row): AccessRequest => ({identity: identity(row.as), action: row.action, service: row.service, team: row.team, environment: row.env, breakGlassReason: row.reason});
const seen = (d: Decision) => ({outcome: d.outcome, code: d.code, decidedBy: decidedBy(d.decidedBy), message: d.message, ...(d.details.freeze ? {frozenUntil: d.details.freeze.until} : {})});

/** What the rule-by-rule trace must show for the decision it comes with: the two cannot disagree. */
function assertTraceSupports(e: Explanation): void {
  const d = e.decision;
  const decided = e.rules.filter((r) => r.role === 'decided');
  const matchedDeny = e.rules.filter((r) => r.effect === 'deny' && r.matched);
  const matchedAllow = e.rules.filter((r) => r.effect === 'allow' && r.matched);
  const stopping = e.freezes.filter((f) => f.open && f.stopsAction);
  if (d.code === 'denied-by-rule') {
    expect(decided.map((r) => r.id)).toEqual([(d.decidedBy as {id: string}).id]);
    expect(decided[0]!.effect).toBe('deny');
    expect(decided[0]!.matched).toBe(true);
    expect(matchedAllow.every((r) => r.role === 'overridden')).toBe(true);
    return;
  }
  expect(matchedDeny).toEqual([]);
  if (d.code === 'no-rule') {
    expect(d.decidedBy).toEqual({kind: 'no-rule'});
    expect(e.rules.filter((r) => r.effect === 'allow' && r.checks.every((k) => k.ok || k.check === 'during'))).toEqual([]);
  } else if (d.code === 'outside-window') {
    expect(decided).toHaveLength(1);
    expect(decided[0]!.checks.filter((k) => !k.ok).map((k) => k.check)).toEqual(['during']);
    expect(matchedAllow).toEqual([]);
  } else if (d.code === 'ci-not-declared' || d.code === 'ci-outside-builds') {
    expect(d.request.identity.kind).toBe('ci');
  } else {
    // An allow rule holds: allowed, waiting for approval, or stopped by a freeze.
    expect(matchedAllow.length).toBeGreaterThan(0);
    if (d.code === 'frozen' || d.code === 'break-glass-reason-required' || d.code === 'allowed-break-glass') expect(stopping.length).toBeGreaterThan(0);
    else expect(stopping).toEqual([]);
    if (d.outcome !== 'denied') {
      expect(decided.map((r) => r.id)).toEqual([(d.decidedBy as {id: string}).id]);
      expect(decided[0]!.matched).toBe(true);
    }
  }
}

describe('the golden decision table (test/golden/decisions.yaml)', () => {
  it('has at least 30 rows, and every kind of decision occurs', () => {
    expect(rows.length).toBeGreaterThanOrEqual(30);
    const codes = new Set<string>(rows.map((r) => r.expect.code));
    for (const r of rows) for (const a of r.approvals ?? []) codes.add(a.expect.code);
    const all: (DecisionCode | string)[] = [
      'allowed', 'allowed-break-glass', 'approved', 'approval-required', 'denied-by-rule', 'no-rule', 'outside-window', 'frozen',
      'break-glass-reason-required', 'ci-not-declared', 'ci-outside-builds', 'approver-is-requester', 'approver-not-in-group', 'approver-is-ci', 'denied-now',
    ];
    expect([...codes].sort()).toEqual([...all].sort());
  });

  for (const row of rows) {
    it(row.name, () => {
      const now = new Date(row.at);
      const decision = decide(policy, requestOf(row), now);
      expect(seen(decision)).toEqual(row.expect);

      // can-i's path: the same decision, and a trace that supports it.
      const explanation = explain(policy, requestOf(row), now);
      expect(explanation.decision).toEqual(decision);
      expect(explanation.rules.map((r) => r.id)).toEqual(policy.rules.map((r) => r.id));
      assertTraceSupports(explanation);
      expect(formatExplanation(explanation).split('\n')[0]).toBe(decision.message);
      expect(JSON.parse(JSON.stringify(decision))).toEqual(decision);

      for (const a of row.approvals ?? []) {
        const result = approve(policy, decision, identity(a.by), new Date(a.at));
        expect({ok: result.ok, code: result.ok ? result.decision.code : result.code, message: result.message}).toEqual(a.expect);
        if (result.ok) {
          expect(result.decision.outcome).toBe('allowed');
          expect(result.decision.details.approval?.approvedBy?.name).toBe(a.by);
        }
      }
    });
  }
});
