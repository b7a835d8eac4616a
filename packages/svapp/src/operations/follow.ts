import {listen, type Listener} from '@bcl/postgres';
import type {StreamEvent} from '@bcl/http-api';
import {TERMINAL_EVENT} from '../api.js';
import {EVENTS_CHANNEL, type OperationStore} from './store.js';

/**
 * Wakes the streams of an operation when any replica wrote events for it (LISTEN/NOTIFY on one
 * connection per replica). A notification is a wake-up, not the data; streams also poll, since
 * one sent while the connection was re-established is lost.
 */
export class EventWaker {
  readonly #waiting = new Map<string, Set<() => void>>();
  #listener: Listener | undefined;

  static async start(databaseUrl: string, onError: (message: string) => void): Promise<EventWaker> {
    const waker = new EventWaker();
    waker.#listener = await listen(databaseUrl, EVENTS_CHANNEL, (id) => waker.wake(id), onError);
    return waker;
  }

  wake(id: string): void {
    for (const w of this.#waiting.get(id) ?? []) w();
  }

  /** Resolves at the next event of `id`, after `ms`, or when `signal` aborts. */
  wait(id: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const set = this.#waiting.get(id) ?? new Set();
      this.#waiting.set(id, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.#waiting.delete(id);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
      signal.addEventListener('abort', done, {once: true});
    });
  }

  async close(): Promise<void> {
    await this.#listener?.close();
  }
}

/** An operation's events after `after`, then each new one as it is written, until its terminal event. */
export async function* followEvents(store: OperationStore, waker: EventWaker, id: string, after: number, signal: AbortSignal): AsyncGenerator<StreamEvent> {
  let seen = after;
  while (!signal.aborted) {
    const batch = await store.eventsAfter(id, seen);
    for (const e of batch) {
      seen = e.seq;
      yield {seq: e.seq, type: e.type, data: e.data};
      if (e.type === TERMINAL_EVENT) return;
    }
    if (batch.length === 500) continue;
    await waker.wait(id, 1000, signal);
  }
}
