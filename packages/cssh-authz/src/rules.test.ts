import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {AccessRules, rulesSchema} from './rules.js';
import {loadYamlFile} from './yaml-file.js';

const dir = mkdtempSync(join(tmpdir(), 'cssh-rules-'));
afterAll(() => rmSync(dir, {recursive: true, force: true}));

const RULES = `
groups:
  sre: [Ann@Example.com, bob@example.com]
  dev: [carl@example.com, bob@example.com]
hostGroups:
  all: ["*"]
  web: ["web-*.example.com", web.example.com]
  db: [db1.example.com]
grants:
  - group: sre
    hosts: all
    principals: [root, ops]
    maxTtl: 8h
  - group: dev
    hosts: web
    principals: [deploy]
    maxTtl: 1h
  - group: dev
    hosts: db
    principals: [deploy, dbadmin]
    maxTtl: 30m
    forceCommand: /usr/bin/psql
    sourceAddresses: [10.0.0.0/8]
    extensions: [permit-pty]
admins: [sre]
`;

function load(text: string): AccessRules {
  const file = join(dir, `rules-${Math.random()}.yaml`);
  writeFileSync(file, text);
  return new AccessRules(loadYamlFile(file, rulesSchema), 8 * 3600);
}

function invalid(text: string): string {
  const file = join(dir, `bad-${Math.random()}.yaml`);
  writeFileSync(file, text);
  try {
    loadYamlFile(file, rulesSchema);
  } catch (error) {
    return (error as Error).message.replace(file, 'rules.yaml');
  }
  throw new Error('expected the rules to be refused');
}

