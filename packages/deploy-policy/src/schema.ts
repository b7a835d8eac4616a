import {didYouMean} from '@bcl/spec-loader';
import * as z from 'zod';
import {datedSpanProblem, dayIndex, isValidZone, knownZones, weeklySpanProblem} from './windows.js';

/**
 * The deploy policy file: who (people, groups, teams, CI identities) may do what (deploy,
 * rollback, cancel, read, build) to which services (by name, by owning team, the caller's own
 * team, or all) in which environments (declared, by name or pattern), when, and with whose
 * approval; freezes per environment and who may break them. Nothing is allowed unless a rule
 * allows it; a deny rule wins over every allow rule.
 */

export const ACTIONS = ['deploy', 'rollback', 'cancel', 'read', 'build'] as const;
export type Action = (typeof ACTIONS)[number];

/** Actions a freeze stops unless it says otherwise: the ones that change what runs. */
export const FROZEN_ACTIONS: readonly Action[] = ['deploy', 'rollback'];

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const name = z.string().regex(NAME, 'expected a name of letters, digits, ".", "_" or "-"');
/** Service, team and environment names as the service spec writes them. */
const specName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected lower-case letters, digits and "-" (as in service.yaml)');
// No "!" (negation reads as its opposite at a glance) and a bounded length (brace expansion grows fast).
const pattern = z
  .string()
  .max(100, 'expected at most 100 characters')
  .regex(/^[a-z0-9*?[\]{},-]+$/, 'expected a name or a glob pattern (lower-case letters, digits, "-", and * ? [...] {a,b})');
const email = z
  .string()
  .regex(/^[^\s@,]+@[^\s@,]+$/, 'expected an email address (as in the PKI certificate)')
  .transform((e) => e.toLowerCase());
const zone = z.string().superRefine((value, ctx) => {
  if (isValidZone(value)) return;
  const near = didYouMean(value, knownZones());
  ctx.addIssue({code: 'custom', message: `expected an IANA time zone such as Europe/Berlin or UTC, got "${value}"${near ? ` (did you mean "${near}"?)` : ''}`});
});
const text = z.string().min(1);

const actionList = z
  .array(z.enum([...ACTIONS, '*'], {error: `expected one of: ${ACTIONS.join(', ')} (or "*" for all)`}))
  .min(1, `expected at least one action (${ACTIONS.join(', ')})`);

/**
 * `"*"` or a mapping/list. A plain union would make the loader report a typo in the mapping as
 * "expected *"; a string branch refined to "*" keeps the mapping's own messages and says both.
 */
function starOr<T extends z.ZodType>(schema: T, expected: string) {
  return z
    .union([schema, z.string()], {error: `expected ${expected}`})
    .superRefine((value, ctx) => {
      // Aborting (continue: false): the checks across keys then never see a string for a mapping.
      if (typeof value === 'string' && value !== '*') ctx.addIssue({code: 'custom', message: `expected ${expected}, got string ${JSON.stringify(value)}`, continue: false});
    })
    .transform((value) => value as z.output<T> | '*');
}

const weeklySpan = z
  .strictObject({
    /** The days the span starts on (Mon ... Sun); without days, from and to may name a day each ("Fri 16:00"). */
    days: z.array(z.string().refine((d) => dayIndex(d) !== undefined, 'expected a day: Mon, Tue, Wed, Thu, Fri, Sat or Sun')).optional(),
    from: z.string(),
    to: z.string(),
  })
  .superRefine((span, ctx) => {
    const problem = weeklySpanProblem(span);
    if (problem) ctx.addIssue({code: 'custom', path: [problem.key], message: problem.message});
  });

const datedSpan = z.strictObject({from: z.string(), to: z.string()}).superRefine((span, ctx) => {
  const problem = datedSpanProblem(span);
  if (problem) ctx.addIssue({code: 'custom', path: [problem.key], message: problem.message});
});

/** The fields every window has (named windows under `windows`, and each freeze). */
const windowFields = {
  description: text.optional(),
  /** The IANA zone the times are in; default: the file's `timeZone`. */
  timeZone: zone.optional(),
  weekly: z.array(weeklySpan).min(1).optional(),
  dates: z.array(datedSpan).min(1).optional(),
};

const windowSchema = z.strictObject(windowFields);

