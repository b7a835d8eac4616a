import {describe, expect, it} from 'vitest';
import {type AccountsRecord, type AccountSystem, type PasswdEntry, planAccounts, reconcileAccounts} from './accounts.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const SHELLS = ['/bin/sh', '/bin/bash'];

/** /etc/passwd and useradd/usermod as a map, recording what was run. */
function fakeSystem(initial: PasswdEntry[], fail: Partial<Record<'create' | 'lock' | 'unlock' | 'setShell', string>> = {}): AccountSystem & {ran: string[]; passwd: Map<string, PasswdEntry>} {
  const passwd = new Map(initial.map((e) => [e.login, e]));
  const ran: string[] = [];
  let nextUid = 2000;
  const step = (what: keyof typeof fail, line: string) => {
    if (fail[what] && line.endsWith(fail[what]!)) throw new Error(`${what} refused`);
    ran.push(line);
  };
  return {
    ran,
    passwd,
    lookup: async (login) => passwd.get(login),
    create: async (login, shell) => {
      step('create', `create ${login}`);
      passwd.set(login, {login, uid: nextUid++, shell});
    },
    lock: async (login) => step('lock', `lock ${login}`),
    unlock: async (login) => step('unlock', `unlock ${login}`),
    setShell: async (login, shell) => {
      step('setShell', `shell ${login}`);
      passwd.set(login, {...passwd.get(login)!, shell});
    },
    shells: () => SHELLS,
  };
}

const empty: AccountsRecord = {version: 1, accounts: {}};
const managed = (login: string, uid: number, state: 'active' | 'locked' = 'active', shell = '/bin/sh') => ({login, uid, state, shell, createdAt: NOW.toISOString(), lockedAt: state === 'locked' ? NOW.toISOString() : null});

describe("cssh-daemon's accounts", () => {
  it('creates the granted logins that are missing, with the shell of the rules or the default, and records them', async () => {
    const system = fakeSystem([{login: 'root', uid: 0, shell: '/bin/bash'}]);
    const r = await reconcileAccounts(system, empty, [{login: 'deploy', shell: '/bin/sh'}, {login: 'app', shell: null}, {login: 'root', shell: null}], {defaultShell: '/bin/bash', now: NOW});
    expect(system.ran).toEqual(['create deploy', 'create app']);
    expect(system.passwd.get('app')?.shell).toBe('/bin/bash');
    expect(Object.keys(r.record.accounts).sort()).toEqual(['app', 'deploy']);
    expect(r.record.accounts.deploy).toMatchObject({uid: 2000, state: 'active', shell: '/bin/sh'});
    // root was granted and exists: never created, never touched, reported.
    expect(r.notManaged).toEqual(['root']);
    expect(r.errors).toEqual([]);
  });

  it('locks what it created once no longer granted, unlocks it when granted again; never deletes', async () => {
    const system = fakeSystem([{login: 'deploy', uid: 2000, shell: '/bin/sh'}]);
    const record: AccountsRecord = {version: 1, accounts: {deploy: managed('deploy', 2000)}};
    const locked = await reconcileAccounts(system, record, [], {defaultShell: '/bin/bash', now: NOW});
    expect(system.ran).toEqual(['lock deploy']);
    expect(locked.record.accounts.deploy).toMatchObject({state: 'locked', lockedAt: NOW.toISOString()});
    // Locked already: nothing to do the next time.
    expect((await reconcileAccounts(system, locked.record, [], {defaultShell: '/bin/bash', now: NOW})).done).toEqual([]);
    const back = await reconcileAccounts(system, locked.record, [{login: 'deploy', shell: '/bin/sh'}], {defaultShell: '/bin/bash', now: NOW});
    expect(system.ran).toEqual(['lock deploy', 'unlock deploy']);
    expect(back.record.accounts.deploy).toMatchObject({state: 'active', lockedAt: null});
  });

  it('never touches an account it did not create, nor one recreated under another uid, nor one that is gone', () => {
    const existing = new Map<string, PasswdEntry | undefined>([
      ['alice', {login: 'alice', uid: 1000, shell: '/bin/bash'}],
      ['deploy', {login: 'deploy', uid: 3000, shell: '/bin/sh'}],
      ['gone', undefined],
    ]);
    const record: AccountsRecord = {version: 1, accounts: {deploy: managed('deploy', 2000), gone: managed('gone', 2001)}};
    const plan = planAccounts({wanted: [{login: 'alice', shell: '/bin/sh'}], existing, record, defaultShell: '/bin/bash', shellAllowed: (s) => SHELLS.includes(s)});
    expect(plan.actions).toEqual([
      {kind: 'forget', login: 'deploy', why: 'the account now has uid 3000, not the 2000 cssh-daemon created: someone else owns it'},
      {kind: 'forget', login: 'gone', why: 'the account no longer exists'},
    ]);
    expect(plan.notManaged).toEqual(['alice']);
  });

  it('follows a changed shell of the rules for its own accounts; refuses names and shells the system would not take', async () => {
    const system = fakeSystem([{login: 'deploy', uid: 2000, shell: '/bin/sh'}]);
    const record: AccountsRecord = {version: 1, accounts: {deploy: managed('deploy', 2000)}};
    const r = await reconcileAccounts(system, record, [{login: 'deploy', shell: '/bin/bash'}, {login: 'Bad Name', shell: null}, {login: 'ops', shell: '/opt/nosh'}], {defaultShell: '/bin/bash', now: NOW});
    expect(system.ran).toEqual(['shell deploy']);
    expect(r.record.accounts.deploy?.shell).toBe('/bin/bash');
    expect(r.errors).toEqual(['Bad Name: not a login name useradd accepts', 'ops: its shell /opt/nosh is not in /etc/shells']);
  });

  it('carries on past a failing command and reports it; the record keeps what really happened', async () => {
    const system = fakeSystem([{login: 'old', uid: 2000, shell: '/bin/sh'}], {create: 'new'});
    const record: AccountsRecord = {version: 1, accounts: {old: managed('old', 2000)}};
    const r = await reconcileAccounts(system, record, [{login: 'new', shell: null}], {defaultShell: '/bin/bash', now: NOW});
    expect(system.ran).toEqual(['lock old']);
    expect(r.errors).toEqual(['create new: create refused']);
    expect(Object.keys(r.record.accounts)).toEqual(['old']);
    expect(r.record.accounts.old?.state).toBe('locked');
  });
});