describe('access rules', () => {
  const rules = load(RULES);

  it('gives every allowed principal when none is asked, emails compared case-insensitively', () => {
    expect(rules.decide({email: 'ann@example.com'})).toMatchObject({ok: true, principals: ['ops', 'root'], maxTtlSeconds: 8 * 3600, criticalOptions: {}});
    expect(rules.decide({email: 'ANN@example.com'}).ok).toBe(true);
  });

  it('refuses a principal that is not granted, naming it, instead of dropping it', () => {
    expect(rules.decide({email: 'carl@example.com', principals: ['deploy', 'root'], host: 'web-1.example.com'})).toEqual({
      ok: false,
      status: 403,
      code: 'principal_not_allowed',
      message: 'principal "root" is not allowed for carl@example.com on web-1.example.com (allowed: deploy)',
      notAllowed: ['root'],
    });
    expect(rules.decide({email: 'eve@example.com'})).toMatchObject({ok: false, status: 403, message: 'eve@example.com is in no group of the access rules'});
    expect(rules.decide({email: 'carl@example.com', host: 'mail.example.com'})).toMatchObject({ok: false, message: 'no grant gives carl@example.com any principal on mail.example.com'});
  });

  it("carries the restrictions of the grant a principal comes from, and only that host's grants count", () => {
    expect(rules.decide({email: 'carl@example.com', host: 'db1.example.com', principals: ['dbadmin']})).toEqual({
      ok: true,
      principals: ['dbadmin'],
      maxTtlSeconds: 1800,
      extensions: ['permit-pty'],
      criticalOptions: {'force-command': '/usr/bin/psql', 'source-address': '10.0.0.0/8'},
      grants: [2],
      mfa: null,
    });
    // On a web host, deploy comes from the unrestricted web grant.
    expect(rules.decide({email: 'carl@example.com', host: 'web-7.example.com'})).toMatchObject({ok: true, principals: ['deploy'], maxTtlSeconds: 3600, criticalOptions: {}});
    // Without a host, deploy uses its least restricted grant; dbadmin brings the db restrictions.
    expect(rules.decide({email: 'carl@example.com', principals: ['deploy']})).toMatchObject({ok: true, criticalOptions: {}, grants: [1]});
    expect(rules.decide({email: 'carl@example.com'})).toMatchObject({ok: true, principals: ['dbadmin', 'deploy'], maxTtlSeconds: 1800, criticalOptions: {'force-command': '/usr/bin/psql'}, extensions: ['permit-pty']});
  });

  it('answers principal queries for a host with the grant restrictions as sshd options', () => {
    expect(rules.principalsFor({login: 'root', host: 'db1.example.com'})).toEqual([
      {principal: 'root', options: ['restrict', 'pty', 'agent-forwarding', 'port-forwarding', 'user-rc'], mfa: null},
    ]);
    expect(rules.principalsFor({login: 'dbadmin', host: 'db1.example.com', email: 'carl@example.com'})).toEqual([
      {principal: 'dbadmin', options: ['restrict', 'pty', 'command="/usr/bin/psql"', 'from="10.0.0.0/8"'], mfa: null},
    ]);
    expect(rules.principalsFor({login: 'root', host: 'db1.example.com', email: 'carl@example.com'})).toEqual([]);
    expect(rules.principalsFor({login: 'deploy', host: 'mail.example.com'})).toEqual([]);
    expect(rules.isAdmin('bob@example.com')).toBe(true);
    expect(rules.isAdmin('carl@example.com')).toBe(false);
  });

  it('refuses invalid rules naming the file, line and key', () => {
    expect(invalid('groups:\n  sre: [ann@example.com]\nhostGroups:\n  all: ["*"]\ngrants:\n  - group: ops\n    hosts: all\n    principals: [root]\n')).toBe(
      'rules.yaml:6:12: grants[0].group: "ops" is not a group under groups (known: sre)',
    );
    expect(invalid('groups:\n  sre: [not-an-email]\n')).toBe('rules.yaml:2:9: groups.sre[0]: expected an email address');
    expect(invalid('groups: {}\ngrantz: []\n')).toBe('rules.yaml:2:1: grantz: unknown key (did you mean "grants"?)');
    expect(invalid('groups:\n  sre: [a@b.c]\nhostGroups:\n  h: [x]\ngrants:\n  - {group: sre, hosts: h, principals: [root], maxTTL: 1h}\n')).toBe('rules.yaml:6:48: grants[0].maxTTL: unknown key (did you mean "maxTtl"?)');
    expect(invalid('groups:\n  sre: [a@b.c]\nhostGroups:\n  h: [x]\ngrants:\n  - {group: sre, hosts: h, principals: [root], maxTtl: 100y}\n')).toMatch(/^rules.yaml:6:56: grants\[0\]\.maxTtl: expected a duration/);
    expect(invalid('groups:\n  sre: [a@b.c]\nhostGroups:\n  h: [x]\ngrants:\n  - {group: sre, hosts: h, principals: ["bad login"]}\n')).toMatch(/grants\[0\]\.principals\[0\]: expected a unix login name/);
    expect(invalid('groups: [\n')).toMatch(/^rules.yaml:\d+:\d+: not valid YAML/);
  });

  it('requires a second factor where a grant says mfa: totp, and only there', () => {
    const mfa = load(`
groups:
  sre: [ann@example.com]
hostGroups:
  prod: [prod-*]
  all: ["*"]
grants:
  - {group: sre, hosts: prod, principals: [root], mfa: totp, shell: /bin/sh}
  - {group: sre, hosts: all, principals: [ops]}
  - {group: sre, hosts: all, principals: [deploy], mfa: totp}
  - {group: sre, hosts: prod, principals: [deploy]}
`);
    expect(mfa.decide({email: 'ann@example.com', principals: ['root']})).toMatchObject({ok: true, mfa: 'totp', grants: [0]});
    expect(mfa.decide({email: 'ann@example.com', principals: ['ops']})).toMatchObject({ok: true, mfa: null});
    // A principal draws on its least restricted grant: on prod hosts deploy needs no code.
    expect(mfa.decide({email: 'ann@example.com', principals: ['deploy'], host: 'prod-1'})).toMatchObject({ok: true, mfa: null, grants: [3]});
    expect(mfa.decide({email: 'ann@example.com', principals: ['deploy'], host: 'dev-1'})).toMatchObject({ok: true, mfa: 'totp', grants: [2]});
    expect(mfa.principalsFor({login: 'root', host: 'prod-1', email: 'ann@example.com'})).toEqual([{principal: 'root', options: expect.any(Array), mfa: 'totp'}]);
    expect(mfa.principalsFor({login: 'deploy', host: 'prod-1', email: 'ann@example.com'})).toEqual([{principal: 'deploy', options: expect.any(Array), mfa: null}]);
    expect(invalid('groups:\n  sre: [a@b.c]\nhostGroups:\n  h: [x]\ngrants:\n  - {group: sre, hosts: h, principals: [root], mfa: sms}\n')).toBe('rules.yaml:6:53: grants[0].mfa: expected totp (the only second factor), got string "sms"');
  });

  it("lists the accounts a host needs, each with its grant's shell, for cssh-daemon", () => {
    const hosts = load(`
groups:
  sre: [ann@example.com]
  dev: [carl@example.com]
hostGroups:
  web: [web-*]
  all: ["*"]
grants:
  - {group: dev, hosts: web, principals: [deploy, app], shell: /bin/sh}
  - {group: sre, hosts: all, principals: [ops]}
  - {group: sre, hosts: web, principals: [app], shell: /usr/bin/zsh, forceCommand: /usr/bin/true}
`);
    expect(hosts.loginsOn('web-1')).toEqual([
      {login: 'app', shell: '/bin/sh'},
      {login: 'deploy', shell: '/bin/sh'},
      {login: 'ops', shell: null},
    ]);
    expect(hosts.loginsOn('db-1')).toEqual([{login: 'ops', shell: null}]);
    expect(invalid('groups:\n  sre: [a@b.c]\nhostGroups:\n  h: [x]\ngrants:\n  - {group: sre, hosts: h, principals: [root], shell: bash}\n')).toBe('rules.yaml:6:55: grants[0].shell: expected an absolute path such as /bin/bash');
  });
});
