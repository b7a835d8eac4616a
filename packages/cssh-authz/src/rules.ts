import {isIP} from 'node:net';
import {USER_EXTENSIONS} from '@bcl/openssh-formats';
import * as z from 'zod';
import {formatDuration, parseDuration} from './duration.js';

/**
 * The access rules: who (groups of people by email) may log in where (host groups) as which
 * unix logins (principals), for how long and with which restrictions. Grants only add: a
 * principal is allowed when some grant of one of the caller's groups lists it for the host.
 */

/** The extensions a certificate gets when its grant does not restrict them. */
export const DEFAULT_EXTENSIONS = ['permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty', 'permit-user-rc'] as const;

/** The longest lifetime a rule or request may name at all; anything beyond is a mistake. */
export const MAX_TTL_SECONDS = 366 * 86_400;

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a name of letters, digits, ".", "_" or "-"');
const email = z
  .string()
  .regex(/^[^\s@,]+@[^\s@,]+$/, 'expected an email address')
  .transform((e) => e.toLowerCase());
const hostPattern = z.string().regex(/^[A-Za-z0-9*?._:[\]-]+$/, 'expected a hostname, an address or a pattern with * and ?');
export const principal = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/, 'expected a unix login name (letters, digits, "_", ".", "-", "@"; at most 64 characters)');
const duration = z.string().refine((d) => {
  const s = parseDuration(d);
  return s !== undefined && s > 0 && s <= MAX_TTL_SECONDS;
}, `expected a duration such as 30m, 8h or 1d (at most ${formatDuration(MAX_TTL_SECONDS)})`);
const cidr = z.string().refine(isCidr, 'expected an address or CIDR block such as 10.0.0.0/8 or 2001:db8::/32');

const grantSchema = z.strictObject({
  /** A group name under `groups`. */
  group: name,
  /** A host group name under `hostGroups`. */
  hosts: name,
  principals: z.array(principal).min(1, 'expected at least one principal'),
  maxTtl: duration.optional(),
  sourceAddresses: z.array(cidr).min(1).optional(),
  forceCommand: z
    .string()
    .min(1)
    .regex(/^[^\x00-\x1f]*$/, 'expected a command on one line')
    .optional(),
  extensions: z.array(z.enum(USER_EXTENSIONS)).optional(),
  /** A second factor the person must give at issuance: a TOTP code (csshctl mfa enroll). */
  mfa: z.enum(['totp'], {error: 'expected totp (the only second factor)'}).optional(),
  /** The login shell cssh-daemon gives the accounts it creates for these principals. */
  shell: z
    .string()
    .regex(/^\/[A-Za-z0-9_./+-]*$/, 'expected an absolute path such as /bin/bash')
    .optional(),
});

export const rulesSchema = z
  .strictObject({
    groups: z.record(name, z.array(email)).default({}),
    hostGroups: z.record(name, z.array(hostPattern).min(1, 'expected at least one host or pattern')).default({}),
    grants: z.array(grantSchema).default([]),
    /** Groups whose members may revoke certificates. */
    admins: z.array(name).default([]),
  })
  .superRefine((rules, ctx) => {
    const known = (what: Record<string, unknown>) => Object.keys(what).join(', ') || 'none defined';
    rules.grants.forEach((grant, i) => {
      if (!Object.hasOwn(rules.groups, grant.group)) {
        ctx.addIssue({code: 'custom', path: ['grants', i, 'group'], message: `"${grant.group}" is not a group under groups (known: ${known(rules.groups)})`});
      }
      if (!Object.hasOwn(rules.hostGroups, grant.hosts)) {
        ctx.addIssue({code: 'custom', path: ['grants', i, 'hosts'], message: `"${grant.hosts}" is not a host group under hostGroups (known: ${known(rules.hostGroups)})`});
      }
    });
    rules.admins.forEach((group, i) => {
      if (!Object.hasOwn(rules.groups, group)) ctx.addIssue({code: 'custom', path: ['admins', i], message: `"${group}" is not a group under groups (known: ${known(rules.groups)})`});
    });
  });

export type RulesSpec = z.output<typeof rulesSchema>;
type GrantSpec = RulesSpec['grants'][number];

export interface Grant extends GrantSpec {
  index: number;
  maxTtlSeconds: number;
}

