/**
 * The policy in force: the newest row of `policies`, each version signed with the CA key when it
 * was stored, and verified whenever it is read (someone who can write the database but does not
 * hold the CA key cannot change what is issued). Seeded from the configured file when the
 * database holds none; replaced by a migration from a Git store. Replicas notice a new version
 * within seconds.
 */
import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import type {PostgresAuditLog} from '@bcl/audit';
import {signData, verifyData} from '@bcl/pki-ca/keys';
import {parsePolicy, type Policy} from '@bcl/pki-ca/policy';
import {type Kysely, withAdvisoryLock} from '@bcl/postgres';
import type {CaMaterial} from './ca.js';
import {ConfigError} from './config.js';
import type {PkiDb} from './db/schema.js';

export interface PolicyVersion {
  version: number;
  policy: Policy;
  yaml: string;
  sha256: string;
  setAt: Date;
  setBy: string;
  source: string;
}

export class PolicyUnavailableError extends Error {
  override readonly name = 'PolicyUnavailableError';
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export class PolicyStore {
  #current: PolicyVersion | undefined;
  #checkedAt = 0;

  constructor(
    private readonly db: Kysely<PkiDb>,
    private readonly ca: CaMaterial,
    private readonly audit: PostgresAuditLog,
    /** How long a read version is trusted before the newest is looked up again. */
    private readonly recheckMs = 5000,
  ) {}

  /** The policy in force (the newest version, at most recheckMs old). */
  async current(): Promise<PolicyVersion> {
    if (this.#current && Date.now() - this.#checkedAt < this.recheckMs) return this.#current;
    const row = await this.db.selectFrom('policies').selectAll().orderBy('version', 'desc').limit(1).executeTakeFirst();
    this.#checkedAt = Date.now();
    if (!row) throw new PolicyUnavailableError('no policy has been set: configure `policy:` (a policy file) or migrate a Git store with `pkictl migrate`');
    if (this.#current?.version === row.version) return this.#current;
    if (!verifyData(row.yaml, row.signature, this.ca.issuer.publicKey)) {
      throw new PolicyUnavailableError(`policy version ${row.version} in the database is not signed by this CA: it was changed outside the server; nothing is issued until a signed policy is stored`);
    }
    this.#current = {version: row.version, policy: parsePolicy(row.yaml, `policy version ${row.version}`), yaml: row.yaml, sha256: row.sha256, setAt: row.set_at, setBy: row.set_by, source: row.source};
    return this.#current;
  }

  /** Stores a new version (validated, signed with the CA key, audited); the same text as now is a no-op. */
  async set(yaml: string, params: {source: string; setBy: string; where: string}): Promise<{version: number; changed: boolean}> {
    parsePolicy(yaml, params.where);
    const digest = sha256(yaml);
    const result = await withAdvisoryLock(this.db, `pki-policy:${this.ca.issuerId}`, async (trx) => {
      const latest = await trx.selectFrom('policies').select(['version', 'sha256']).orderBy('version', 'desc').limit(1).executeTakeFirst();
      if (latest?.sha256 === digest) return {version: latest.version, changed: false, entries: []};
      const row = await trx
        .insertInto('policies')
        .values({yaml, sha256: digest, signature: signData(yaml, this.ca.key), source: params.source, set_by: params.setBy})
        .returning('version')
        .executeTakeFirstOrThrow();
      const entry = await this.audit.append(trx, {event: 'policy.set', version: row.version, sha256: digest, source: params.source, actor: params.setBy});
      return {version: row.version, changed: true, entries: [entry]};
    });
    this.audit.emit(result.entries);
    this.#checkedAt = 0;
    return {version: result.version, changed: result.changed};
  }

  /** At start: the configured file seeds an empty database (every replica may try; one stores it). */
  async seed(file: string | undefined, configFile: string): Promise<void> {
    const existing = await this.db.selectFrom('policies').select('version').limit(1).executeTakeFirst();
    if (existing) return;
    if (!file) throw new ConfigError(`${configFile}: the database holds no policy yet: set policy: to a policy file (pkictl's ca/policy.yaml format) or migrate a Git store first`, configFile);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`${configFile}: policy: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, configFile);
    }
    try {
      parsePolicy(text, file);
    } catch (error) {
      throw new ConfigError((error as Error).message, file);
    }
    await this.set(text, {source: `file ${file}`, setBy: 'pki-server', where: file});
  }
}
