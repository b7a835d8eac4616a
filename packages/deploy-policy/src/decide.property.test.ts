import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {approve} from './approve.js';
import {type AccessRequest, decide, describeIdentity, explain} from './decide.js';
import {compilePolicy, type Policy} from './policy.js';
import {ACTIONS, policySchema} from './schema.js';

const EMAILS = ['ann@example.com', 'bob@example.com', 'carl@example.com', 'dora@example.com'];
const GROUPS = ['g1', 'g2', 'g3'];
const TEAMS = ['t1', 't2'];
const CI = ['c1', 'c2'];
const ENVS = ['dev', 'staging', 'prod'];
const SERVICES = ['svc-a', 'svc-b', 'svc-c'];

const subset = <T>(values: readonly T[]) => fc.subarray([...values], {minLength: 1});
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, {nil: undefined});

const who = fc.oneof(
  fc.constant('*' as const),
  fc
    .record({people: maybe(subset(EMAILS)), groups: maybe(subset(GROUPS)), teams: maybe(subset(TEAMS)), ci: maybe(subset(CI))}, {requiredKeys: []})
    .filter((w) => Object.values(w).some((v) => v !== undefined)),
);
const services = fc.oneof(
  fc.constant('*' as const),
  fc
    .record({names: maybe(subset([...SERVICES, 'svc-*'])), teams: maybe(subset(TEAMS)), ownTeam: maybe(fc.constant(true as const))}, {requiredKeys: []})
    .filter((s) => Object.values(s).some((v) => v !== undefined)),
);
const environments = fc.oneof(fc.constant('*' as const), subset([...ENVS, 'pr*']));
const actions = fc.oneof(fc.constant(['*']), subset(ACTIONS));

const ruleBody = fc.record({who, services, environments, during: maybe(subset(['weekend', 'office']))});
const denyRule = fc.tuple(ruleBody, actions).map(([body, deny]) => ({...body, deny}));
const allowRule = fc.tuple(ruleBody, actions, maybe(fc.constantFrom(...GROUPS))).map(([body, allow, group]) => ({...body, allow, ...(group ? {approval: {group}} : {})}));

const members = fc.dictionary(fc.constantFrom(...GROUPS), fc.subarray(EMAILS));
const baseSpec = fc.record({
  groups: members,
  teams: fc.dictionary(fc.constantFrom(...TEAMS), fc.subarray(EMAILS)),
  ci: fc.record({c1: fc.record({builds: fc.oneof(fc.constant('*'), fc.record({teams: subset(TEAMS)}))}), c2: fc.record({builds: fc.record({services: subset(SERVICES)})})}),
  freeze: fc.option(fc.record({breakGlass: maybe(fc.constantFrom(...GROUPS)), actions: maybe(subset(ACTIONS))}), {nil: undefined}),
});

type BaseSpec = typeof baseSpec extends fc.Arbitrary<infer T> ? T : never;

/** A valid policy from generated parts (every group and team declared, so every reference resolves). */
function policyOf(base: BaseSpec, rules: object[]): Policy {
  const groups = Object.fromEntries(GROUPS.map((g) => [g, base.groups[g] ?? []]));
  const teams = Object.fromEntries(TEAMS.map((t) => [t, base.teams[t] ?? []]));
  const spec = {
    timeZone: 'Europe/Berlin',
    groups,
    teams,
    ci: base.ci,
    windows: {weekend: {weekly: [{from: 'Fri 16:00', to: 'Mon 08:00'}]}, office: {timeZone: 'America/New_York', weekly: [{days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], from: '09:00', to: '17:00'}]}},
    environments: {
      dev: {},
      staging: {},
      prod: base.freeze ? {freezes: [{id: 'weekend', weekly: [{from: 'Fri 16:00', to: 'Mon 08:00'}], ...base.freeze}, {id: 'year-end', dates: [{from: '2025-12-22 00:00', to: '2026-01-05 08:00'}]}]} : {},
      'prod-eu': {},
    },
    rules: rules.map((r, i) => ({id: `r${i}`, ...r})),
  };
  const parsed = policySchema.safeParse(spec);
  if (!parsed.success) throw new Error(`generated an invalid policy: ${JSON.stringify(parsed.error.issues)}`);
  return compilePolicy(parsed.data);
}

