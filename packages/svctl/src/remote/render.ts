import type {Ui} from '@bcl/core';
import type {DeployEvent, EventSink} from '@bcl/deploy-core/events';
import {uiSink} from '../cli/events.js';

/** The deploy core's own events, which svctl shows exactly as in direct mode. */
const CORE_EVENTS = new Set(['task-started', 'task-progress', 'task-finished', 'tasks-ended', 'warning', 'notice', 'log']);

/**
 * How svctl shows an operation's events: the deploy core's through the same sink as in direct
 * mode (so a deploy reads the same either way), stamped with the time svapp recorded them;
 * svapp's own as notices (waiting for approval, approved, taken over, cancel asked) or, for the
 * routine ones (accepted, started), only with --verbose. Unknown events (from a newer svapp)
 * are skipped. Each event prints the same lines wherever the stream is resumed.
 */
export function eventRenderer(ui: Ui): {render(type: string, data: Record<string, unknown>): void} {
  let at = new Date();
  const timed = ui.withClock(() => at);
  const sink: EventSink = uiSink(timed);
  return {
    render(type, data) {
      if (typeof data.at === 'string') at = new Date(data.at);
      if (CORE_EVENTS.has(type)) {
        // A build's log is shown as in direct mode: not with --json off a terminal, nor --quiet.
        if (type === 'log' && !ui.showsNotices) return;
        const {at: _at, ...event} = data;
        sink.emit({type, ...event} as DeployEvent);
        return;
      }
      const message = typeof data.message === 'string' ? data.message : undefined;
      switch (type) {
        case 'accepted':
        case 'started':
          if (message) timed.debug(message);
          return;
        case 'approval-required':
          timed.info(`Waiting for approval: ${message}. A member of ${(data.groups as string[] | undefined)?.map((g) => `group ${g}`).join(' or ') ?? 'an approving group'} approves with: ${String(data.approve ?? '')}`);
          return;
        case 'approved':
          timed.info(`Approved by ${String(data.by)}: ${message}`);
          return;
        case 'taken-over':
          timed.warn(message ?? 'another svapp replica took the operation over');
          return;
        case 'cancel-requested':
          timed.info(`Cancelling: ${message}`);
          return;
        default:
          return;
      }
    },
  };
}
