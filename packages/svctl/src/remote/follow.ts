import {BclError, type CommandContext, ExitCode, unavailable} from '@bcl/core';
import {parseEventStream} from '@bcl/http-api/sse-client';
import type {EndEvent, OperationView} from '@bcl/svapp/api';
import type {SvappClient} from './client.js';
import {eventRenderer} from './render.js';

export interface FollowOptions {
  /** Ctrl-C cancels the operation instead of asking (or, non-interactive, detaching). */
  cancelOnInterrupt: boolean;
  /** Give up reconnecting after this long without a stream (the operation goes on). */
  reconnectMs: number;
}

/**
 * Follows an operation to its terminal event and returns it. A stream that breaks (a proxy's
 * timeout, a network cut, a replica restarting) is resumed with Last-Event-ID: svapp sends exactly
 * the missing events, so nothing is shown twice or left out; a stream that ends without the
 * terminal event is never a success. Ctrl-C asks whether to cancel the operation or detach from
 * it (non-interactive: detach, unless --cancel-on-interrupt); detaching leaves it running.
 */
export async function followOperation(ctx: CommandContext, client: SvappClient, op: Pick<OperationView, 'id' | 'kind'>, options: FollowOptions): Promise<EndEvent> {
  const {render} = eventRenderer(ctx.ui);
  let last = 0;
  let interruptHandled = false;
  let brokenSince: number | undefined;
  let failures = 0;
  /** One more failed connection: wait (exponential backoff), or give up after reconnectMs of them. */
  const backOff = async (why: string) => {
    brokenSince ??= Date.now();
    failures += 1;
    if (Date.now() - brokenSince > options.reconnectMs) {
      throw unavailable('svctl.stream_lost', `lost the event stream of ${op.kind} ${op.id} after event ${last}, and could not reconnect for ${Math.round(options.reconnectMs / 1000)} s: ${why}`, {
        hint: `The ${op.kind} goes on in svapp; follow it again with: svctl ops attach ${op.id}`,
        details: {operation: op.id, lastEvent: last},
      });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** failures, 2000)));
  };
  for (;;) {
    if (ctx.signal.aborted && !interruptHandled) {
      interruptHandled = true;
      if (await wantsCancel(ctx, op, options)) {
        ctx.ui.info(`Asking svapp to cancel ${op.kind} ${op.id}…`);
        await client.request('POST', `/v1/operations/${op.id}/cancel`, {});
      } else {
        throw new BclError('svctl.detached', `detached from ${op.kind} ${op.id}: it goes on in svapp`, ExitCode.interrupted, {
          hint: `Follow it again with: svctl ops attach ${op.id} (svctl ops cancel ${op.id} stops it).`,
          details: {operation: op.id, lastEvent: last},
        });
      }
    }
    const attempt = new AbortController();
    const stop = () => attempt.abort();
    ctx.signal.addEventListener('abort', stop, {once: true});
    let endedEmpty = false;
    try {
      const body = await client.events(op.id, last, attempt.signal);
      const opened = Date.now();
      const before = last;
      for await (const event of parseEventStream(body)) {
        const seq = Number(event.id);
        if (!Number.isFinite(seq) || seq <= last) continue;
        last = seq;
        const data = JSON.parse(event.data) as Record<string, unknown>;
        if (event.event === 'end') return data as unknown as EndEvent;
        render(event.event, data);
      }
      // A stream that brought events, or stayed open a while (a proxy's idle cut during a long
      // wait), was a good connection; one that ends at once with nothing counts as a failure, so a
      // server that keeps doing that meets the backoff and the deadline, not a tight loop.
      endedEmpty = last === before && Date.now() - opened < 1000;
      if (!endedEmpty) {
        brokenSince = undefined;
        failures = 0;
      }
      ctx.ui.debug(`the event stream of ${op.id} ended before the operation did (after event ${last}); reconnecting`);
    } catch (error) {
      if (attempt.signal.aborted) continue;
      // svapp answered, and not with a stream: a refusal, or an operation it does not have.
      if (error instanceof BclError && error.code !== 'http.unreachable' && error.code !== 'http.timeout' && error.code !== 'http.status' && error.exitCode !== ExitCode.unavailable) throw error;
      ctx.ui.debug(`the event stream of ${op.id} broke after event ${last} (${(error as Error).message}); reconnecting`);
      await backOff((error as Error).message);
    } finally {
      ctx.signal.removeEventListener('abort', stop);
    }
    // Outside the try: giving up there would be caught as one more broken stream.
    if (endedEmpty) await backOff('it keeps ending without events');
  }
}

async function wantsCancel(ctx: CommandContext, op: Pick<OperationView, 'id' | 'kind'>, options: FollowOptions): Promise<boolean> {
  if (options.cancelOnInterrupt) return true;
  if (!ctx.interactive) return false;
  try {
    return await ctx.prompt.confirm({message: `Cancel the ${op.kind} ${op.id} in svapp? (No: detach; it goes on)`, flag: '--cancel-on-interrupt', default: false});
  } catch {
    return false;
  }
}
