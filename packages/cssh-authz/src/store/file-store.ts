import {randomBytes} from 'node:crypto';
import {existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {writeFileAtomicSync} from '@bcl/files';
import {join} from 'node:path';
import {AppendLog} from '../append-log.js';
import type {AuditEvent, AuthzStore, CaKeyRecord, CaKeyring, IssuedRecord, RevokeOutcome, Revocation, TotpEnrolment} from './types.js';

/**
 * The state directory of a single-node cssh-authz:
 *
 *   issued.jsonl       every issued certificate, appended (never rewritten)
 *   revocations.json   the revocations and the KRL version
 *   ca-keyring.json    the CA keys after a rotation (absent: the configured key alone)
 *   totp.json          TOTP enrolments (secrets sealed), last used steps, recent failures
 *
 * and the audit log (a JSON-lines file of its own). The JSON files are replaced atomically. One
 * process writes them, except the keyring, which `cssh-authz ca rotate` writes and the service
 * re-reads when the file changes.
 */
export class FileStore implements AuthzStore {
  private readonly issued = new Map<string, IssuedRecord>();
  /** Every serial ever issued here (or reserved by an issuance in progress). */
  private readonly serials = new Set<string>();
  private revocationState: {version: number; revocations: Revocation[]} = {version: 0, revocations: []};
  private keyring: {state: CaKeyring; stamp: string} = {state: {version: 0, keys: []}, stamp: ''};
  private totp: {enrolments: Record<string, TotpEnrolment>; failures: Record<string, string[]>} = {enrolments: {}, failures: {}};
  private tail: Promise<unknown> = Promise.resolve();
  private readonly watchers = new Set<() => void>();

  private constructor(
    private readonly dir: string,
    private readonly issuedLog: AppendLog,
    private readonly auditLog: AppendLog,
  ) {}

  get description(): string {
    return `state directory ${this.dir}`;
  }

  static async open(options: {stateDir: string; auditLog: string; now?: () => Date}): Promise<FileStore> {
    const dir = options.stateDir;
    mkdirSync(dir, {recursive: true, mode: 0o700});
    const issuedPath = join(dir, 'issued.jsonl');
    const store = new FileStore(dir, await AppendLog.open(issuedPath), await AppendLog.open(options.auditLog));
    const t = (options.now ?? (() => new Date()))().getTime();
    for (const record of readJsonLines<IssuedRecord>(issuedPath)) {
      store.serials.add(record.serial);
      if (Date.parse(record.validBefore) > t) store.issued.set(record.serial, record);
    }
    store.revocationState = store.readJson('revocations.json') ?? store.revocationState;
    store.totp = store.readJson('totp.json') ?? store.totp;
    store.refreshKeyring();
    return store;
  }

  /**
   * Everything a state directory and its audit log hold, expired certificates included (their
   * serials are never to be drawn again), for moving them into a database. Reads only.
   */
  static readState(stateDir: string, auditLog: string): StateSnapshot {
    if (!existsSync(stateDir)) throw Object.assign(new Error(`${stateDir}: no such state directory`), {code: 'ENOENT', path: stateDir});
    if (!existsSync(auditLog)) throw Object.assign(new Error(`${auditLog}: no such audit log`), {code: 'ENOENT', path: auditLog});
    const file = (name: string) => join(stateDir, name);
    return {
      issued: readJsonLines<IssuedRecord>(file('issued.jsonl')),
      revocations: readJson(file('revocations.json')) ?? {version: 0, revocations: []},
      keyring: readJson<CaKeyring>(file('ca-keyring.json')) ?? {version: 0, keys: []},
      totp: readJson(file('totp.json')) ?? {enrolments: {}, failures: {}},
      crlNumbers: readJson<Record<string, string>>(file('crl-numbers.json')) ?? {},
      audit: readJsonLines<AuditEvent>(auditLog),
    };
  }

  async issue<T>(sign: (serial: bigint) => Promise<{record: IssuedRecord; audit: AuditEvent; result: T}> | {record: IssuedRecord; audit: AuditEvent; result: T}): Promise<T> {
    let serial: bigint;
    do serial = randomBytes(8).readBigUInt64BE(0);
    while (serial === 0n || this.serials.has(serial.toString()));
    // Reserved at once, so a concurrent issuance cannot draw it while this one signs.
    this.serials.add(serial.toString());
    let signed;
    try {
      signed = await sign(serial);
    } catch (error) {
      this.serials.delete(serial.toString());
      throw error;
    }
    // The ledger line first: a revocation of this person finds every certificate the audit names.
    await this.issuedLog.append({...signed.record});
    this.issued.set(signed.record.serial, signed.record);
    await this.auditLog.append(signed.audit);
    return signed.result;
  }

  async findIssued(serial: string, at: Date): Promise<IssuedRecord | undefined> {
    const record = this.issued.get(serial);
    return record && Date.parse(record.validBefore) > at.getTime() ? record : undefined;
  }

  async validIssuedFor(email: string, at: Date): Promise<IssuedRecord[]> {
    const e = email.toLowerCase();
    return [...this.issued.values()].filter((r) => r.email === e && Date.parse(r.validBefore) > at.getTime());
  }

  async countValid(at: Date): Promise<number> {
    let n = 0;
    for (const r of this.issued.values()) if (Date.parse(r.validBefore) > at.getTime()) n++;
    return n;
  }

  async isRevoked(serial: string): Promise<boolean> {
    return this.revocationState.revocations.some((r) => r.serial === serial);
  }

  revoke(targets: readonly IssuedRecord[], by: {email: string; reason: string; at: Date}, audit: (outcome: RevokeOutcome) => AuditEvent): Promise<RevokeOutcome> {
    return this.exclusive(async () => {
      const state = this.revocationState;
      const alreadyRevoked = targets.filter((t) => state.revocations.some((r) => r.serial === t.serial)).map((t) => t.serial);
      const fresh = targets.filter((t) => !alreadyRevoked.includes(t.serial));
      let next = state;
      if (fresh.length > 0) {
        const kept = state.revocations.filter((r) => Date.parse(r.validBefore) > by.at.getTime());
        const added = fresh.map((r) => ({serial: r.serial, keyId: r.keyId, email: r.email, validBefore: r.validBefore, revokedAt: by.at.toISOString(), by: by.email, reason: by.reason}));
        next = {version: state.version + 1, revocations: [...kept, ...added]};
        this.writeJson('revocations.json', next);
        this.revocationState = next;
        this.changed();
      }
      const outcome = {revoked: fresh.map((t) => t.serial), alreadyRevoked, krlVersion: next.version};
      await this.auditLog.append(audit(outcome));
      return outcome;
    });
  }

  async krlVersion(): Promise<number> {
    return this.revocationState.version;
  }

  async revocations(after: Date): Promise<{version: number; revocations: Revocation[]}> {
    const {version, revocations} = this.revocationState;
    return {version, revocations: revocations.filter((r) => Date.parse(r.validBefore) > after.getTime())};
  }

  async caKeyring(): Promise<CaKeyring> {
    this.refreshKeyring();
    return this.keyring.state;
  }

  replaceCaKeyring(expectedVersion: number, keys: readonly CaKeyRecord[], audit: AuditEvent): Promise<boolean> {
    return this.exclusive(async () => {
      // Another process (cssh-authz ca rotate) may have written it: compare with the file.
      this.refreshKeyring();
      if (this.keyring.state.version !== expectedVersion) return false;
      const next: CaKeyring = {version: expectedVersion + 1, keys: [...keys]};
      this.writeJson('ca-keyring.json', next);
      this.refreshKeyring();
      this.changed();
      await this.auditLog.append(audit);
      return true;
    });
  }

  async totpEnrolment(email: string): Promise<TotpEnrolment | undefined> {
    return this.totp.enrolments[email.toLowerCase()];
  }

  saveTotpEnrolment(enrolment: TotpEnrolment, audit: AuditEvent): Promise<void> {
    return this.exclusive(async () => {
      this.updateTotp((t) => {
        t.enrolments[enrolment.email.toLowerCase()] = enrolment;
        delete t.failures[enrolment.email.toLowerCase()];
      });
      await this.auditLog.append(audit);
    });
  }

  useTotpStep(email: string, step: number, options: {activate: boolean; at: Date}, audit: AuditEvent): Promise<boolean> {
    return this.exclusive(async () => {
      const e = email.toLowerCase();
      const current = this.totp.enrolments[e];
      if (!current || step <= current.lastStep) return false;
      this.updateTotp((t) => {
        t.enrolments[e] = {...current, lastStep: step, ...(options.activate && current.state === 'pending' ? {state: 'active', confirmedAt: options.at.toISOString()} : {})};
        delete t.failures[e];
      });
      await this.auditLog.append(audit);
      return true;
    });
  }

  addTotpFailure(email: string, at: Date, audit: AuditEvent): Promise<void> {
    return this.exclusive(async () => {
      const e = email.toLowerCase();
      // Failures older than a day are of no use to any rate limit: dropped as new ones come.
      const recent = (this.totp.failures[e] ?? []).filter((f) => Date.parse(f) > at.getTime() - 86_400_000);
      this.updateTotp((t) => {
        t.failures[e] = [...recent, at.toISOString()];
      });
      await this.auditLog.append(audit);
    });
  }

  async totpFailuresSince(email: string, since: Date): Promise<number> {
    return (this.totp.failures[email.toLowerCase()] ?? []).filter((f) => Date.parse(f) >= since.getTime()).length;
  }

  async audit(event: AuditEvent): Promise<void> {
    await this.auditLog.append(event);
  }

  /** This process's changes; a rotation by `cssh-authz ca rotate` is seen when the keyring is next read. */
  watch(listener: () => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  private changed(): void {
    for (const w of this.watchers) w();
  }

  async close(): Promise<void> {
    await this.tail.catch(() => undefined);
    await this.auditLog.close();
    await this.issuedLog.close();
  }

  /** Runs state changes one at a time, in order. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }

  private updateTotp(change: (t: FileStore['totp']) => void): void {
    const next = structuredClone(this.totp);
    change(next);
    this.writeJson('totp.json', next);
    this.totp = next;
  }

  private refreshKeyring(): void {
    const path = join(this.dir, 'ca-keyring.json');
    let stamp = '';
    try {
      const s = statSync(path);
      stamp = `${s.ino}:${s.mtimeMs}:${s.size}`;
    } catch {
      // none yet: never rotated
    }
    if (stamp === this.keyring.stamp) return;
    this.keyring = {state: stamp ? (this.readJson<CaKeyring>('ca-keyring.json') ?? {version: 0, keys: []}) : {version: 0, keys: []}, stamp};
  }

  private readJson<T>(name: string): T | undefined {
    return readJson<T>(join(this.dir, name));
  }

  private writeJson(name: string, value: unknown): void {
    writeFileAtomicSync(join(this.dir, name), `${JSON.stringify(value, null, 2)}\n`, {mode: 0o600});
  }
}

/** What a state directory holds (FileStore.readState). */
export interface StateSnapshot {
  issued: IssuedRecord[];
  revocations: {version: number; revocations: Revocation[]};
  keyring: CaKeyring;
  totp: {enrolments: Record<string, TotpEnrolment>; failures: Record<string, string[]>};
  /** The highest CRL number seen per issuer (@bcl/mtls's FileCrlNumberStore). */
  crlNumbers: Record<string, string>;
  audit: AuditEvent[];
}

/** The records of a JSON-lines file (none when it is absent); a torn last line (a crash mid-write) is skipped. */
function readJsonLines<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  const records: T[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      records.push(JSON.parse(line) as T);
    } catch {
      if (i >= lines.length - 2) return;
      throw new Error(`${path}:${i + 1}: not a JSON line`);
    }
  });
  return records;
}

function readJson<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (error) {
    throw new Error(`${path}: not valid JSON: ${(error as Error).message}`);
  }
}
