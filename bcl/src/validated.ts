/**
 * What validations of this build made of their inputs, kept between runs: a zod schema is a pure
 * function, so the same input validated by the same code gives the same value, and the next run
 * with it skips building the schema (milliseconds per schema, more than validating) and, for a
 * file, parsing it. Only successes are kept, by their exact input; a failure is always validated
 * again, so its problems are named as ever. The launcher gives the build's identity (a bundle's
 * path, size, time and Node); unbundled code has none and keeps nothing.
 */
const {closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync} = process.getBuiltinModule('node:fs');
const {dirname, join} = process.getBuiltinModule('node:path');

export interface ValidationMemo {
  /** The value stored for exactly this input of this kind of validation, as a new object; undefined when none. */
  get(kind: string, input: string): unknown;
  /** Keeps what a validation that succeeded made of `input`. */
  set(kind: string, input: string, value: unknown): void;
}

/** Inputs kept per kind of validation (a few specs, a few configurations). */
const PER_KIND = 8;

interface MemoFile {
  version: 1;
  entries: Record<string, {input: string; value: string}[]>;
}

/** A memo in one JSON file (0600, only this user's), rewritten atomically when it learns something. */
export function fileValidationMemo(file: string): ValidationMemo {
  let data: MemoFile | undefined;
  const load = (): MemoFile => {
    if (data) return data;
    data = {version: 1, entries: {}};
    let fd: number | undefined;
    try {
      fd = openSync(file, 'r');
      // Values taken in place of validating: only a file of this user's that nobody else may write.
      const stat = fstatSync(fd);
      if ((!process.getuid || stat.uid === process.getuid()) && (stat.mode & 0o022) === 0) {
        const parsed = JSON.parse(readFileSync(fd, 'utf8')) as MemoFile;
        if (parsed.version === 1 && parsed.entries && typeof parsed.entries === 'object') data = parsed;
      }
    } catch {
      // None yet, or unreadable: an empty memo.
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    return data;
  };
  return {
    get(kind, input) {
      const found = load().entries[kind]?.find((e) => e.input === input);
      return found ? JSON.parse(found.value) : undefined;
    },
    set(kind, input, value) {
      const text = JSON.stringify(value);
      // Only values that survive JSON unchanged (no undefined members, dates or class instances).
      if (text === undefined || !process.getBuiltinModule('node:util').isDeepStrictEqual(JSON.parse(text), value)) return;
      const memo = load();
      memo.entries[kind] = [{input, value: text}, ...(memo.entries[kind] ?? []).filter((e) => e.input !== input)].slice(0, PER_KIND);
      try {
        mkdirSync(dirname(file), {recursive: true, mode: 0o700});
        const temporary = `${file}.${process.pid}.tmp`;
        writeFileSync(temporary, JSON.stringify(memo), {mode: 0o600});
        renameSync(temporary, file);
        // The memos of earlier versions of the same build (name@version.json) are stale.
        const name = file.slice(dirname(file).length + 1);
        const prefix = name.includes('@') ? name.slice(0, name.indexOf('@') + 1) : undefined;
        if (prefix) for (const other of readdirSync(dirname(file))) if (other.startsWith(prefix) && other !== name && other.endsWith('.json')) unlinkSync(join(dirname(file), other));
      } catch {
        // A memo that cannot be written only costs speed.
      }
    },
  };
}
