import {posix} from 'node:path';
import type {Freeze, Policy, Rule} from './policy.js';
import type {Action} from './schema.js';
import {closesAt, formatLocal, isOpen, opensNext} from './windows.js';

/** Who asks: a person by the email of their certificate, or a CI identity by its name (`urn:bcl:ci:<name>`). */
export interface Identity {
  kind: 'person' | 'ci';
  /** A person's email, or a CI identity's name. */
  name: string;
}

export interface AccessRequest {
  identity: Identity;
  action: Action;
  service: string;
  /** The service's team as the server read it from the service spec; never what the caller claims. */
  team: string;
  /** The environment; absent for a build that deploys nowhere (only `environments: '*'` rules cover it). */
  environment?: string | undefined;
  /** The reason given to break a freeze; it lands in the audit log with the decision. */
  breakGlassReason?: string | undefined;
}

export type Outcome = 'allowed' | 'denied' | 'approval-required';

export type DecisionCode =
  /** An allow rule holds, no deny rule, no freeze in the way, no approval needed. */
  | 'allowed'
  /** As `allowed`, while a freeze is open: broken by a member of its break-glass group, with a reason. */
  | 'allowed-break-glass'
  /** Allowed after a second person's approval (`approve`). */
  | 'approved'
  /** An allow rule holds but requires a second person's approval. */
  | 'approval-required'
  | 'denied-by-rule'
  | 'no-rule'
  /** An allow rule would hold, but only while one of its windows is open. */
  | 'outside-window'
  | 'frozen'
  /** The caller may break the freeze but gave no reason. */
  | 'break-glass-reason-required'
  /** A CI identity the policy does not declare: its builds are unknown, so it may do nothing. */
  | 'ci-not-declared'
  /** A CI identity acting on a service it does not build. */
  | 'ci-outside-builds';

/** What decided: a rule, a freeze, a CI identity's builds, or the default (no rule allows it). */
export type DecidedBy = {kind: 'rule'; id: string} | {kind: 'freeze'; environment: string; id: string} | {kind: 'ci-builds'; ci: string} | {kind: 'no-rule'};

export interface FreezeDetails {
  environment: string;
  id: string;
  /** When the environment stops being frozen (ISO 8601, UTC), and the same in the freeze's zone. */
  until: string;
  untilLocal: string;
  timeZone: string;
  /** The group whose members may break it; null: nobody. */
  breakGlassGroup: string | null;
  /** Whether this decision breaks it (and with which reason). */
  broken: boolean;
  reason?: string;
}

export interface DecisionDetails {
  identity: {kind: Identity['kind']; name: string; groups: string[]; teams: string[]};
  rule?: {id: string; effect: 'allow' | 'deny'; description?: string};
  freeze?: FreezeDetails;
  approval?: {rule: string; groups: string[]; requester: string; approvedBy?: {name: string; group: string}};
  window?: {rule: string; windows: string[]; opensAt: string | null; opensAtLocal: string | null};
  ci?: {name: string; declared: boolean; builds: '*' | {teams: string[]; services: string[]} | null};
}

/** A decision, as plain data (JSON as it is): for the caller, `can-i`, and the audit log. */
export interface Decision {
  outcome: Outcome;
  code: DecisionCode;
  decidedBy: DecidedBy;
  /** Names the identity, the action, the service, the environment and why. */
  message: string;
  /** The request as decided (a person's email lower-cased). */
  request: AccessRequest;
  /** The instant decided at (ISO 8601, UTC). */
  at: string;
  /** Which policy decided: its file and the SHA-256 of its bytes. */
  policy: {file: string; sha256: string};
  details: DecisionDetails;
}

export type CheckName = 'who' | 'action' | 'service' | 'environment' | 'during';

export interface RuleCheck {
  check: CheckName;
  ok: boolean;
  why: string;
}

/** How one rule read the request: every check, not only the first that failed. */
export interface RuleTrace {
  id: string;
  index: number;
  effect: 'allow' | 'deny';
  /** Every check holds: the rule applies now. */
  matched: boolean;
  checks: RuleCheck[];
  /** The rule's part in the decision. */
  role: 'decided' | 'overridden' | 'considered' | 'not-matched';
  why: string;
}

export interface FreezeTrace {
  environment: string;
  id: string;
  open: boolean;
  /** Whether the freeze stops the request's action. */
  stopsAction: boolean;
  why: string;
}

/** Everything `decide` considered, for `can-i`: the decision is the same object `decide` returns. */
export interface Explanation {
  decision: Decision;
  rules: RuleTrace[];
  freezes: FreezeTrace[];
}

