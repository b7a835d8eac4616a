/** Why a secret file was not written (see writeSecretFile for the rule). */
export type FileSafetyProblem = 'symlink' | 'not_regular' | 'not_owner' | 'too_open' | 'exists';

/**
 * A write refused because the target is not safe to hold a secret. The message names the path
 * and what is wrong; `hint` says what to do. Callers map it to their own error type.
 */
export class FileSafetyError extends Error {
  override readonly name = 'FileSafetyError';

  constructor(
    readonly problem: FileSafetyProblem,
    readonly path: string,
    message: string,
    readonly hint: string,
    /** The existing file's permission bits, when they are the problem. */
    readonly mode?: number,
  ) {
    super(message);
  }
}

/** Who holds a lock, for messages ("held by pid 4242 on build-7 since ..."). */
export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the holder took the lock. */
  since: string;
}

/** The lock is held by a live holder and the wait (timeoutMs) is over. */
export class LockHeldError extends Error {
  override readonly name = 'LockHeldError';

  constructor(
    readonly path: string,
    /** Undefined when the lock file could not be read (being written, or not ours). */
    readonly holder: LockHolder | undefined,
    readonly waitedMs: number,
  ) {
    super(`${path} is held by ${describeHolder(holder)}`);
  }
}

export function describeHolder(holder: LockHolder | undefined): string {
  return holder ? `pid ${holder.pid} on ${holder.host} since ${holder.since}` : 'another process';
}