const freezeSchema = z.strictObject({
  id: name,
  ...windowFields,
  /** The group whose members may break this freeze, giving a reason. None: nobody may. */
  breakGlass: name.optional(),
  /** The actions the freeze stops (default: deploy, rollback). */
  actions: actionList.optional(),
});

const environmentSchema = z.strictObject({
  description: text.optional(),
  freezes: z.array(freezeSchema).default([]),
});

const ciSchema = z.strictObject({
  description: text.optional(),
  /** What this CI identity builds, and so the only services it may act on, whatever a rule says. */
  builds: starOr(z.strictObject({teams: z.array(specName).min(1).optional(), services: z.array(pattern).min(1).optional()}), '"*" (everything) or a mapping of teams and services'),
});

const whoSchema = starOr(
  z.strictObject({
    people: z.array(email).min(1).optional(),
    groups: z.array(name).min(1).optional(),
    teams: z.array(specName).min(1).optional(),
    ci: z.array(name).min(1).optional(),
  }),
  '"*" (everyone) or a mapping of people, groups, teams and ci',
);

const servicesSchema = starOr(
  z.strictObject({
    names: z.array(pattern).min(1).optional(),
    /** Services whose spec names one of these teams. */
    teams: z.array(specName).min(1).optional(),
    /** Services of a team the caller is a member of (under `teams`). */
    ownTeam: z.literal(true, {error: 'expected true (or leave ownTeam out)'}).optional(),
  }),
  '"*" (every service) or a mapping of names, teams and ownTeam',
);

const ruleSchema = z.strictObject({
  /** Cited by every decision the rule makes. */
  id: name,
  description: text.optional(),
  allow: actionList.optional(),
  deny: actionList.optional(),
  who: whoSchema,
  services: servicesSchema,
  environments: starOr(z.array(pattern).min(1, 'expected at least one environment'), '"*" (every environment) or a list of names and patterns'),
  /** The rule holds only while one of these windows (under `windows`) is open. */
  during: z.array(name).min(1).optional(),
  /** An allowed operation waits for a second person's approval: a member of this group, not the requester. */
  approval: z.strictObject({group: name}).optional(),
});

export const policySchema = z
  .strictObject({
    description: text.optional(),
    /** The zone of every window and freeze that names none. */
    timeZone: zone.optional(),
    groups: z.record(name, z.array(email)).default({}),
    /** Teams as the services' specs name them, with their members: `ownTeam` and `who.teams` use them. */
    teams: z.record(specName, z.array(email)).default({}),
    ci: z.record(name, ciSchema).default({}),
    /** Groups whose members may ask what another identity may do (`svctl can-i --as`). */
    admins: z.array(name).default([]),
    windows: z.record(name, windowSchema).default({}),
    environments: z.record(specName, environmentSchema).default({}),
    rules: z.array(ruleSchema).default([]),
  })
  .superRefine(checkReferences);

export type PolicySpec = z.output<typeof policySchema>;
export type RuleSpec = PolicySpec['rules'][number];
export type FreezeSpec = PolicySpec['environments'][string]['freezes'][number];

const GLOB = /[*?[\]{}]/;
export function isPattern(value: string): boolean {
  return GLOB.test(value);
}

type Ctx = z.core.$RefinementCtx<z.output<z.ZodObject>>;

