/** A path into a document: mapping keys and list indexes. */
export type KeyPath = readonly (string | number)[];

/** One thing wrong with a file, located as precisely as the file allows. */
export interface Problem {
  file: string;
  /** 1-based line and column of the offending key or value, when the file has it. */
  line?: number;
  column?: number;
  path: KeyPath;
  message: string;
}

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

/** `environments.prod.routes[0].host`; keys that are not plain words are quoted: `labels["app.kubernetes.io/name"]`. */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** `file:line:column: key.path: message` (the location and key path only when known). */
export function formatProblem(problem: Problem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}:${problem.column ?? 1}`;
  const key = problem.path.length > 0 ? `${formatKeyPath(problem.path)}: ` : '';
  return `${where}: ${key}${problem.message}`;
}

/** One problem is its own line; several get a heading and one indented line each. */
export function joinProblemLines(lines: readonly string[], where: string): string {
  return lines.length === 1 ? lines[0]! : `${lines.length} problems ${where}:\n  ${lines.join('\n  ')}`;
}

export type SpecErrorReason = 'unreadable' | 'syntax' | 'invalid';

/** A file that cannot be used, with every problem found in it. */
export class SpecError extends Error {
  override readonly name = 'SpecError';
  constructor(
    readonly file: string,
    readonly problems: readonly Problem[],
    /** unreadable: the file could not be read; syntax: not YAML (or not UTF-8); invalid: the schema refused it. */
    readonly reason: SpecErrorReason = 'invalid',
  ) {
    super(problems.length > 0 ? joinProblemLines(problems.map(formatProblem), `in ${file}`) : `${file}: invalid`);
  }

  /** Problems as plain data, for --json details. */
  toJSON(): {file: string; reason: SpecErrorReason; problems: {path: string; line?: number; column?: number; message: string}[]} {
    return {
      file: this.file,
      reason: this.reason,
      problems: this.problems.map((p) => ({path: formatKeyPath(p.path), ...(p.line === undefined ? {} : {line: p.line, column: p.column ?? 1}), message: p.message})),
    };
  }
}

export function isSpecError(value: unknown): value is SpecError {
  return value instanceof SpecError || (value instanceof Error && value.name === 'SpecError' && Array.isArray((value as SpecError).problems));
}

/** The allowed word nearest to a misspelt one, when it is close enough to be a typo. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    const d = editDistance(lower, candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

/** Optimal string alignment distance: a swap of two neighbouring letters counts as one typo. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 8) return Infinity;
  const d: number[][] = Array.from({length: a.length + 1}, (_, i) => Array.from({length: b.length + 1}, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
