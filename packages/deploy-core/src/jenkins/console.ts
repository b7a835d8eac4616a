import {StringDecoder} from 'node:string_decoder';
import type {LogChunk} from './api.js';
import {sleep} from './api.js';

/**
 * Follows a console log through progressiveText: each answer holds the bytes from `start`, and
 * X-Text-Size says where the next request starts. Bytes are handed on exactly once, in order,
 * whatever the chunk boundaries (even inside a UTF-8 character). Polls back off from `minMs` to
 * `maxMs` while nothing new arrives.
 */
export async function followConsole(options: {
  fetch: (start: number) => Promise<LogChunk>;
  onBytes: (bytes: Buffer) => void;
  signal?: AbortSignal | undefined;
  minMs?: number;
  maxMs?: number;
}): Promise<{bytes: number; complete: boolean}> {
  const minMs = options.minMs ?? 200;
  const maxMs = options.maxMs ?? 2000;
  let start = 0;
  let delay = minMs;
  for (;;) {
    if (options.signal?.aborted) return {bytes: start, complete: false};
    let chunk: LogChunk;
    try {
      chunk = await options.fetch(start);
    } catch (error) {
      // Ctrl-C aborts the read in flight: following stops, as it does between reads.
      if (options.signal?.aborted) return {bytes: start, complete: false};
      throw error;
    }
    let bytes = chunk.bytes;
    // The answer covers [start, size): anything beyond the announced size comes again next time.
    if (chunk.size !== undefined && chunk.size >= start && bytes.length > chunk.size - start) bytes = bytes.subarray(0, chunk.size - start);
    if (bytes.length > 0) options.onBytes(bytes);
    const next = chunk.size !== undefined && chunk.size >= start ? start + bytes.length : start + bytes.length;
    const progressed = next > start;
    start = next;
    if (!chunk.more) return {bytes: start, complete: true};
    delay = progressed ? minMs : Math.min(maxMs, Math.round(delay * 1.5));
    await sleep(delay, options.signal);
  }
}

/**
 * Turns log bytes into redacted text lines for the terminal: UTF-8 characters split between
 * chunks are joined, a line is written only when complete (a secret split between two chunks is
 * still caught by the redactor), and the last lines are kept for the failure message.
 */
export class ConsolePrinter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private readonly recent: string[] = [];

  constructor(
    private readonly write: (text: string) => void,
    private readonly keep = 30,
  ) {}

  push(bytes: Buffer): void {
    const text = this.partial + this.decoder.write(bytes);
    const end = text.lastIndexOf('\n');
    if (end < 0) {
      this.partial = text;
      return;
    }
    this.partial = text.slice(end + 1);
    const complete = text.slice(0, end + 1);
    this.write(complete);
    this.remember(complete.slice(0, -1).split('\n'));
  }

  /** Writes what is left (a last line without newline). */
  end(): void {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest) {
      this.write(`${rest}\n`);
      this.remember([rest]);
    }
  }

  /** The last lines seen. */
  tail(lines = 20): string[] {
    return this.recent.slice(-lines);
  }

  private remember(lines: string[]): void {
    this.recent.push(...lines);
    if (this.recent.length > this.keep) this.recent.splice(0, this.recent.length - this.keep);
  }
}
