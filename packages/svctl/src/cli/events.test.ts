import {Writable} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {Redactor, Ui} from '@bcl/core';
import {startTask, type EventSink} from '@bcl/deploy-core/events';
import {uiSink} from './events.js';

// svctl shows the deploy core's events through its Ui: the same bytes as the Ui calls the core
// made before it had events, on a terminal (live board) and off one (timestamped lines).
function terminal(isTTY: boolean) {
  let text = '';
  const stderr = Object.assign(new Writable({write: (chunk, _enc, done) => ((text += String(chunk)), done())}), {isTTY, columns: 80});
  const redactor = new Redactor();
  redactor.add('s3cr3t-token');
  const ui = new Ui({stderr, json: false, quiet: false, verbose: false, color: false, redactor, now: () => new Date('2026-01-01T00:00:00.000Z')});
  return {ui, output: () => text};
}

/** A deploy's worth of output: two tasks, progress, a warning, a notice, log text with a secret. */
function throughEvents(sink: EventSink): void {
  const a = startTask(sink, 'alpha', 'connecting');
  const b = startTask(sink, 'beta', 'connecting');
  a.update('revision 3: applying 1/7 ServiceAccount/alpha');
  a.update('revision 3: applying 1/7 ServiceAccount/alpha');
  sink.emit({type: 'warning', message: 'alpha: took over the expired deploy lease of bob'});
  b.update('revision 2: 1/2 updated, 0 ready, 0 available', {rollout: {desired: 2, updated: 1, ready: 0, available: 0, old: 1, done: false, ok: false}});
  sink.emit({type: 'notice', message: 'Build #4 started'});
  sink.emit({type: 'log', text: 'TOKEN=s3cr3t-token\n'});
  a.done(true, 'revision 3 rolled out (7 created, 0 changed, 0 unchanged) in 1.0s');
  b.done(false, 'revision 2 failed');
  b.update('ignored after done');
  sink.emit({type: 'tasks-ended'});
}

function throughUi(ui: Ui): void {
  const board = ui.progress();
  const a = board.task('alpha', 'connecting');
  const b = board.task('beta', 'connecting');
  a.update('revision 3: applying 1/7 ServiceAccount/alpha');
  a.update('revision 3: applying 1/7 ServiceAccount/alpha');
  ui.warn('alpha: took over the expired deploy lease of bob');
  b.update('revision 2: 1/2 updated, 0 ready, 0 available');
  ui.info('Build #4 started');
  ui.write('TOKEN=s3cr3t-token\n');
  a.done(true, 'revision 3 rolled out (7 created, 0 changed, 0 unchanged) in 1.0s');
  b.done(false, 'revision 2 failed');
  b.update('ignored after done');
  board.stop();
}

describe('the deploy core events on svctl\'s terminal', () => {
  for (const isTTY of [false, true]) {
    it(`prints exactly what the Ui calls printed (${isTTY ? 'a terminal' : 'not a terminal'})`, () => {
      const viaEvents = terminal(isTTY);
      throughEvents(uiSink(viaEvents.ui));
      const direct = terminal(isTTY);
      throughUi(direct.ui);
      expect(viaEvents.output()).toBe(direct.output());
      expect(viaEvents.output()).toContain('TOKEN=***');
      if (!isTTY) expect(viaEvents.output()).toContain('2026-01-01T00:00:00.000Z beta: FAILED: revision 2 failed\n');
    });
  }
});
