import {mkdirSync, readFileSync} from 'node:fs';
import {writeFileAtomicSync} from '@bcl/files';
import {dirname} from 'node:path';

/**
 * Where the highest CRL number seen per issuer is remembered, so a restart (or another replica)
 * does not accept an older CRL. A file in the state directory for single-node servers; servers
 * on PostgreSQL give a table-backed store (see @bcl/postgres).
 */
export interface CrlNumberStore {
  highest(issuerKey: string): Promise<bigint | undefined>;
  /** Records `number` if it is higher than what is stored (never lowers it). */
  record(issuerKey: string, number: bigint): Promise<void>;
}

/** Keeps the numbers in memory only (tests; a server that truly keeps no state). */
export class MemoryCrlNumberStore implements CrlNumberStore {
  readonly #numbers = new Map<string, bigint>();
  async highest(issuerKey: string): Promise<bigint | undefined> {
    return this.#numbers.get(issuerKey);
  }
  async record(issuerKey: string, number: bigint): Promise<void> {
    const current = this.#numbers.get(issuerKey);
    if (current === undefined || number > current) this.#numbers.set(issuerKey, number);
  }
}

/** A JSON file `{issuerKey: "number"}`, replaced atomically (rename) on every increase. */
export class FileCrlNumberStore implements CrlNumberStore {
  constructor(readonly path: string) {}

  async highest(issuerKey: string): Promise<bigint | undefined> {
    const value = this.#read()[issuerKey];
    return value === undefined ? undefined : BigInt(value);
  }

  async record(issuerKey: string, number: bigint): Promise<void> {
    const all = this.#read();
    const current = all[issuerKey];
    if (current !== undefined && BigInt(current) >= number) return;
    all[issuerKey] = number.toString();
    mkdirSync(dirname(this.path), {recursive: true, mode: 0o700});
    writeFileAtomicSync(this.path, `${JSON.stringify(all, null, 2)}\n`, {mode: 0o644});
  }

  #read(): Record<string, string> {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    const parsed = JSON.parse(text) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string' || !/^\d+$/.test(v))) {
      throw new Error(`${this.path}: not a CRL number record ({"issuer": "number"}); it was changed by hand or damaged`);
    }
    return parsed as Record<string, string>;
  }
}
