import type {ManagedAccount} from './status.js';

/**
 * The unix accounts of the logins granted on this host. cssh-daemon creates the missing ones,
 * locks the ones it created that are no longer granted (never deleting a home), unlocks them
 * when they are granted again, and never touches an account it did not create: what it created
 * is recorded (login and uid), and a record whose uid no longer matches is dropped, not obeyed.
 */
export interface PasswdEntry {
  login: string;
  uid: number;
  shell: string;
}

export interface AccountsRecord {
  version: 1;
  accounts: Record<string, ManagedAccount>;
}

export type AccountAction =
  | {kind: 'create'; login: string; shell: string}
  | {kind: 'lock'; login: string; uid: number}
  | {kind: 'unlock'; login: string; uid: number}
  | {kind: 'set-shell'; login: string; uid: number; shell: string}
  | {kind: 'forget'; login: string; why: string};

/** useradd's own default NAME_REGEX on Debian, less the trailing "$" of machine accounts. */
const LOGIN = /^[a-z_][a-z0-9_.-]{0,31}$/;

export function planAccounts(input: {
  wanted: readonly {login: string; shell: string | null}[];
  existing: ReadonlyMap<string, PasswdEntry | undefined>;
  record: AccountsRecord;
  defaultShell: string;
  /** Whether a shell may be given to an account (listed in /etc/shells). */
  shellAllowed: (shell: string) => boolean;
}): {actions: AccountAction[]; notManaged: string[]; skipped: {login: string; why: string}[]} {
  const actions: AccountAction[] = [];
  const notManaged: string[] = [];
  const skipped: {login: string; why: string}[] = [];
  const wanted = new Map(input.wanted.map((w) => [w.login, w.shell ?? input.defaultShell]));
  for (const [login, managed] of Object.entries(input.record.accounts)) {
    const entry = input.existing.get(login);
    if (!entry) actions.push({kind: 'forget', login, why: 'the account no longer exists'});
    else if (entry.uid !== managed.uid) actions.push({kind: 'forget', login, why: `the account now has uid ${entry.uid}, not the ${managed.uid} cssh-daemon created: someone else owns it`});
    else if (!wanted.has(login) && managed.state === 'active') actions.push({kind: 'lock', login, uid: entry.uid});
  }
  for (const [login, shell] of wanted) {
    if (!LOGIN.test(login)) {
      skipped.push({login, why: 'not a login name useradd accepts'});
      continue;
    }
    const entry = input.existing.get(login);
    const managed = input.record.accounts[login];
    const ours = managed !== undefined && entry !== undefined && entry.uid === managed.uid;
    if (!entry) {
      if (input.shellAllowed(shell)) actions.push({kind: 'create', login, shell});
      else skipped.push({login, why: `its shell ${shell} is not in /etc/shells`});
    } else if (!ours) notManaged.push(login);
    else {
      if (managed.state === 'locked') actions.push({kind: 'unlock', login, uid: entry.uid});
      if (entry.shell !== shell) {
        if (input.shellAllowed(shell)) actions.push({kind: 'set-shell', login, uid: entry.uid, shell});
        else skipped.push({login, why: `its shell ${shell} is not in /etc/shells`});
      }
    }
  }
  return {actions, notManaged: notManaged.sort(), skipped};
}

/** How accounts are read and changed: the system's tools, or a test's double of them. */
export interface AccountSystem {
  lookup(login: string): Promise<PasswdEntry | undefined>;
  create(login: string, shell: string): Promise<void>;
  lock(login: string): Promise<void>;
  unlock(login: string): Promise<void>;
  setShell(login: string, shell: string): Promise<void>;
  shells(): string[];
}

/**
 * One reconciliation: looks up the wanted and recorded logins, plans, applies each action on
 * its own (a failure is reported, the others still happen) and returns the new record.
 */
export async function reconcileAccounts(
  system: AccountSystem,
  record: AccountsRecord,
  wanted: readonly {login: string; shell: string | null}[],
  options: {defaultShell: string; now: Date},
): Promise<{record: AccountsRecord; notManaged: string[]; errors: string[]; done: AccountAction[]}> {
  const names = new Set([...wanted.map((w) => w.login).filter((l) => LOGIN.test(l)), ...Object.keys(record.accounts)]);
  const existing = new Map<string, PasswdEntry | undefined>();
  for (const login of names) existing.set(login, await system.lookup(login));
  const shells = new Set(system.shells());
  const plan = planAccounts({wanted, existing, record, defaultShell: options.defaultShell, shellAllowed: (s) => shells.has(s)});
  const next: AccountsRecord = {version: 1, accounts: {...record.accounts}};
  const errors = plan.skipped.map((s) => `${s.login}: ${s.why}`);
  const done: AccountAction[] = [];
  const at = options.now.toISOString();
  for (const action of plan.actions) {
    try {
      switch (action.kind) {
        case 'forget':
          delete next.accounts[action.login];
          break;
        case 'create': {
          await system.create(action.login, action.shell);
          const entry = await system.lookup(action.login);
          if (!entry) throw new Error('useradd succeeded but the account cannot be found');
          next.accounts[action.login] = {login: action.login, uid: entry.uid, state: 'active', shell: action.shell, createdAt: at, lockedAt: null};
          break;
        }
        case 'lock':
          await system.lock(action.login);
          next.accounts[action.login] = {...next.accounts[action.login]!, state: 'locked', lockedAt: at};
          break;
        case 'unlock':
          await system.unlock(action.login);
          next.accounts[action.login] = {...next.accounts[action.login]!, state: 'active', lockedAt: null};
          break;
        case 'set-shell':
          await system.setShell(action.login, action.shell);
          next.accounts[action.login] = {...next.accounts[action.login]!, shell: action.shell};
          break;
      }
      done.push(action);
    } catch (error) {
      errors.push(`${action.kind} ${action.login}: ${(error as Error).message}`);
    }
  }
  return {record: next, notManaged: plan.notManaged, errors, done};
}
