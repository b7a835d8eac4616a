import {once} from 'node:events';
import type {FastifyReply, FastifyRequest} from 'fastify';
import {badRequest} from './errors.js';

/** One event of an operation's stream; `seq` counts from 1 without gaps. */
export interface StreamEvent {
  seq: number;
  type: string;
  data: unknown;
}

export interface EventStreamOptions {
  /**
   * The events after `after` (a sequence number), in order, waiting for new ones; ends after
   * the terminal event or when `signal` aborts (the client went away). Where the events live
   * (memory, PostgreSQL) is the caller's business.
   */
  events: (after: number, signal: AbortSignal) => AsyncIterable<StreamEvent>;
  /** Whether this event ends the stream (the operation's result). */
  isTerminal: (event: StreamEvent) => boolean;
  /** A comment line is sent after this long without output, so idle proxies keep the connection (default 15 s). */
  keepaliveMs?: number;
  /** The reconnection delay suggested to EventSource clients (ms). */
  retryMs?: number;
}

export interface EventStreamResult {
  sent: number;
  lastSeq: number;
  /**
   * terminal: the terminal event was sent; client-gone: the client closed first, or the server
   * is closing (the client reconnects, to another replica); source-ended: the source ended
   * without a terminal event.
   */
  ended: 'terminal' | 'client-gone' | 'source-ended';
}

/** Open streams per server, ended when the app closes (so close() does not wait for them). */
const openStreams = new WeakMap<object, Set<AbortController>>();

/** Ends every open event stream of a server (createApp calls it when the app closes). */
export function endEventStreams(server: object): void {
  for (const controller of openStreams.get(server) ?? []) controller.abort();
}

/** The sequence number a reconnecting client has seen (Last-Event-ID), or 0. A bad value is a 400. */
export function lastEventId(request: FastifyRequest): number {
  const raw = request.headers['last-event-id'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === '') return 0;
  if (!/^\d{1,15}$/.test(value)) throw badRequest('invalid_request', `headers.last-event-id: expected the sequence number of the last event received, got ${JSON.stringify(value)}`);
  return Number(value);
}

/**
 * Serves a server-sent-events stream: `id:` is the event's sequence number, so a client that
 * reconnects with Last-Event-ID gets exactly the events after it (duplicates from the source
 * are dropped); a keepalive comment after each idle interval; the stream ends after the
 * terminal event. Backpressure: the next event is pulled from the source only once the socket
 * has drained, so a slow client holds at most one event in memory, not the whole history.
 */
export async function sendEventStream(request: FastifyRequest, reply: FastifyReply, options: EventStreamOptions): Promise<EventStreamResult> {
  const after = lastEventId(request);
  const raw = reply.raw;
  const controller = new AbortController();
  const gone = () => controller.abort();
  raw.once('close', gone);
  const streams = openStreams.get(reply.server.server) ?? new Set<AbortController>();
  openStreams.set(reply.server.server, streams);
  streams.add(controller);
  reply.hijack();
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
    'x-request-id': request.id,
    ...(request.negotiated ? {'bcl-protocol': String(request.negotiated.protocol)} : {}),
  });
  let lastWrite = Date.now();
  const write = async (text: string): Promise<void> => {
    lastWrite = Date.now();
    if (!raw.write(text)) {
      await Promise.race([once(raw, 'drain'), once(controller.signal, 'abort')]);
    }
  };
  if (options.retryMs !== undefined) await write(`retry: ${options.retryMs}\n\n`);
  else raw.flushHeaders();
  const keepaliveMs = options.keepaliveMs ?? 15_000;
  const timer = setInterval(() => {
    // Skipped while the socket is still draining: the keepalive must not grow the buffer.
    if (Date.now() - lastWrite >= keepaliveMs && raw.writableLength === 0 && !raw.writableEnded) {
      lastWrite = Date.now();
      raw.write(': keepalive\n\n');
    }
  }, Math.max(10, Math.floor(keepaliveMs / 2)));
  const result: EventStreamResult = {sent: 0, lastSeq: after, ended: 'source-ended'};
  try {
    for await (const event of options.events(after, controller.signal)) {
      if (controller.signal.aborted) break;
      if (event.seq <= result.lastSeq) continue;
      await write(formatEvent(event));
      result.sent += 1;
      result.lastSeq = event.seq;
      if (options.isTerminal(event)) {
        result.ended = 'terminal';
        break;
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) request.log.error({err: error}, 'event stream source failed');
  } finally {
    clearInterval(timer);
    raw.off('close', gone);
    streams.delete(controller);
    if (controller.signal.aborted && result.ended !== 'terminal') result.ended = 'client-gone';
    controller.abort();
    if (!raw.writableEnded) raw.end();
    request.log.info({method: request.method, path: request.url.split('?')[0], status: 200, events: result.sent, after, lastSeq: result.lastSeq, ended: result.ended}, 'event stream');
  }
  return result;
}

/** The wire form of one event: id, event name, and the data as one JSON line. */
export function formatEvent(event: StreamEvent): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/**
 * An in-memory, append-only event log with followers: what one process needs to stream an
 * operation (tests, single-node servers). Replicated servers keep events in their database and
 * give `sendEventStream` their own `events` function with the same contract.
 */
export class EventLog {
  readonly #events: StreamEvent[] = [];
  readonly #waiters = new Set<() => void>();
  #closed = false;

  constructor(private readonly terminalTypes: readonly string[] = ['result']) {}

  get events(): readonly StreamEvent[] {
    return this.#events;
  }

  /** Followers waiting for the next event. */
  get followers(): number {
    return this.#waiters.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  append(type: string, data: unknown): StreamEvent {
    if (this.#closed) throw new Error(`the event log is closed (its terminal event was appended); cannot append ${type}`);
    const event = {seq: this.#events.length + 1, type, data};
    this.#events.push(event);
    if (this.isTerminal(event)) this.#closed = true;
    for (const wake of this.#waiters) wake();
    return event;
  }

  isTerminal = (event: StreamEvent): boolean => this.terminalTypes.includes(event.type);

  async *follow(after: number, signal: AbortSignal): AsyncGenerator<StreamEvent> {
    let next = after;
    while (!signal.aborted) {
      while (next < this.#events.length) {
        const event = this.#events[next]!;
        next += 1;
        yield event;
        if (this.isTerminal(event)) return;
      }
      if (this.#closed) return;
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.#waiters.add(wake);
        signal.addEventListener('abort', wake, {once: true});
      });
    }
  }
}