const VERBS: Record<Action, string> = {deploy: 'deploy', rollback: 'roll back', cancel: 'cancel operations on', read: 'read', build: 'build'};
const PREPOSITIONS: Record<Action, string> = {deploy: 'to', rollback: 'in', cancel: 'in', read: 'in', build: 'for'};

/** `ann@example.com` or `ci:jenkins-payments`. */
export function describeIdentity(identity: Identity): string {
  return identity.kind === 'ci' ? `ci:${identity.name}` : identity.name;
}

/** `deploy ledger to prod`, `roll back ledger in prod`, `build ledger`. */
export function describeOperation(request: Pick<AccessRequest, 'action' | 'service' | 'environment'>): string {
  const env = request.environment === undefined ? '' : ` ${PREPOSITIONS[request.action]} ${request.environment}`;
  return `${VERBS[request.action]} ${request.service}${env}`;
}

function normalize(request: AccessRequest): AccessRequest {
  const identity: Identity = {kind: request.identity.kind, name: request.identity.kind === 'person' ? request.identity.name.trim().toLowerCase() : request.identity.name.trim()};
  const out: AccessRequest = {identity, action: request.action, service: request.service, team: request.team};
  if (request.environment !== undefined) out.environment = request.environment;
  if (request.breakGlassReason !== undefined) out.breakGlassReason = request.breakGlassReason;
  return out;
}

/** The groups and teams a person is in (none for a CI identity). */
export function membership(policy: Policy, identity: Identity): {groups: string[]; teams: string[]} {
  if (identity.kind !== 'person') return {groups: [], teams: []};
  const email = identity.name.trim().toLowerCase();
  const of = (record: Record<string, string[]>) =>
    Object.entries(record)
      .filter(([, members]) => members.includes(email))
      .map(([n]) => n);
  return {groups: of(policy.spec.groups), teams: of(policy.spec.teams)};
}

function matchesName(value: string, pattern: string): boolean {
  return value === pattern || posix.matchesGlob(value, pattern);
}

function list(values: readonly string[], word = 'or'): string {
  return values.length <= 1 ? (values[0] ?? '') : `${values.slice(0, -1).join(', ')} ${word} ${values.at(-1)}`;
}

interface Context {
  policy: Policy;
  request: AccessRequest;
  who: string;
  at: number;
  groups: string[];
  teams: string[];
}

function checkWho(rule: Rule, c: Context): RuleCheck {
  const who = rule.spec.who;
  if (who === '*') return {check: 'who', ok: true, why: 'the rule is for everyone'};
  const {identity} = c.request;
  const reasons: string[] = [];
  if (identity.kind === 'person') {
    if (who.people?.includes(identity.name)) return {check: 'who', ok: true, why: `${c.who} is listed under people`};
    const group = who.groups?.find((g) => c.groups.includes(g));
    if (group) return {check: 'who', ok: true, why: `${c.who} is in group ${group}`};
    const team = who.teams?.find((t) => c.teams.includes(t));
    if (team) return {check: 'who', ok: true, why: `${c.who} is in team ${team}`};
  } else if (identity.kind === 'ci' && who.ci?.includes(identity.name)) return {check: 'who', ok: true, why: `${c.who} is listed under ci`};
  if (who.people) reasons.push(`not ${list(who.people)}`);
  if (who.groups) reasons.push(`in no group ${list(who.groups)}`);
  if (who.teams) reasons.push(`in no team ${list(who.teams)}`);
  if (who.ci) reasons.push(identity.kind === 'ci' ? `not ci:${list(who.ci)}` : `not a CI identity (${list(who.ci.map((n) => `ci:${n}`))})`);
  return {check: 'who', ok: false, why: `${c.who} is ${list(reasons, 'and')}`};
}

function checkAction(rule: Rule, c: Context): RuleCheck {
  const ok = rule.actions.includes(c.request.action);
  const covered = `${rule.effect}: ${rule.actions.join(', ')}`;
  return {check: 'action', ok, why: ok ? `${c.request.action} is covered (${covered})` : `${c.request.action} is not covered (${covered})`};
}