export type Decision =
  | {
      ok: true;
      principals: string[];
      maxTtlSeconds: number;
      extensions: string[];
      criticalOptions: Record<string, string>;
      /** Indexes of the grants the certificate draws on, for the audit log. */
      grants: number[];
      /** The second factor one of those grants requires. */
      mfa: 'totp' | null;
    }
  | {ok: false; status: 403 | 409; code: string; message: string; notAllowed?: string[]};

export interface IssuanceRequest {
  email: string;
  /** Asked-for principals; none means all the caller may have (on `host`, when given). */
  principals?: string[];
  host?: string;
}

export class AccessRules {
  private readonly grants: Grant[];
  private readonly hostMatchers: Map<string, RegExp[]>;

  constructor(
    readonly spec: RulesSpec,
    /** The lifetime limit of a grant that names none. */
    readonly defaultMaxTtlSeconds: number,
  ) {
    this.grants = spec.grants.map((g, index) => ({...g, index, maxTtlSeconds: g.maxTtl ? parseDuration(g.maxTtl)! : defaultMaxTtlSeconds}));
    this.hostMatchers = new Map(Object.entries(spec.hostGroups).map(([group, patterns]) => [group, patterns.map(globToRegExp)]));
  }

  summary(): string {
    const s = this.spec;
    return `${Object.keys(s.groups).length} group(s), ${Object.keys(s.hostGroups).length} host group(s), ${s.grants.length} grant(s)`;
  }

  groupsOf(email: string): string[] {
    const e = email.toLowerCase();
    return Object.entries(this.spec.groups)
      .filter(([, members]) => members.includes(e))
      .map(([group]) => group);
  }

  isAdmin(email: string): boolean {
    const groups = this.groupsOf(email);
    return this.spec.admins.some((g) => groups.includes(g));
  }

  hostMatches(hostGroup: string, host: string): boolean {
    return (this.hostMatchers.get(hostGroup) ?? []).some((re) => re.test(host));
  }

  /** The grants of the caller's groups (for `host` when given). */
  grantsFor(email: string, host?: string): Grant[] {
    const groups = this.groupsOf(email);
    return this.grants.filter((g) => groups.includes(g.group) && (host === undefined || this.hostMatches(g.hosts, host)));
  }

  /** Decides a certificate request: which principals, lifetime limit, extensions and critical options. */
  decide(request: IssuanceRequest): Decision {
    const where = request.host ? ` on ${request.host}` : '';
    if (this.groupsOf(request.email).length === 0) {
      return {ok: false, status: 403, code: 'not_in_rules', message: `${request.email} is in no group of the access rules`};
    }
    const grants = this.grantsFor(request.email, request.host);
    if (grants.length === 0) return {ok: false, status: 403, code: 'no_grant', message: `no grant gives ${request.email} any principal${where}`};
    const allowed = [...new Set(grants.flatMap((g) => g.principals))].sort();
    const asked = request.principals === undefined || request.principals.length === 0 ? allowed : [...new Set(request.principals)];
    const notAllowed = asked.filter((p) => !allowed.includes(p));
    if (notAllowed.length > 0) {
      return {
        ok: false,
        status: 403,
        code: 'principal_not_allowed',
        message: `principal${notAllowed.length > 1 ? 's' : ''} ${notAllowed.map((p) => `"${p}"`).join(', ')} ${notAllowed.length > 1 ? 'are' : 'is'} not allowed for ${request.email}${where} (allowed: ${allowed.join(', ')})`,
        notAllowed,
      };
    }
    // Each principal draws on its least restrictive grant; the certificate carries the
    // restrictions of every grant it draws on.
    const chosen = new Map<number, Grant>();
    for (const p of asked) {
      const best = grants.filter((g) => g.principals.includes(p)).sort(byPermissiveness)[0]!;
      chosen.set(best.index, best);
    }
    const used = [...chosen.values()];
    const commands = new Set(used.map((g) => g.forceCommand).filter((c): c is string => c !== undefined));
    if (commands.size > 1) {
      return {ok: false, status: 409, code: 'conflicting_grants', message: `the principals asked for come from grants with different force-commands; ask for them in separate certificates`};
    }
    const sources = new Set(used.map((g) => g.sourceAddresses?.join(',')).filter((s): s is string => s !== undefined));
    if (sources.size > 1) {
      return {ok: false, status: 409, code: 'conflicting_grants', message: `the principals asked for come from grants with different source addresses; ask for them in separate certificates`};
    }
    const criticalOptions: Record<string, string> = {};
    const [command] = commands;
    const [source] = sources;
    if (command !== undefined) criticalOptions['force-command'] = command;
    if (source !== undefined) criticalOptions['source-address'] = source;
    const extensionSets = used.map((g) => g.extensions ?? [...DEFAULT_EXTENSIONS]);
    const extensions = extensionSets.reduce((acc, set) => acc.filter((e) => set.includes(e as never))).sort();
    return {
      ok: true,
      principals: asked.sort(),
      maxTtlSeconds: Math.min(...used.map((g) => g.maxTtlSeconds)),
      extensions,
      criticalOptions,
      grants: used.map((g) => g.index).sort((a, b) => a - b),
      mfa: used.some((g) => g.mfa === 'totp') ? 'totp' : null,
    };
  }

