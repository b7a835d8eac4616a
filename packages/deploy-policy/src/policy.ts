import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {checkYaml, type Problem, SpecError, type SpecErrorReason} from '@bcl/spec-loader';
import {type Action, ACTIONS, FROZEN_ACTIONS, type PolicySpec, policySchema, type RuleSpec} from './schema.js';
import {compileWindow, type TimeWindow} from './windows.js';

/** A rule ready to evaluate: its specification, its position in the file and its actions expanded. */
export interface Rule {
  id: string;
  /** Index in `rules` (file order: the first matching rule is the one cited). */
  index: number;
  effect: 'allow' | 'deny';
  actions: readonly Action[];
  spec: RuleSpec;
}

export interface Freeze {
  id: string;
  environment: string;
  description: string | undefined;
  window: TimeWindow;
  /** The group whose members may break it with a reason; undefined: nobody. */
  breakGlass: string | undefined;
  actions: readonly Action[];
}

/** A validated, compiled policy: what `decide` reads. Immutable; a reload makes a new one. */
export interface Policy {
  /** The file it came from, and the SHA-256 of its bytes (cited in every decision, for the audit log). */
  readonly source: {file: string; sha256: string};
  readonly spec: PolicySpec;
  readonly rules: readonly Rule[];
  readonly windows: ReadonlyMap<string, TimeWindow>;
  /** Freezes by environment. */
  readonly freezes: ReadonlyMap<string, readonly Freeze[]>;
}

function expand(actions: readonly string[] | undefined): Action[] {
  if (!actions) return [];
  return actions.includes('*') ? [...ACTIONS] : ACTIONS.filter((a) => actions.includes(a));
}

/** A policy from a specification the schema accepted (`policySchema.parse`). */
export function compilePolicy(spec: PolicySpec, source: {file: string; sha256: string} = {file: '<policy>', sha256: ''}): Policy {
  const zoneOf = (w: {timeZone?: string | undefined}) => w.timeZone ?? spec.timeZone ?? 'UTC';
  const windows = new Map(Object.entries(spec.windows).map(([n, w]) => [n, compileWindow(w, zoneOf(w))]));
  const freezes = new Map(
    Object.entries(spec.environments).map(([environment, e]) => [
      environment,
      e.freezes.map((f): Freeze => ({
        id: f.id,
        environment,
        description: f.description,
        window: compileWindow(f, zoneOf(f)),
        breakGlass: f.breakGlass,
        actions: f.actions ? expand(f.actions) : FROZEN_ACTIONS,
      })),
    ]),
  );
  const rules = spec.rules.map((r, index): Rule => ({id: r.id, index, effect: r.deny ? 'deny' : 'allow', actions: expand(r.deny ?? r.allow), spec: r}));
  return {source, spec, rules, windows, freezes};
}

export type PolicyCheck = {ok: true; policy: Policy} | {ok: false; file: string; reason: SpecErrorReason; problems: Problem[]};

export function sha256(bytes: string | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Validates policy text (every problem as `file:line:column: key.path: message`) and compiles it. */
export function parsePolicy(input: string | Uint8Array, file: string): PolicyCheck {
  const result = checkYaml(policySchema, input, file);
  if (!result.ok) return {ok: false, file, reason: result.source ? 'invalid' : 'syntax', problems: result.problems};
  return {ok: true, policy: compilePolicy(result.value, {file, sha256: sha256(input)})};
}

/** Reads and validates a policy file, without throwing. */
export function checkPolicyFile(file: string): PolicyCheck {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    return {ok: false, file, reason: 'unreadable', problems: [cannotRead(file, error as NodeJS.ErrnoException)]};
  }
  return parsePolicy(bytes, file);
}

/** The problem of a file that cannot be read, in the loader's words. */
export function cannotRead(file: string, error: NodeJS.ErrnoException): Problem {
  const code = error.code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a file' : code === 'EACCES' ? 'permission denied' : error.message;
  return {file, path: [], message: `cannot read: ${why}`};
}

/** Reads a policy file; throws SpecError (from @bcl/spec-loader) with every problem. */
export function loadPolicy(file: string): Policy {
  const result = checkPolicyFile(file);
  if (!result.ok) throw new SpecError(file, result.problems, result.reason);
  return result.policy;
}

/** `3 groups, 2 teams, 1 CI identity, 4 environments (2 freezes), 9 rules`. */
export function summarizePolicy(policy: Policy): string {
  const s = policy.spec;
  const n = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;
  const freezes = [...policy.freezes.values()].reduce((sum, f) => sum + f.length, 0);
  return [
    n(Object.keys(s.groups).length, 'group'),
    n(Object.keys(s.teams).length, 'team'),
    n(Object.keys(s.ci).length, 'CI identity', 'CI identities'),
    `${n(Object.keys(s.environments).length, 'environment')} (${n(freezes, 'freeze')})`,
    n(policy.rules.length, 'rule'),
  ].join(', ');
}
