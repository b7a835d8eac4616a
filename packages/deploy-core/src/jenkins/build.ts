import {BclError, conflict, ExitCode, interrupted, operationFailed} from '@bcl/core/errors';
import {type EventSink, startTask} from '../events.js';
import {type BuildInfo, type JenkinsApi, sleep} from './api.js';
import {ConsolePrinter, followConsole} from './console.js';

export interface BuildRequest {
  job: string;
  parameters: {GIT_SHA: string; IMAGE_TAG: string; ENV: string};
  /** Return once the build is queued. */
  follow: boolean;
  /** Stream the console log (as `log` events) while following. */
  showLog: boolean;
}

export interface BuildOutcome {
  jenkins: string;
  job: string;
  queueId: number;
  queueUrl: string;
  number: number | null;
  url: string | null;
  /** null when not followed to the end. */
  result: string | null;
  durationMs: number | null;
  gitSha: string;
  imageTag: string;
  env: string | null;
}

export interface FollowTiming {
  /** First poll interval of the queue and the log; polls back off to maxPollMs while nothing changes. */
  minPollMs?: number;
  maxPollMs?: number;
}

const FAILED_RESULTS = new Set(['FAILURE', 'UNSTABLE', 'ABORTED', 'NOT_BUILT']);

/**
 * Starts a build with buildWithParameters and, when following, waits for its queue item to get an
 * executor (telling why it waits), streams the console log, and maps the result to exit codes:
 * SUCCESS returns; FAILURE, UNSTABLE and ABORTED are exit 7 with the log's tail; a cancelled queue
 * item is exit 6. SIGINT stops following and leaves the build running.
 */
export async function runBuild(api: JenkinsApi, request: BuildRequest, io: {events: EventSink; signal?: AbortSignal | undefined; timing?: FollowTiming; live?: boolean}): Promise<BuildOutcome> {
  const {events, signal} = io;
  const notice = (message: string) => events.emit({type: 'notice', message});
  const minMs = io.timing?.minPollMs ?? 250;
  const maxMs = io.timing?.maxPollMs ?? 2000;
  const queueId = await api.trigger(request.job, request.parameters);
  const queueUrl = `${api.server.url}/queue/item/${queueId}/`;
  const outcome: BuildOutcome = {
    jenkins: api.server.name,
    job: request.job,
    queueId,
    queueUrl,
    number: null,
    url: null,
    result: null,
    durationMs: null,
    gitSha: request.parameters.GIT_SHA,
    imageTag: request.parameters.IMAGE_TAG,
    env: request.parameters.ENV || null,
  };
  notice(`Queued ${request.job} at ${api.server.name} as queue item ${queueId} (GIT_SHA=${request.parameters.GIT_SHA}, IMAGE_TAG=${request.parameters.IMAGE_TAG}${request.parameters.ENV ? `, ENV=${request.parameters.ENV}` : ''})`);
  if (!request.follow) return outcome;

  const executable = await waitForExecutor(api, request.job, queueId, {events, live: io.live ?? false, signal, minMs, maxMs});
  outcome.number = executable.number;
  outcome.url = executable.url || `${api.jobUrl(request.job)}${executable.number}/`;
  notice(`Build #${executable.number} started: ${outcome.url}`);

  const printer = new ConsolePrinter((text) => {
    if (request.showLog) events.emit({type: 'log', text});
  });
  const log = await followConsole({
    fetch: (start) => api.logChunk(request.job, executable.number, start),
    onBytes: (bytes) => printer.push(bytes),
    signal,
    minMs,
    maxMs,
  });
  printer.end();
  if (!log.complete || signal?.aborted) throw stoppedFollowing(outcome);

  // The log can be complete a moment before Jenkins records the result.
  let build: BuildInfo = await api.build(request.job, executable.number);
  for (let delay = minMs; build.building || build.result === null; delay = Math.min(maxMs, delay * 2)) {
    await sleep(delay, signal);
    if (signal?.aborted) throw stoppedFollowing(outcome);
    build = await api.build(request.job, executable.number);
  }
  outcome.result = build.result;
  outcome.durationMs = build.durationMs;
  if (build.gitSha) outcome.gitSha = build.gitSha;
  if (build.result && FAILED_RESULTS.has(build.result)) {
    const tail = printer.tail(20);
    throw operationFailed('svctl.build_failed', `build #${build.number} of ${request.job} finished ${build.result} after ${formatDuration(build.durationMs)}${tail.length ? `; the log ends with:\n${tail.map((l) => `  | ${l}`).join('\n')}` : ''}`, {
      hint: `The full log: ${outcome.url}console`,
      details: {...outcome, tail},
    });
  }
  return outcome;
}

async function waitForExecutor(
  api: JenkinsApi,
  job: string,
  queueId: number,
  /** live: shown in place (a terminal), so a countdown may change on every poll. */
  io: {events: EventSink; live: boolean; signal?: AbortSignal | undefined; minMs: number; maxMs: number},
): Promise<{number: number; url: string}> {
  const task = startTask(io.events, `queue item ${queueId}`, 'queued');
  let shown = '';
  let delay = io.minMs;
  try {
    for (;;) {
      if (io.signal?.aborted) throw interrupted(`stopped waiting: queue item ${queueId} of ${job} is still queued at ${api.server.url}/queue/item/${queueId}/`);
      const item = await api.queueItem(queueId);
      if (!item) {
        // Jenkins forgets a queue item some minutes after it left the queue: find its build instead.
        const build = (await api.builds(job, 20)).find((b) => b.queueId === queueId);
        if (build) {
          task.done(true, `build #${build.number}`);
          return {number: build.number, url: build.url};
        }
        throw new BclError('jenkins.queue_item_lost', `Jenkins no longer knows queue item ${queueId} of ${job}, and no recent build came from it`, ExitCode.unavailable, {
          hint: `Look at ${api.jobUrl(job)} for the build.`,
        });
      }
      if (item.cancelled) {
        task.done(false, 'cancelled');
        throw conflict('svctl.build_cancelled', `queue item ${queueId} of ${job} was cancelled before it started`, {
          hint: 'Someone (or a Jenkins rule) removed the build from the queue; start it again when that is resolved.',
          details: {queueId, job},
        });
      }
      if (item.executable) {
        task.done(true, `build #${item.executable.number}`);
        return item.executable;
      }
      const why = item.why ?? 'waiting';
      // Countdowns ("Expires in 4.9 sec") change every poll: show each kind of wait once off a terminal.
      const kind = io.live ? why : why.replace(/\d+(\.\d+)?/g, '#');
      if (kind !== shown) {
        shown = kind;
        task.update(`waiting: ${why}`);
      }
      await sleep(delay, io.signal);
      delay = Math.min(io.maxMs, Math.round(delay * 1.3));
    }
  } catch (error) {
    task.done(false);
    throw error;
  }
}

function stoppedFollowing(outcome: BuildOutcome): BclError {
  return interrupted(`stopped following build #${outcome.number} of ${outcome.job}; it goes on at ${outcome.url}`, {details: outcome});
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