  /**
   * What an AuthorizedPrincipalsCommand prints for a login on a host: the login itself when a
   * grant for that host lists it (for the certificate's owner, when their email is known), with
   * that grant's restrictions as authorized_keys options. sshd applies them on top of the
   * certificate's own, so a certificate obtained for one host cannot escape the force-command,
   * source addresses or extensions another host's grant imposes.
   */
  principalsFor(query: {login: string; host: string; email?: string}): {principal: string; options: string[]; mfa: 'totp' | null}[] {
    const grants = (query.email === undefined ? this.grants.filter((g) => this.hostMatches(g.hosts, query.host)) : this.grantsFor(query.email, query.host)).filter((g) =>
      g.principals.includes(query.login),
    );
    const best = grants.sort(byPermissiveness)[0];
    if (!best) return [];
    return [{principal: query.login, options: restrictionOptions(best), mfa: best.mfa ?? null}];
  }

  /**
   * The unix accounts a host needs: every login some grant gives on it, with the shell of its
   * least restricted grant (the one a login draws on), for cssh-daemon.
   */
  loginsOn(host: string): {login: string; shell: string | null}[] {
    const grants = this.grants.filter((g) => this.hostMatches(g.hosts, host));
    const logins = [...new Set(grants.flatMap((g) => g.principals))].sort();
    return logins.map((login) => {
      const best = grants.filter((g) => g.principals.includes(login)).sort(byPermissiveness)[0]!;
      return {login, shell: best.shell ?? null};
    });
  }
}

/** A grant's limits in authorized_keys option syntax: "restrict" then what stays permitted. */
export function restrictionOptions(grant: Pick<GrantSpec, 'extensions' | 'forceCommand' | 'sourceAddresses'>): string[] {
  const permitted = grant.extensions ?? [...DEFAULT_EXTENSIONS];
  const options = ['restrict'];
  const map: Record<string, string> = {
    'permit-pty': 'pty',
    'permit-agent-forwarding': 'agent-forwarding',
    'permit-port-forwarding': 'port-forwarding',
    'permit-user-rc': 'user-rc',
    'permit-X11-forwarding': 'X11-forwarding',
  };
  for (const [extension, option] of Object.entries(map)) if (permitted.includes(extension as never)) options.push(option);
  if (grant.forceCommand !== undefined) options.push(`command="${grant.forceCommand.replace(/"/g, '\\"')}"`);
  if (grant.sourceAddresses !== undefined) options.push(`from="${grant.sourceAddresses.join(',')}"`);
  return options;
}

/** Fewer restrictions first: no force-command, no source addresses, no second factor, more extensions, longer lifetime. */
function byPermissiveness(a: Grant, b: Grant): number {
  const score = (g: Grant) => [g.forceCommand ? 1 : 0, g.sourceAddresses ? 1 : 0, g.mfa ? 1 : 0, -(g.extensions ?? DEFAULT_EXTENSIONS).length, -g.maxTtlSeconds];
  const sa = score(a);
  const sb = score(b);
  for (let i = 0; i < sa.length; i++) if (sa[i] !== sb[i]) return sa[i]! - sb[i]!;
  return a.index - b.index;
}

export function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

export function isCidr(text: string): boolean {
  const [address = '', prefix, ...rest] = text.split('/');
  if (rest.length > 0) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}
