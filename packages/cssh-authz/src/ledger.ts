import {randomBytes} from 'node:crypto';
import {existsSync, mkdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {writeFileAtomicSync} from '@bcl/files';
import {encodeKrl} from '@bcl/openssh-formats';
import {AppendLog} from './append-log.js';

/**
 * What the service remembers about certificates (in its state directory): every issued
 * certificate (issued.jsonl, append-only) so that a person's certificates can be revoked at once,
 * and the revocations (revocations.json, replaced atomically) from which the KRL is built.
 * Entries of certificates past their validity are dropped from memory and from the KRL: an
 * expired certificate is refused by sshd anyway.
 */

export interface IssuedRecord {
  serial: string;
  keyId: string;
  email: string;
  principals: string[];
  validAfter: string;
  validBefore: string;
  issuedAt: string;
}

export interface Revocation {
  serial: string;
  keyId: string;
  email: string;
  validBefore: string;
  revokedAt: string;
  by: string;
  reason: string;
}

interface RevocationsFile {
  /** Incremented on every change: the KRL's version. */
  version: number;
  revocations: Revocation[];
}

export class CertificateLedger {
  private readonly issued = new Map<string, IssuedRecord>();
  private state: RevocationsFile;
  private krlCache: {version: number; data: Buffer} | undefined;

  private constructor(
    private readonly dir: string,
    private readonly issuedLog: AppendLog,
    private readonly now: () => Date,
  ) {
    this.state = {version: 0, revocations: []};
  }

  static async open(dir: string, now: () => Date = () => new Date()): Promise<CertificateLedger> {
    mkdirSync(dir, {recursive: true, mode: 0o700});
    const issuedPath = join(dir, 'issued.jsonl');
    const ledger = new CertificateLedger(dir, await AppendLog.open(issuedPath), now);
    const t = now().getTime();
    if (existsSync(issuedPath)) {
      const lines = readFileSync(issuedPath, 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (!line.trim()) return;
        let record: IssuedRecord;
        try {
          record = JSON.parse(line) as IssuedRecord;
        } catch {
          // A torn last line (crash mid-write) is skipped; anything else is corruption.
          if (i >= lines.length - 2) return;
          throw new Error(`${issuedPath}:${i + 1}: not a JSON line`);
        }
        if (Date.parse(record.validBefore) > t) ledger.issued.set(record.serial, record);
      });
    }
    const revPath = join(dir, 'revocations.json');
    if (existsSync(revPath)) {
      try {
        ledger.state = JSON.parse(readFileSync(revPath, 'utf8')) as RevocationsFile;
      } catch (error) {
        throw new Error(`${revPath}: not valid JSON: ${(error as Error).message}`);
      }
    }
    return ledger;
  }

  /** A new random serial (64 bits, never 0, never one this service already issued). */
  newSerial(): bigint {
    for (;;) {
      const serial = randomBytes(8).readBigUInt64BE(0);
      if (serial !== 0n && !this.issued.has(serial.toString())) return serial;
    }
  }

  async recordIssued(record: IssuedRecord): Promise<void> {
    this.issued.set(record.serial, record);
    await this.issuedLog.append({...record});
  }

  get issuedCount(): number {
    return this.issued.size;
  }

  find(serial: string): IssuedRecord | undefined {
    return this.issued.get(serial);
  }

  /** The certificates of one person that are still valid. */
  validFor(email: string): IssuedRecord[] {
    const t = this.now().getTime();
    const e = email.toLowerCase();
    return [...this.issued.values()].filter((r) => r.email === e && Date.parse(r.validBefore) > t);
  }

  isRevoked(serial: string): boolean {
    return this.state.revocations.some((r) => r.serial === serial);
  }

  get version(): number {
    return this.state.version;
  }

  /** Records revocations; returns the serials newly revoked (already revoked ones are skipped). */
  revoke(records: IssuedRecord[], by: string, reason: string): string[] {
    const fresh = records.filter((r) => !this.isRevoked(r.serial));
    if (fresh.length === 0) return [];
    const t = this.now();
    const kept = this.state.revocations.filter((r) => Date.parse(r.validBefore) > t.getTime());
    const added = fresh.map((r) => ({serial: r.serial, keyId: r.keyId, email: r.email, validBefore: r.validBefore, revokedAt: t.toISOString(), by, reason}));
    const next: RevocationsFile = {version: this.state.version + 1, revocations: [...kept, ...added]};
    writeFileAtomicSync(join(this.dir, 'revocations.json'), `${JSON.stringify(next, null, 2)}\n`, {mode: 0o600});
    this.state = next;
    return added.map((r) => r.serial);
  }

  /** The KRL for sshd's RevokedKeys: every revoked certificate that has not expired yet. */
  krl(caKeyBlob: Buffer): {version: number; data: Buffer} {
    if (this.krlCache?.version === this.state.version) return this.krlCache;
    const t = this.now().getTime();
    const live = this.state.revocations.filter((r) => Date.parse(r.validBefore) > t - 3600_000);
    const data = encodeKrl({
      version: BigInt(this.state.version),
      generatedAt: this.now(),
      comment: 'cssh-authz',
      certificates: [{caKey: caKeyBlob, serials: live.map((r) => BigInt(r.serial)), keyIds: []}],
    });
    this.krlCache = {version: this.state.version, data};
    return this.krlCache;
  }

  async close(): Promise<void> {
    await this.issuedLog.close();
  }
}