const request: fc.Arbitrary<AccessRequest> = fc.record({
  identity: fc.oneof(
    fc.record({kind: fc.constant('person' as const), name: fc.constantFrom(...EMAILS, 'eve@example.com', 'ANN@example.com')}),
    fc.record({kind: fc.constant('ci' as const), name: fc.constantFrom(...CI, 'c3')}),
  ),
  action: fc.constantFrom(...ACTIONS),
  service: fc.constantFrom(...SERVICES),
  team: fc.constantFrom(...TEAMS, 't3'),
  environment: maybe(fc.constantFrom(...ENVS, 'prod-eu', 'qa')),
  breakGlassReason: maybe(fc.constantFrom('', '  ', 'INC-1 outage')),
});
const now = fc.date({min: new Date('2024-01-01T00:00:00Z'), max: new Date('2027-01-01T00:00:00Z'), noInvalidDate: true});

/** A deny rule that covers exactly this request. */
function denyingRuleFor(r: AccessRequest): object {
  const whoIs = r.identity.kind === 'person' ? {people: [r.identity.name.toLowerCase()]} : CI.includes(r.identity.name) ? {ci: [r.identity.name]} : '*';
  return {deny: [r.action], who: whoIs, services: {names: [r.service]}, environments: r.environment && ENVS.includes(r.environment) ? [r.environment] : '*'};
}

describe('decisions on arbitrary policies (property-based)', () => {
  it('a deny rule that covers the request always wins, wherever it sits among the rules', () => {
    fc.assert(
      fc.property(baseSpec, fc.array(fc.oneof(allowRule, denyRule), {maxLength: 8}), request, now, fc.nat(), (base, rules, req, at, position) => {
        const withDeny: object[] = [...rules];
        withDeny.splice(position % (rules.length + 1), 0, denyingRuleFor(req));
        const decision = decide(policyOf(base, withDeny), req, at);
        expect(decision.outcome).toBe('denied');
        expect(decision.code).toBe('denied-by-rule');
      }),
      {numRuns: 200},
    );
  });

  it('no policy without allow rules allows anything, nor leaves anything waiting for approval', () => {
    fc.assert(
      fc.property(baseSpec, fc.array(denyRule, {maxLength: 6}), request, now, (base, rules, req, at) => {
        const policy = policyOf(base, rules);
        const decision = decide(policy, req, at);
        expect(decision.outcome).toBe('denied');
        expect(approve(policy, decision, {kind: 'person', name: 'dora@example.com'}, at).ok).toBe(false);
      }),
      {numRuns: 200},
    );
  });

  it('adding allow rules never lifts a deny rule', () => {
    fc.assert(
      fc.property(baseSpec, fc.array(fc.oneof(allowRule, denyRule), {maxLength: 6}), fc.array(allowRule, {minLength: 1, maxLength: 4}), request, now, (base, rules, more, req, at) => {
        const before = decide(policyOf(base, rules), req, at);
        fc.pre(before.code === 'denied-by-rule');
        const after = decide(policyOf(base, [...rules, ...more]), req, at);
        expect(after.code).toBe('denied-by-rule');
        expect(after.decidedBy).toEqual(before.decidedBy);
      }),
      {numRuns: 100},
    );
  });

  it('every decision agrees with its explanation and names the identity, the service and the environment', () => {
    fc.assert(
      fc.property(baseSpec, fc.array(fc.oneof(allowRule, denyRule), {maxLength: 8}), request, now, (base, rules, req, at) => {
        const policy = policyOf(base, rules);
        const e = explain(policy, req, at);
        expect(decide(policy, req, at)).toEqual(e.decision);
        const d = e.decision;
        expect(d.message).toContain(describeIdentity(d.request.identity));
        expect(d.message).toContain(req.service);
        if (req.environment) expect(d.message).toContain(req.environment);
        // Allowed or waiting only when an allow rule matched and no deny rule did.
        if (d.outcome !== 'denied') {
          expect(e.rules.some((r) => r.effect === 'allow' && r.matched)).toBe(true);
          expect(e.rules.some((r) => r.effect === 'deny' && r.matched)).toBe(false);
        }
      }),
      {numRuns: 200},
    );
  });
});
