import type {ProgressBoard, ProgressTask, Ui} from '@bcl/core';
import type {DeployEvent, EventSink} from '@bcl/deploy-core/events';

/**
 * The deploy core's events on svctl's terminal: tasks on a progress board (one per run of tasks,
 * opened by the first task and closed when they have all ended), warnings and notices as the Ui
 * shows them, log text written as it came. What a person sees is what the Ui printed before the
 * core had events: the same calls, in the same order.
 */
export function uiSink(ui: Ui): EventSink {
  let board: ProgressBoard | undefined;
  const tasks = new Map<string, ProgressTask>();
  return {
    emit(event: DeployEvent) {
      switch (event.type) {
        case 'task-started':
          board ??= ui.progress();
          tasks.set(event.task, board.task(event.task, event.text));
          return;
        case 'task-progress':
          tasks.get(event.task)?.update(event.text);
          return;
        case 'task-finished':
          tasks.get(event.task)?.done(event.ok, event.text);
          return;
        case 'tasks-ended':
          board?.stop();
          board = undefined;
          tasks.clear();
          return;
        case 'warning':
          return ui.warn(event.message);
        case 'notice':
          return ui.info(event.message);
        case 'log':
          return ui.write(event.text);
        case 'result':
          return;
      }
    },
  };
}
