import {formatProblem} from '@bcl/spec-loader';
import {describe, expect, it} from 'vitest';
import {parsePolicy, summarizePolicy} from './policy.js';

const problems = (text: string) => {
  const r = parsePolicy(text, 'policy.yaml');
  if (r.ok) throw new Error('expected problems');
  return r.problems.map(formatProblem);
};

describe('the policy file', () => {
  it('loads a small valid policy with its defaults', () => {
    const r = parsePolicy('groups:\n  sre: [Sam@Example.com]\nenvironments:\n  prod: {}\nrules:\n  - id: sre\n    allow: ["*"]\n    who: {groups: [sre]}\n    services: "*"\n    environments: [prod]\n', 'policy.yaml');
    if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
    expect(r.policy.spec.groups).toEqual({sre: ['sam@example.com']});
    expect(r.policy.rules[0]).toMatchObject({id: 'sre', effect: 'allow', actions: ['deploy', 'rollback', 'cancel', 'read', 'build']});
    expect(r.policy.source.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(summarizePolicy(r.policy)).toBe('1 group, 0 teams, 0 CI identities, 1 environment (0 freezes), 1 rule');
  });

  it('reads times and dates as text (YAML 1.2: no sexagesimal numbers, no timestamps)', () => {
    const r = parsePolicy('windows:\n  w:\n    timeZone: UTC\n    weekly: [{from: 09:00, to: 18:00}]\n    dates: [{from: 2025-12-22 00:00, to: 2026-01-05 08:00}]\n', 'policy.yaml');
    expect(r.ok && r.policy.windows.get('w')!.text).toBe('daily 09:00 to 18:00, 2025-12-22 00:00 to 2026-01-05 08:00 UTC');
  });

  it('an empty file is a problem, not a policy that denies everything by accident', () => {
    expect(problems('')).toEqual(['policy.yaml: the file is empty; expected a mapping of keys (description, timeZone, groups, teams, ci, admins, windows, environments, ...)']);
  });

  it('names the line, the key and what was expected, with did-you-mean', () => {
    const text = [
      'timeZone: Europe/Berln', // 1
      'groups:', // 2
      '  sre: [sam@example.com, sam]', // 3
      'rules:', // 4
      '  - id: a', // 5
      '    allow: [deploy, depoly]', // 6
      '    who: {gropus: [sre]}', // 7
      '    services: all', // 8
      '    environments: prod', // 9
      '    when: [night]', // 10
    ].join('\n');
    expect(problems(text)).toEqual([
      'policy.yaml:1:11: timeZone: expected an IANA time zone such as Europe/Berlin or UTC, got "Europe/Berln" (did you mean "Europe/Berlin"?)',
      'policy.yaml:3:26: groups.sre[1]: expected an email address (as in the PKI certificate)',
      'policy.yaml:6:21: rules[0].allow[1]: expected one of: deploy, rollback, cancel, read, build (or "*" for all), got string "depoly" (did you mean "deploy"?)',
      'policy.yaml:7:11: rules[0].who.gropus: unknown key (did you mean "groups"?)',
      'policy.yaml:8:15: rules[0].services: expected "*" (every service) or a mapping of names, teams and ownTeam, got string "all"',
      'policy.yaml:9:19: rules[0].environments: expected "*" (every environment) or a list of names and patterns, got string "prod"',
      'policy.yaml:10:5: rules[0].when: unknown key (expected one of: id, description, allow, deny, who, services, environments, during, approval)',
    ]);
  });

  it('checks every name a rule, a freeze or a CI identity uses against its declaration', () => {
    const text = [
      'timeZone: Europe/Berlin', // 1
      'groups: {sre: [sam@example.com]}', // 2
      'teams: {payments: [ann@example.com]}', // 3
      'ci: {jenkins: {builds: {teams: [paymnts]}}}', // 4
      'admins: [platfrom]', // 5
      'windows: {night: {weekly: [{from: "22:00", to: "06:00"}]}}', // 6
      'environments:', // 7
      '  prod:', // 8
      '    freezes:', // 9
      '      - {id: weekend, weekly: [{from: Fri 16:00, to: Mon 08:00}], breakGlass: sres}', // 10
      '      - {id: weekend, dates: [{from: "2025-12-24 00:00", to: "2025-12-20 00:00"}]}', // 11
      'rules:', // 12
      '  - {id: a, allow: [deploy], who: {groups: [sre], ci: [jenkins2]}, services: {teams: [search]}, environments: [prdo, "preview-*"]}', // 13
      '  - {id: a, allow: [read], deny: [read], who: {teams: [payments]}, services: {}, environments: "*", approval: {group: sre}}', // 14
      '  - {id: b, who: "*", services: "*", environments: "*", during: [nigth], approval: {group: release}}', // 15
    ].join('\n');
    expect(problems(text)).toEqual([
      'policy.yaml:4:33: ci.jenkins.builds.teams[0]: "paymnts" is not declared under teams (did you mean "payments"?)',
      'policy.yaml:5:10: admins[0]: "platfrom" is not declared under groups (known: sre)',
      'policy.yaml:10:79: environments.prod.freezes[0].breakGlass: "sres" is not declared under groups (did you mean "sre"?)',
      'policy.yaml:11:14: environments.prod.freezes[1].id: duplicate freeze id "weekend" (also freezes[0])',
      'policy.yaml:11:62: environments.prod.freezes[1].dates[0].to: the span ends ("2025-12-20 00:00") before it starts ("2025-12-24 00:00")',
      'policy.yaml:13:56: rules[0].who.ci[0]: "jenkins2" is not declared under ci (did you mean "jenkins"?)',
      'policy.yaml:13:87: rules[0].services.teams[0]: "search" is not declared under teams (known: payments)',
      'policy.yaml:13:112: rules[0].environments[0]: "prdo" is not declared under environments (did you mean "prod"?)',
      'policy.yaml:14:10: rules[1].id: duplicate rule id "a" (also rules[0]); decisions cite rules by id',
      'policy.yaml:14:34: rules[1].deny: a rule either allows or denies: split it into two rules',
      'policy.yaml:14:78: rules[1].services: name services, teams or ownTeam: true (or "*" for every service)',
      'policy.yaml:14:111: rules[1].approval: a deny rule takes no approval (only allow rules wait for one)',
      'policy.yaml:15:5: rules[2]: a rule needs allow or deny (a list of actions)',
      'policy.yaml:15:66: rules[2].during[0]: "nigth" is not declared under windows (did you mean "night"?)',
      'policy.yaml:15:92: rules[2].approval.group: "release" is not declared under groups (known: sre)',
    ]);
  });

  it('needs a time zone for every window and every freeze', () => {
    expect(problems('windows: {w: {weekly: [{from: "09:00", to: "17:00"}]}}\nenvironments: {prod: {freezes: [{id: f, dates: [{from: "2025-01-01 00:00", to: "2025-01-02 00:00"}]}]}}\n')).toEqual([
      'policy.yaml:1:14: windows.w: no time zone: set timeZone here or at the top of the file',
      'policy.yaml:2:33: environments.prod.freezes[0]: no time zone: set timeZone here or at the top of the file',
    ]);
  });
});
