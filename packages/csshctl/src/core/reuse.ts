import {viewOf} from './certificates.js';
import type {Slot} from './store.js';

/** What a command needs from a certificate it would reuse instead of asking for a new one. */
export interface ReuseWanted {
  /** Slots to look in, in order of preference (e.g. the host's, then the default one). */
  slots: readonly string[];
  /** The login the certificate must carry (csshctl ssh); none: any. */
  principal?: string | undefined;
  /** The service that must have issued it (a certificate of another server is not reused). */
  server?: string | undefined;
  /** Less validity left than this is not worth reusing. */
  renewBeforeSeconds: number;
}

export interface ReuseDecision {
  slot: Slot | undefined;
  /** Why each slot looked at was passed over, for --verbose. */
  passedOver: string[];
}

/**
 * Picks the stored certificate to reuse: the first slot whose certificate is valid now, has more
 * than `renewBeforeSeconds` left, carries the principal and comes from the same server. The
 * store is read through `get` and the clock passed in, so the rule is tested without files.
 */
export function chooseReusable(store: {get(name: string): Slot | undefined}, now: Date, wanted: ReuseWanted): ReuseDecision {
  const passedOver: string[] = [];
  for (const name of wanted.slots) {
    const slot = store.get(name);
    if (!slot) continue;
    const view = viewOf(slot, now);
    const why =
      view.state !== 'valid'
        ? view.state
        : view.remainingSeconds < wanted.renewBeforeSeconds
          ? `${view.remainingSeconds}s left, less than csshctl.renewBefore (${wanted.renewBeforeSeconds}s)`
          : wanted.principal !== undefined && !view.principals.includes(wanted.principal)
            ? `not for ${wanted.principal} (${view.principals.join(', ')})`
            : wanted.server !== undefined && view.server !== wanted.server
              ? `issued by ${view.server}, not ${wanted.server}`
              : undefined;
    if (why === undefined) return {slot, passedOver};
    passedOver.push(`${name}: ${why}`);
  }
  return {slot: undefined, passedOver};
}