/** Rules across keys: every name a rule uses is declared, ids are unique, each window has a zone. */
function checkReferences(policy: {
  timeZone?: string | undefined;
  groups: Record<string, string[]>;
  teams: Record<string, string[]>;
  ci: Record<string, {builds: '*' | {teams?: string[] | undefined; services?: string[] | undefined}}>;
  admins: string[];
  windows: Record<string, {timeZone?: string | undefined; weekly?: unknown; dates?: unknown}>;
  environments: Record<string, {freezes: {id: string; timeZone?: string | undefined; weekly?: unknown; dates?: unknown; breakGlass?: string | undefined}[]}>;
  rules: RuleSpec[];
}, ctx: Ctx): void {
  const known = (what: string, names: string[], value: string, path: (string | number)[]) => {
    if (names.includes(value)) return;
    const near = didYouMean(value, names);
    const list = names.length > 0 ? `known: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''}` : 'none are declared';
    ctx.addIssue({code: 'custom', path, message: `"${value}" is not declared under ${what}${near ? ` (did you mean "${near}"?)` : ` (${list})`}`});
  };
  const groups = Object.keys(policy.groups);
  const teams = Object.keys(policy.teams);
  const ci = Object.keys(policy.ci);
  const windows = Object.keys(policy.windows);
  const environments = Object.keys(policy.environments);

  policy.admins.forEach((g, i) => known('groups', groups, g, ['admins', i]));
  for (const [n, c] of Object.entries(policy.ci)) {
    if (c.builds === '*') continue;
    if (!c.builds.teams && !c.builds.services) ctx.addIssue({code: 'custom', path: ['ci', n, 'builds'], message: 'name the teams or services this CI identity builds (or "*")'});
    c.builds.teams?.forEach((t, i) => known('teams', teams, t, ['ci', n, 'builds', 'teams', i]));
  }
  const needsWindow = (w: {timeZone?: string | undefined; weekly?: unknown; dates?: unknown}, path: (string | number)[]) => {
    if (!w.weekly && !w.dates) ctx.addIssue({code: 'custom', path, message: 'a window needs weekly spans or dates'});
    if (!w.timeZone && !policy.timeZone) ctx.addIssue({code: 'custom', path, message: 'no time zone: set timeZone here or at the top of the file'});
  };
  for (const [n, w] of Object.entries(policy.windows)) needsWindow(w, ['windows', n]);
  for (const [env, e] of Object.entries(policy.environments)) {
    const seen = new Map<string, number>();
    e.freezes.forEach((f, i) => {
      const path = ['environments', env, 'freezes', i];
      needsWindow(f, path);
      if (seen.has(f.id)) ctx.addIssue({code: 'custom', path: [...path, 'id'], message: `duplicate freeze id "${f.id}" (also freezes[${seen.get(f.id)}])`});
      else seen.set(f.id, i);
      if (f.breakGlass !== undefined) known('groups', groups, f.breakGlass, [...path, 'breakGlass']);
    });
  }

  const ids = new Map<string, number>();
  policy.rules.forEach((rule, i) => {
    const path = ['rules', i];
    if (ids.has(rule.id)) ctx.addIssue({code: 'custom', path: [...path, 'id'], message: `duplicate rule id "${rule.id}" (also rules[${ids.get(rule.id)}]); decisions cite rules by id`});
    else ids.set(rule.id, i);
    if (rule.allow && rule.deny) ctx.addIssue({code: 'custom', path: [...path, 'deny'], message: 'a rule either allows or denies: split it into two rules'});
    if (!rule.allow && !rule.deny) ctx.addIssue({code: 'custom', path, message: 'a rule needs allow or deny (a list of actions)'});
    if (rule.deny && rule.approval) ctx.addIssue({code: 'custom', path: [...path, 'approval'], message: 'a deny rule takes no approval (only allow rules wait for one)'});
    if (rule.who !== '*') {
      const who = rule.who;
      if (!who.people && !who.groups && !who.teams && !who.ci) ctx.addIssue({code: 'custom', path: [...path, 'who'], message: 'name people, groups, teams or ci (or "*" for everyone)'});
      who.groups?.forEach((g, j) => known('groups', groups, g, [...path, 'who', 'groups', j]));
      who.teams?.forEach((t, j) => known('teams', teams, t, [...path, 'who', 'teams', j]));
      who.ci?.forEach((c, j) => known('ci', ci, c, [...path, 'who', 'ci', j]));
    }
    if (rule.services !== '*') {
      const s = rule.services;
      if (!s.names && !s.teams && !s.ownTeam) ctx.addIssue({code: 'custom', path: [...path, 'services'], message: 'name services, teams or ownTeam: true (or "*" for every service)'});
      s.teams?.forEach((t, j) => known('teams', teams, t, [...path, 'services', 'teams', j]));
    }
    if (rule.environments !== '*') {
      // A misspelt environment in a deny rule would deny nothing: exact names must be declared.
      rule.environments.forEach((e, j) => {
        if (!isPattern(e)) known('environments', environments, e, [...path, 'environments', j]);
      });
    }
    rule.during?.forEach((w, j) => known('windows', windows, w, [...path, 'during', j]));
    if (rule.approval) known('groups', groups, rule.approval.group, [...path, 'approval', 'group']);
  });
}