function checkService(rule: Rule, c: Context): RuleCheck {
  const s = rule.spec.services;
  const {service, team} = c.request;
  if (s === '*') return {check: 'service', ok: true, why: 'the rule is for every service'};
  const name = s.names?.find((p) => matchesName(service, p));
  if (name) return {check: 'service', ok: true, why: name === service ? `the rule names ${service}` : `${service} matches ${name}`};
  if (s.teams?.includes(team)) return {check: 'service', ok: true, why: `${service} belongs to team ${team}`};
  if (s.ownTeam && c.teams.includes(team)) return {check: 'service', ok: true, why: `${service} belongs to team ${team}, which ${c.who} is in`};
  const covers: string[] = [];
  if (s.names) covers.push(`services ${list(s.names)}`);
  if (s.teams) covers.push(`services of team ${list(s.teams)}`);
  if (s.ownTeam) covers.push(c.request.identity.kind === 'ci' ? `services of the caller's own team (a CI identity is in no team)` : `services of the caller's own team (${c.who} is in ${c.teams.length > 0 ? `team ${list(c.teams, 'and')}` : 'no team'})`);
  return {check: 'service', ok: false, why: `${service} (team ${team}) is not among ${list(covers)}`};
}

function checkEnvironment(rule: Rule, c: Context): RuleCheck {
  const envs = rule.spec.environments;
  const env = c.request.environment;
  if (envs === '*') return {check: 'environment', ok: true, why: 'the rule is for every environment'};
  if (env === undefined) return {check: 'environment', ok: false, why: `the request names no environment and the rule covers only ${list(envs)}`};
  const hit = envs.find((p) => matchesName(env, p));
  if (hit) return {check: 'environment', ok: true, why: hit === env ? `the rule names ${env}` : `${env} matches ${hit}`};
  return {check: 'environment', ok: false, why: `${env} is not ${list(envs)}`};
}

function checkDuring(rule: Rule, c: Context): RuleCheck | undefined {
  const during = rule.spec.during;
  if (!during) return undefined;
  for (const n of during) {
    const w = c.policy.windows.get(n)!;
    const until = closesAt(w, c.at);
    if (until !== undefined) return {check: 'during', ok: true, why: `window ${n} is open until ${formatLocal(until, w.zone)}`};
  }
  const next = nextOpening(rule, c);
  return {check: 'during', ok: false, why: `window ${list(during)} is closed${next ? `; it opens ${formatLocal(next.at, next.zone)}` : ' and does not open again'}`};
}

function nextOpening(rule: Rule, c: Context): {at: number; zone: string} | undefined {
  let best: {at: number; zone: string} | undefined;
  for (const n of rule.spec.during ?? []) {
    const w = c.policy.windows.get(n)!;
    const at = opensNext(w, c.at);
    if (at !== undefined && (!best || at < best.at)) best = {at, zone: w.zone};
  }
  return best;
}

function trace(rule: Rule, c: Context): RuleTrace {
  const checks = [checkWho(rule, c), checkAction(rule, c), checkService(rule, c), checkEnvironment(rule, c)];
  const during = checkDuring(rule, c);
  if (during) checks.push(during);
  const matched = checks.every((k) => k.ok);
  const failed = checks.filter((k) => !k.ok);
  const why = matched ? `matches: ${checks.map((k) => k.why).join('; ')}` : `does not match: ${failed.map((k) => k.why).join('; ')}`;
  return {id: rule.id, index: rule.index, effect: rule.effect, matched, checks, role: matched ? 'considered' : 'not-matched', why};
}

/** The open freezes of the request's environment that stop its action, and when the last of them closes. */
function openFreezes(c: Context): {freezes: Freeze[]; traces: FreezeTrace[]; until: number | undefined} {
  const env = c.request.environment;
  const all = env === undefined ? [] : (c.policy.freezes.get(env) ?? []);
  const traces: FreezeTrace[] = [];
  const open: Freeze[] = [];
  for (const f of all) {
    const stopsAction = f.actions.includes(c.request.action);
    const until = closesAt(f.window, c.at);
    let why: string;
    if (until !== undefined) why = `open until ${formatLocal(until, f.window.zone)} (${f.window.text})${stopsAction ? '' : `; it does not stop ${c.request.action}`}`;
    else {
      const next = opensNext(f.window, c.at);
      why = `closed${next !== undefined ? `; it opens ${formatLocal(next, f.window.zone)}` : ' and does not open again'} (${f.window.text})`;
    }
    traces.push({environment: f.environment, id: f.id, open: until !== undefined, stopsAction, why});
    if (until !== undefined && stopsAction) open.push(f);
  }
  if (open.length === 0) return {freezes: open, traces, until: undefined};
  // Freezes that touch or overlap keep the environment frozen: follow them to the first free instant.
  const stopping = all.filter((f) => f.actions.includes(c.request.action));
  let t = c.at;
  for (let step = 0; step < 64; step++) {
    const ends = stopping.map((f) => closesAt(f.window, t)).filter((u): u is number => u !== undefined);
    if (ends.length === 0) break;
    t = Math.max(...ends);
  }
  return {freezes: open, traces, until: t};
}

