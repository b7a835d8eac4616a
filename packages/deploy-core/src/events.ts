import type {ServiceDeployResult} from './deploy/deploy.js';

/**
 * What the deploy core tells while it works: phases and progress of each task (one service's
 * deploy, a Jenkins queue item), pod events, warnings, notices, console log text and results.
 * The core never prints: a client shows these (svctl on its progress board), a server streams
 * them (server-sent events), a test records them.
 */
export type DeployEvent =
  /** A task began, with its first phase ("connecting", "queued"). Task names are unique within a run. */
  | {type: 'task-started'; task: string; text: string}
  /** A task's phase or progress changed; `text` is the line a person reads. */
  | {type: 'task-progress'; task: string; text: string; rollout?: RolloutProgressEvent; podEvent?: PodEventData}
  /** A task ended, well or not, with its last line. */
  | {type: 'task-finished'; task: string; ok: boolean; text?: string}
  /** Every task of the run has finished (the end of a progress view). */
  | {type: 'tasks-ended'}
  /** Something a person should know that does not stop the run (a lease taken over, a mutable tag). */
  | {type: 'warning'; message: string}
  /** A plain notice ("Queued hello as queue item 12", "Build #4 started"). */
  | {type: 'notice'; message: string}
  /** Console text the user follows (a build's log), exactly as it arrives, already decoded. */
  | {type: 'log'; text: string}
  /** One service's deploy (or rollback) finished: its full result. */
  | {type: 'result'; service: string; result: ServiceDeployResult};

/** The rollout figures of a Deployment at a progress event. */
export interface RolloutProgressEvent {
  desired: number;
  updated: number;
  ready: number;
  available: number;
  /** Pods of older ReplicaSets still running. */
  old: number;
  done: boolean;
  ok: boolean;
}

/** A Kubernetes event about a pod or ReplicaSet of the rollout. */
export interface PodEventData {
  object: string;
  reason: string;
  message: string;
  type: string;
  at: number;
}

/** Where the core sends its events; `emit` must not throw (and is never awaited). */
export interface EventSink {
  emit(event: DeployEvent): void;
}

/** A sink that drops everything (for callers that only want the result). */
export const silentSink: EventSink = {emit: () => undefined};

/** A sink that records every event, in order (tests, and servers that persist them). */
export class RecordingSink implements EventSink {
  readonly events: DeployEvent[] = [];
  emit(event: DeployEvent): void {
    this.events.push(event);
  }
}

/** A progress task seen from the core: the two calls a task makes, turned into events. */
export interface TaskHandle {
  update(text: string, extra?: {rollout?: RolloutProgressEvent; podEvent?: PodEventData}): void;
  done(ok: boolean, text?: string): void;
}

/** Starts a task on a sink; `done` is idempotent, like a progress board's. */
export function startTask(sink: EventSink, task: string, text: string): TaskHandle {
  let finished = false;
  let last = text;
  sink.emit({type: 'task-started', task, text});
  return {
    update(next, extra) {
      if (finished || next === last) return;
      last = next;
      sink.emit({type: 'task-progress', task, text: next, ...extra});
    },
    done(ok, next) {
      if (finished) return;
      finished = true;
      sink.emit({type: 'task-finished', task, ok, ...(next !== undefined ? {text: next} : {})});
    },
  };
}
