import {unavailable} from '@bcl/core';

/**
 * Runs `work` under one overall deadline: connect, TLS, retries and backoff all count. When it
 * passes, the signal given to `work` aborts whatever is in flight and the caller gets an
 * "unavailable" error (exit 5) naming the deadline, whatever stage the work was in.
 */
export async function withinDeadline<T>(ms: number, what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(unavailable('csshctl.deadline', `${what} did not finish within ${ms / 1000}s`, {hint: 'Check that cssh-authz is up and reachable from this host (csshctl.server).'}));
      controller.abort();
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}