/**
 * The one decision function: enforcement and `can-i` both call it (through `explain`). Deny
 * rules win; then a CI identity's builds; then an allow rule must hold now (its windows open);
 * then freezes (break-glass with a reason); then approval.
 */
export function explain(policy: Policy, request: AccessRequest, now: Date): Explanation {
  const req = normalize(request);
  const {groups, teams} = membership(policy, req.identity);
  const c: Context = {policy, request: req, who: describeIdentity(req.identity), at: now.getTime(), groups, teams};
  const traces = policy.rules.map((r) => trace(r, c));
  const {traces: freezeTraces, ...frozen} = openFreezes(c);
  const operation = describeOperation(req);
  const base = {request: req, at: now.toISOString(), policy: {...policy.source}};
  const details: DecisionDetails = {identity: {kind: req.identity.kind, name: req.identity.name, groups, teams}};
  const ruleDetails = (r: Rule): DecisionDetails['rule'] => ({id: r.id, effect: r.effect, ...(r.spec.description ? {description: r.spec.description} : {})});
  const finish = (decision: Omit<Decision, 'request' | 'at' | 'policy' | 'details'>, extra: Partial<DecisionDetails> = {}, decidedRule?: Rule): Explanation => {
    for (const t of traces) if (decidedRule && t.index === decidedRule.index) t.role = 'decided';
    return {decision: {...decision, ...base, details: {...details, ...extra}}, rules: traces, freezes: freezeTraces};
  };
  const rule = (t: RuleTrace) => policy.rules[t.index]!;

  // The type admits people and CI only; a stored or forwarded request might carry a host identity.
  if (req.identity.kind !== 'person' && req.identity.kind !== 'ci') {
    return finish({outcome: 'denied', code: 'no-rule', decidedBy: {kind: 'no-rule'}, message: `${c.who} may not ${operation}: it is neither a person nor a CI identity, and no rule can name it`});
  }

  const deny = traces.find((t) => t.effect === 'deny' && t.matched);
  if (deny) {
    for (const t of traces) if (t.effect === 'allow' && t.matched) t.role = 'overridden';
    const r = rule(deny);
    const note = r.spec.description ? ` (${r.spec.description})` : '';
    return finish({outcome: 'denied', code: 'denied-by-rule', decidedBy: {kind: 'rule', id: r.id}, message: `${c.who} may not ${operation}: rule ${r.id} denies it${note}`}, {rule: ruleDetails(r)}, r);
  }

  if (req.identity.kind === 'ci') {
    const ci = policy.spec.ci[req.identity.name];
    if (!Object.hasOwn(policy.spec.ci, req.identity.name) || !ci) {
      return finish(
        {outcome: 'denied', code: 'ci-not-declared', decidedBy: {kind: 'ci-builds', ci: req.identity.name}, message: `${c.who} may not ${operation}: ${req.identity.name} is not declared under ci in the policy, so it may do nothing`},
        {ci: {name: req.identity.name, declared: false, builds: null}},
      );
    }
    const builds = ci.builds === '*' ? ('*' as const) : {teams: ci.builds.teams ?? [], services: ci.builds.services ?? []};
    if (builds !== '*' && !builds.teams.includes(req.team) && !builds.services.some((p) => matchesName(req.service, p))) {
      const what = [builds.services.length ? `services ${list(builds.services)}` : '', builds.teams.length ? `services of team ${list(builds.teams)}` : ''].filter(Boolean);
      return finish(
        {
          outcome: 'denied',
          code: 'ci-outside-builds',
          decidedBy: {kind: 'ci-builds', ci: req.identity.name},
          message: `${c.who} may not ${operation}: ${req.identity.name} builds only ${list(what)}, and ${req.service} belongs to team ${req.team}`,
        },
        {ci: {name: req.identity.name, declared: true, builds}},
      );
    }
  }

  const holding = traces.filter((t) => t.effect === 'allow' && t.matched);
  if (holding.length === 0) {
    const waiting = traces.find((t) => t.effect === 'allow' && t.checks.every((k) => k.ok || k.check === 'during'));
    if (waiting) {
      const r = rule(waiting);
      const next = nextOpening(r, c);
      const windows = r.spec.during!;
      const text = windows.map((n) => policy.windows.get(n)!.text).join('; ');
      return finish(
        {
          outcome: 'denied',
          code: 'outside-window',
          decidedBy: {kind: 'rule', id: r.id},
          message: `${c.who} may not ${operation}: rule ${r.id} allows it only during ${list(windows)} (${text})${next ? `, next from ${formatLocal(next.at, next.zone)}` : ', which does not open again'}`,
        },
        {rule: ruleDetails(r), window: {rule: r.id, windows: [...windows], opensAt: next ? new Date(next.at).toISOString() : null, opensAtLocal: next ? formatLocal(next.at, next.zone) : null}},
        r,
      );
    }
    return finish({outcome: 'denied', code: 'no-rule', decidedBy: {kind: 'no-rule'}, message: `${c.who} may not ${operation}: no rule allows it`});
  }

  // The rule cited: the first that needs no approval, else the first that does.
  const chosen = rule(holding.find((t) => !rule(t).spec.approval) ?? holding[0]!);
  let freeze: FreezeDetails | undefined;
  let breakNote = '';
  if (frozen.freezes.length > 0) {
    const first = frozen.freezes[0]!;
    const until = frozen.until!;
    const zone = first.window.zone;
    const untilText = formatLocal(until, zone);
    // Cite a freeze nobody may break before one only others may break: the hint must be true.
    const notMine = frozen.freezes.filter((f) => f.breakGlass === undefined || !groups.includes(f.breakGlass));
    const unbreakable = notMine.find((f) => f.breakGlass === undefined) ?? notMine[0];
    const reason = req.breakGlassReason?.trim() ?? '';
    freeze = {environment: first.environment, id: first.id, until: new Date(until).toISOString(), untilLocal: untilText, timeZone: zone, breakGlassGroup: first.breakGlass ?? null, broken: false};
    if (unbreakable) {
      const blocking: FreezeDetails = {...freeze, id: unbreakable.id, breakGlassGroup: unbreakable.breakGlass ?? null};
      const who = unbreakable.breakGlass ? `; only members of group ${unbreakable.breakGlass} may break this freeze, with a reason` : '; nobody may break this freeze';
      return finish(
        {outcome: 'denied', code: 'frozen', decidedBy: {kind: 'freeze', environment: unbreakable.environment, id: unbreakable.id}, message: `${c.who} may not ${operation}: ${unbreakable.environment} is frozen (${unbreakable.id}) until ${untilText}${who}`},
        {rule: ruleDetails(chosen), freeze: blocking},
      );
    }
    if (reason === '') {
      return finish(
        {
          outcome: 'denied',
          code: 'break-glass-reason-required',
          decidedBy: {kind: 'freeze', environment: first.environment, id: first.id},
          message: `${c.who} may not ${operation}: ${first.environment} is frozen (${first.id}) until ${untilText}; ${c.who} may break the freeze (group ${first.breakGlass}) but must give a reason`,
        },
        {rule: ruleDetails(chosen), freeze},
      );
    }
    freeze = {...freeze, broken: true, reason};
    breakNote = `, breaking the freeze ${first.id} of ${first.environment} (until ${untilText}) with the reason "${reason}"`;
  }

  const extra: Partial<DecisionDetails> = {rule: ruleDetails(chosen), ...(freeze ? {freeze} : {})};
  if (chosen.spec.approval) {
    const approvers = [...new Set(holding.map((t) => rule(t).spec.approval!.group))];
    return finish(
      {
        outcome: 'approval-required',
        code: 'approval-required',
        decidedBy: {kind: 'rule', id: chosen.id},
        message: `${c.who} needs approval to ${operation}: rule ${chosen.id} requires approval from a member of group ${list(approvers)} other than ${c.who}${breakNote}`,
      },
      {...extra, approval: {rule: chosen.id, groups: approvers, requester: req.identity.name}},
      chosen,
    );
  }
  return finish(
    {outcome: 'allowed', code: freeze ? 'allowed-break-glass' : 'allowed', decidedBy: {kind: 'rule', id: chosen.id}, message: `${c.who} may ${operation}: rule ${chosen.id} allows it${breakNote}`},
    extra,
    chosen,
  );
}

/** The decision for a request at `now`: allowed, denied or approval-required, with the deciding rule and why. */
export function decide(policy: Policy, request: AccessRequest, now: Date): Decision {
  return explain(policy, request, now).decision;
}

/** The explanation as lines a person reads (`svctl can-i` without --json). */
export function formatExplanation(explanation: Explanation): string {
  const lines = [explanation.decision.message];
  if (explanation.rules.length > 0) {
    lines.push('rules:');
    for (const r of explanation.rules) lines.push(`  ${r.effect.padEnd(5)} ${r.id} [${r.role}]: ${r.why}`);
  } else lines.push('rules: none (nothing is allowed)');
  if (explanation.freezes.length > 0) {
    lines.push('freezes:');
    for (const f of explanation.freezes) lines.push(`  ${f.environment}/${f.id}: ${f.why}`);
  }
  return lines.join('\n');
}
