import {readFileSync} from 'node:fs';

/**
 * What cssh-daemon last did, as it records it in `<stateDir>/status.json` after every cycle, and
 * how fresh that is. Dependency-free: `cssh-daemon status` and `bcl doctor` (through csshctl's
 * checks, `@bcl/cssh-daemon/status`) read the same file and say the same thing, also while the
 * daemon is stopped.
 */
export interface RefreshRecord {
  /** The file this refresh keeps (absent for accounts). */
  path?: string;
  lastAttempt: string | null;
  /** The last time the service answered and what it said was checked (and written, if it changed). */
  lastSuccess: string | null;
  /** The last time the file's content changed. */
  lastChange: string | null;
  error: string | null;
}

export interface ManagedAccount {
  login: string;
  uid: number;
  state: 'active' | 'locked';
  shell: string;
  createdAt: string;
  lockedAt: string | null;
}

export interface DaemonStatus {
  version: 1;
  hostname: string;
  server: string;
  pid: number;
  updatedAt: string;
  intervalSeconds: number;
  staleAfterSeconds: number;
  krl: RefreshRecord & {krlVersion: number | null; etag: string | null};
  caKeys: RefreshRecord & {keys: string[]};
  accounts: RefreshRecord & {enabled: boolean; managed: ManagedAccount[]; notManaged: string[]};
}

export const STATUS_FILE = 'status.json';
export const DEFAULT_STATE_DIR = '/var/lib/cssh-daemon';

/** The status file, or why there is none ("never ran" is a status too). */
export function readDaemonStatus(path: string): {status: DaemonStatus} | {missing: string} {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return {missing: (error as NodeJS.ErrnoException).code === 'ENOENT' ? `${path} does not exist: cssh-daemon has not run on this host` : `cannot read ${path}: ${(error as Error).message}`};
  }
  try {
    return {status: JSON.parse(text) as DaemonStatus};
  } catch (error) {
    return {missing: `${path} is not valid JSON: ${(error as Error).message}`};
  }
}

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** One line of the report, in bcl doctor's check shape. */
export interface StatusCheck {
  name: string;
  status: CheckStatus;
  message: string;
  hint?: string;
}

/** "45s", "12m", "3h", "2d": how long ago, for people. */
export function age(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

/**
 * The report: per refreshed thing, ok when it succeeded within staleAfter, fail when it is older
 * (the host still enforces the last good files: revocations made since are not known here) or
 * never succeeded.
 */
export function assessDaemonStatus(status: DaemonStatus, now: Date, prefix = 'cssh-daemon'): {stale: boolean; checks: StatusCheck[]} {
  const t = now.getTime();
  const checks: StatusCheck[] = [];
  const since = (iso: string | null) => (iso === null ? undefined : (t - Date.parse(iso)) / 1000);
  const judge = (name: string, r: RefreshRecord, what: string): StatusCheck => {
    const okAge = since(r.lastSuccess);
    const problem = r.error ? `; last attempt ${age(since(r.lastAttempt) ?? 0)} ago failed: ${r.error}` : '';
    if (okAge === undefined) {
      return {name, status: 'fail', message: `${what}: never refreshed${problem}`, hint: `Check that cssh-daemon runs (systemctl status cssh-daemon) and reaches ${status.server}.`};
    }
    if (okAge > status.staleAfterSeconds) {
      return {name, status: 'fail', message: `${what}: stale, last refreshed ${age(okAge)} ago (stale after ${age(status.staleAfterSeconds)})${problem}`, hint: `The host keeps its last good files; revocations and rotations since then have not reached it. Check that cssh-daemon runs and reaches ${status.server}.`};
    }
    return {name, status: r.error ? 'warn' : 'ok', message: `${what}: refreshed ${age(okAge)} ago${problem}`};
  };
  checks.push(judge(`${prefix}.krl`, status.krl, `KRL${status.krl.krlVersion !== null ? ` version ${status.krl.krlVersion}` : ''} (${status.krl.path})`));
  checks.push(judge(`${prefix}.caKeys`, status.caKeys, `${status.caKeys.keys.length} trusted CA key(s) (${status.caKeys.path})`));
  if (status.accounts.enabled) {
    const active = status.accounts.managed.filter((a) => a.state === 'active').map((a) => a.login);
    const locked = status.accounts.managed.filter((a) => a.state === 'locked').map((a) => a.login);
    checks.push(judge(`${prefix}.accounts`, status.accounts, `accounts: ${active.length > 0 ? active.join(', ') : 'none'} active${locked.length > 0 ? `, ${locked.join(', ')} locked` : ''}`));
  }
  return {stale: checks.some((c) => c.status === 'fail'), checks};
}
