import {join} from 'node:path';
import type {HostLogins} from '@bcl/cssh-authz/api';
import {type AccountsRecord, type AccountSystem, reconcileAccounts} from './accounts.js';
import {type AuthzHttp, refusal} from './client.js';
import type {DaemonConfig} from './config.js';
import {type FileIo, refreshCaKeys, refreshKrl} from './host-files.js';
import {type DaemonStatus, type RefreshRecord, STATUS_FILE} from './status.js';

export interface DaemonDeps {
  config: DaemonConfig;
  http: AuthzHttp;
  io: FileIo;
  accounts: AccountSystem;
  now: () => Date;
  log: (message: string) => void;
}

const ACCOUNTS_FILE = 'accounts.json';

/** The status before the first cycle, or as the last one left it. */
export function loadStatus(deps: Pick<DaemonDeps, 'config' | 'io'>): DaemonStatus {
  const c = deps.config;
  const empty = (path?: string): RefreshRecord => ({...(path ? {path} : {}), lastAttempt: null, lastSuccess: null, lastChange: null, error: null});
  const fresh: DaemonStatus = {
    version: 1,
    hostname: c.hostname,
    server: c.server,
    pid: process.pid,
    updatedAt: new Date(0).toISOString(),
    intervalSeconds: c.intervalSeconds,
    staleAfterSeconds: c.staleAfterSeconds,
    krl: {...empty(c.files.krl), krlVersion: null, etag: null},
    caKeys: {...empty(c.files.trustedCaKeys), keys: []},
    accounts: {...empty(), enabled: c.accounts.manage, managed: [], notManaged: []},
  };
  const text = deps.io.read(join(c.stateDir, STATUS_FILE));
  if (!text) return fresh;
  try {
    const old = JSON.parse(text.toString('utf8')) as DaemonStatus;
    // What was refreshed before carries over; what the configuration says is today's.
    return {...fresh, krl: {...old.krl, path: c.files.krl}, caKeys: {...old.caKeys, path: c.files.trustedCaKeys}, accounts: {...old.accounts, enabled: c.accounts.manage}};
  } catch {
    return fresh;
  }
}

function loadRecord(deps: Pick<DaemonDeps, 'config' | 'io'>): AccountsRecord {
  const text = deps.io.read(join(deps.config.stateDir, ACCOUNTS_FILE));
  if (!text) return {version: 1, accounts: {}};
  // A record that cannot be read must stop account changes, not forget what was created.
  return JSON.parse(text.toString('utf8')) as AccountsRecord;
}

/**
 * One cycle: the KRL, the CA keys, the accounts, each on its own (one failing does not stop the
 * others, and never changes what it keeps), then the status file.
 */
export async function syncOnce(deps: DaemonDeps, previous: DaemonStatus): Promise<DaemonStatus> {
  const c = deps.config;
  const status: DaemonStatus = structuredClone(previous);
  const attempt = async (record: RefreshRecord, what: string, work: (at: string) => Promise<boolean>) => {
    const at = deps.now().toISOString();
    record.lastAttempt = at;
    try {
      if (await work(at)) record.lastChange = at;
      record.lastSuccess = at;
      record.error = null;
    } catch (error) {
      record.error = (error as Error).message;
      deps.log(`${what}: ${record.error}`);
    }
  };
  await attempt(status.krl, 'krl', async () => {
    const r = await refreshKrl(deps.http, deps.io, c.files.krl, {etag: status.krl.etag, krlVersion: status.krl.krlVersion});
    status.krl.etag = r.etag;
    status.krl.krlVersion = r.krlVersion;
    if (r.changed) deps.log(`krl: wrote version ${r.krlVersion} to ${c.files.krl}`);
    return r.changed;
  });
  await attempt(status.caKeys, 'ca keys', async () => {
    const r = await refreshCaKeys(deps.http, deps.io, c.files.trustedCaKeys);
    status.caKeys.keys = r.keys;
    if (r.changed) deps.log(`ca keys: wrote ${r.keys.join(', ')} to ${c.files.trustedCaKeys}`);
    return r.changed;
  });
  if (c.accounts.manage) {
    await attempt(status.accounts, 'accounts', async () => {
      const answer = await deps.http.get(`/v1/host/logins?host=${encodeURIComponent(c.hostname)}`);
      if (answer.status !== 200) throw new Error(refusal('/v1/host/logins', answer));
      const {logins} = JSON.parse(answer.body.toString('utf8')) as HostLogins;
      const record = loadRecord(deps);
      const r = await reconcileAccounts(deps.accounts, record, logins, {defaultShell: c.accounts.defaultShell, now: deps.now()});
      deps.io.write(join(c.stateDir, ACCOUNTS_FILE), `${JSON.stringify(r.record, null, 2)}\n`, 0o600);
      for (const a of r.done) deps.log(`accounts: ${a.kind} ${a.login}${a.kind === 'forget' ? ` (${a.why})` : ''}`);
      status.accounts.managed = Object.values(r.record.accounts).sort((a, b) => a.login.localeCompare(b.login));
      status.accounts.notManaged = r.notManaged;
      if (r.errors.length > 0) throw new Error(r.errors.join('; '));
      return r.done.length > 0;
    });
  }
  status.updatedAt = deps.now().toISOString();
  status.pid = process.pid;
  deps.io.write(join(c.stateDir, STATUS_FILE), `${JSON.stringify(status, null, 2)}\n`, 0o644);
  return status;
}

/** Cycles every interval until `signal` aborts; a wake-up (SIGHUP) starts the next cycle at once. */
export async function runDaemon(deps: DaemonDeps, signal: AbortSignal, wake: {on(listener: () => void): void}): Promise<void> {
  let status = loadStatus(deps);
  let poke: (() => void) | undefined;
  wake.on(() => poke?.());
  while (!signal.aborted) {
    const startedAt = Date.now();
    status = await syncOnce(deps, status);
    const waiting = new AbortController();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, deps.config.intervalSeconds * 1000);
      poke = () => {
        clearTimeout(timer);
        resolve();
      };
      signal.addEventListener('abort', poke, {once: true});
      // A revocation wakes the next cycle at once: the service holds this request until the KRL changes.
      // Not while the last KRL was refused (the host would ask again and again), and at most one cycle a second.
      if (!status.krl.error) void krlChanged(deps, status.krl.etag, waiting.signal).then((changed) => changed && setTimeout(() => poke?.(), Math.max(0, startedAt + 1000 - Date.now())));
    });
    waiting.abort();
  }
}

/**
 * Asks the service to answer when the KRL is no longer the one with `etag` (a long poll,
 * HEAD /v1/krl?wait=, for at most the interval); true when it changed. Anything else (the wait
 * ended, an error, a service that answers at once) is false: the interval stays the schedule.
 */
export async function krlChanged(deps: Pick<DaemonDeps, 'http' | 'config'>, etag: string | null, signal: AbortSignal): Promise<boolean> {
  if (!etag) return false;
  const wait = Math.min(deps.config.intervalSeconds, 60);
  try {
    const answer = await deps.http.get(`/v1/krl?wait=${wait}`, {'if-none-match': etag}, {method: 'HEAD', signal, timeoutSeconds: wait + deps.config.requestTimeoutSeconds});
    return answer.status === 200 && answer.headers.etag !== etag;
  } catch {
    return false;
  }
}
