import {readFileSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import {formatProblem, type Problem, SpecError} from '@bcl/spec-loader';
import {cannotRead, checkPolicyFile, parsePolicy, type Policy, sha256} from './policy.js';

/** A policy file that could not be used: the rules loaded before stay in force. */
export interface PolicyProblemReport {
  file: string;
  problems: Problem[];
  /** Each problem as `file:line:column: key.path: message` (what `check-policy` prints). */
  lines: string[];
  /** One message for the log, ending with which rules stay in force. */
  message: string;
  /** The policy still in force. */
  kept: {sha256: string; loadedAt: string};
}

export interface WatchPolicyOptions {
  /** A new, valid policy is in force. */
  onChange?: (policy: Policy, previous: Policy) => void;
  /** The file changed but cannot be used (or cannot be read); reported once per distinct content. */
  onError?: (report: PolicyProblemReport) => void;
  /** How often the file is read (default 500 ms, so a change is in force within a second). */
  intervalMs?: number;
  /** The clock for `loadedAt` (default: the system clock). */
  now?: () => Date;
}

export interface PolicyWatchStatus {
  file: string;
  sha256: string;
  loadedAt: string;
  /** The latest problem, while the file on disk is not the policy in force. */
  lastError: PolicyProblemReport | null;
}

export interface PolicyWatch {
  /** The policy in force: read it at each decision. */
  readonly current: Policy;
  status(): PolicyWatchStatus;
  /** Reads the file now (SIGHUP); true when the file's policy is the one in force afterwards. */
  reload(): boolean;
  close(): void;
}

/**
 * Loads a policy file and re-reads it on change. The file is polled (its bytes hashed) rather
 * than watched with fs.watch: polling sees a Kubernetes ConfigMap's symlink swap, an editor's
 * rename and a network file system alike. At start an invalid file throws (SpecError): there are
 * no previous rules to keep.
 */
export function watchPolicy(file: string, options: WatchPolicyOptions = {}): PolicyWatch {
  const clock = options.now ?? (() => new Date());
  const first = checkPolicyFile(file);
  if (!first.ok) throw new SpecError(file, first.problems, first.reason);
  let current = first.policy;
  let loadedAt = clock().toISOString();
  let lastError: PolicyProblemReport | null = null;
  /** The last bytes considered (valid or not), so one bad edit is reported once. */
  let seen = current.source.sha256;
  let closed = false;
  let busy = false;

  const report = (problems: Problem[]) => {
    // The same text as check-policy prints: the spec loader's message for these problems.
    const heading = new SpecError(file, problems).message;
    lastError = {file, problems, lines: problems.map(formatProblem), message: `${heading}\nkeeping the policy loaded at ${loadedAt} (sha256 ${current.source.sha256.slice(0, 12)})`, kept: {sha256: current.source.sha256, loadedAt}};
    notify(() => options.onError?.(lastError!));
  };
  // A throwing callback must neither stop the watch nor undo a reload; it becomes a process warning.
  const notify = (callback: () => void) => {
    try {
      callback();
    } catch (error) {
      process.emitWarning(`deploy policy ${file}: a watch callback failed: ${(error as Error).message}`);
    }
  };

  const consider = (read: {bytes: Buffer} | {error: NodeJS.ErrnoException}): boolean => {
    if (closed) return false;
    if ('error' in read) {
      const id = `unreadable:${read.error.code ?? read.error.message}`;
      if (id !== seen) {
        seen = id;
        report([cannotRead(file, read.error)]);
      }
      return false;
    }
    const hash = sha256(read.bytes);
    if (hash === seen) return hash === current.source.sha256;
    seen = hash;
    if (hash === current.source.sha256) {
      lastError = null;
      return true;
    }
    const result = parsePolicy(read.bytes, file);
    if (!result.ok) {
      report(result.problems);
      return false;
    }
    const previous = current;
    current = result.policy;
    loadedAt = clock().toISOString();
    lastError = null;
    notify(() => options.onChange?.(current, previous));
    return true;
  };

  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    readFile(file)
      .then(
        (bytes) => consider({bytes}),
        (error: NodeJS.ErrnoException) => consider({error}),
      )
      .finally(() => {
        busy = false;
      });
  }, options.intervalMs ?? 500);
  timer.unref();

  return {
    get current() {
      return current;
    },
    status: () => ({file, sha256: current.source.sha256, loadedAt, lastError}),
    reload() {
      let read: {bytes: Buffer} | {error: NodeJS.ErrnoException};
      try {
        read = {bytes: readFileSync(file)};
      } catch (error) {
        read = {error: error as NodeJS.ErrnoException};
      }
      return consider(read);
    },
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}

