import {createHash} from 'node:crypto';

/** What a caller records: the event name and its facts (JSON values). `seq`, `at`, `prev`, `hash` are the log's. */
export interface AuditRecord {
  event: string;
  [field: string]: unknown;
}

/** One entry of the log as stored and emitted (one JSON line). */
export interface AuditEntry extends AuditRecord {
  seq: number;
  at: string;
  /** The hash of the previous entry (GENESIS for the first). */
  prev: string;
  /** SHA-256 of this entry's canonical JSON without `hash`: covers `prev`, so the chain breaks at an edited or removed entry. */
  hash: string;
}

export const GENESIS = '0'.repeat(64);
const RESERVED = ['seq', 'at', 'prev', 'hash'];

/** JSON with object keys sorted at every level and no whitespace: the bytes that are hashed. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`audit: ${value} is not a JSON value`);
    if (typeof value === 'bigint') return JSON.stringify(value.toString());
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}

/** The next entry after `head` (undefined: the log is empty). */
export function chainEntry(record: AuditRecord, head: {seq: number; hash: string} | undefined, at: Date): AuditEntry {
  if (typeof record.event !== 'string' || record.event === '') throw new Error('audit: a record needs an event name');
  const clash = RESERVED.filter((k) => k in record);
  if (clash.length > 0) throw new Error(`audit: ${clash.join(', ')} are set by the log, not by the record (${record.event})`);
  const body = {...record, seq: (head?.seq ?? 0) + 1, at: at.toISOString(), prev: head?.hash ?? GENESIS};
  return {...body, hash: sha256(canonicalJson(body))} as AuditEntry;
}

/** Marks in an entry template that a database fills in (a raw U+0001 never occurs in canonical JSON). */
export const TEMPLATE_MARKS = {seq: '\u0001SEQ\u0001', prev: '\u0001PREV\u0001', hash: '\u0001HASH\u0001'} as const;

/**
 * The canonical JSON of the next entry with its seq, prev (and, for the stored line, hash) left
 * as marks, so the database can fill them in while it holds the chain's head: the same bytes
 * chainEntry() and entryLine() make once the marks are replaced.
 */
export function entryTemplates(record: AuditRecord, at: Date): {body: string; line: string} {
  if (typeof record.event !== 'string' || record.event === '') throw new Error('audit: a record needs an event name');
  const clash = RESERVED.filter((k) => k in record);
  if (clash.length > 0) throw new Error(`audit: ${clash.join(', ')} are set by the log, not by the record (${record.event})`);
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(record)) if (v !== undefined) fields[k] = canonicalJson(v);
  fields.seq = TEMPLATE_MARKS.seq;
  fields.at = JSON.stringify(at.toISOString());
  fields.prev = `"${TEMPLATE_MARKS.prev}"`;
  const join = (f: Record<string, string>) => `{${Object.keys(f).sort().map((k) => `${JSON.stringify(k)}:${f[k]}`).join(',')}}`;
  return {body: join(fields), line: join({...fields, hash: `"${TEMPLATE_MARKS.hash}"`})};
}

/** The JSON line of an entry (canonical, so the line itself can be re-hashed). */
export function entryLine(entry: AuditEntry): string {
  return canonicalJson(entry);
}

export interface ChainProblem {
  seq: number;
  problem: string;
}

export interface Verification {
  ok: boolean;
  count: number;
  /** The last entry's hash: keep it elsewhere (it is in the JSON-lines stream) to detect a cut-off tail. */
  head: string;
  problems: ChainProblem[];
}

/**
 * Checks a sequence of entries: each one's hash, its `prev` against the previous entry's hash,
 * and the sequence numbers without gaps. An edited entry fails its hash (or, re-hashed, the next
 * entry's prev); a removed one leaves a gap. With `expectedHead`, a removed tail is found too.
 */
export function verifyEntries(entries: Iterable<{seq: number; line: string; hash?: string}>, options: {expectedHead?: string} = {}): Verification {
  const problems: ChainProblem[] = [];
  let prevHash = GENESIS;
  let expectSeq = 1;
  let count = 0;
  for (const row of entries) {
    count += 1;
    let entry: AuditEntry;
    try {
      entry = JSON.parse(row.line) as AuditEntry;
    } catch {
      problems.push({seq: row.seq, problem: 'not a JSON entry'});
      continue;
    }
    if (row.seq !== expectSeq) problems.push({seq: row.seq, problem: `expected entry ${expectSeq} here: ${row.seq > expectSeq ? `entries ${expectSeq}..${row.seq - 1} are missing` : 'out of order or duplicated'}`});
    if (entry.seq !== row.seq) problems.push({seq: row.seq, problem: `the entry says seq ${entry.seq}`});
    const {hash, ...body} = entry;
    const actual = sha256(canonicalJson(body));
    if (hash !== actual || (row.hash !== undefined && row.hash !== hash)) problems.push({seq: row.seq, problem: 'its content does not match its hash: it was changed'});
    if (entry.prev !== prevHash) problems.push({seq: row.seq, problem: "it does not follow the previous entry's hash: an entry before it was changed or removed"});
    prevHash = hash;
    expectSeq = row.seq + 1;
  }
  if (options.expectedHead !== undefined && options.expectedHead !== prevHash) problems.push({seq: expectSeq, problem: `the log ends at ${prevHash.slice(0, 12)}…, not at the expected head ${options.expectedHead.slice(0, 12)}…: entries at the end were removed`});
  return {ok: problems.length === 0, count, head: prevHash, problems};
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
