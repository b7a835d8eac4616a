// The client side of server-sent events, without Fastify: CLIs import it as
// `@bcl/http-api/sse-client` and load nothing of the server.

export interface ReceivedEvent {
  /** The `id:` field (the sequence number), if any. */
  id: string | undefined;
  /** The `event:` field (default "message"). */
  event: string;
  /** The `data:` lines joined with newlines. */
  data: string;
}

/**
 * Parses a text/event-stream body (WHATWG HTML, "event stream interpretation"): events are
 * separated by a blank line, comment lines (":") are reported to `onComment` (keepalives),
 * CR, LF and CRLF line ends all work, and a trailing event without its blank line is dropped,
 * as the standard says (a cut stream never yields half an event).
 */
export async function* parseEventStream(body: AsyncIterable<Uint8Array | string>, options: {onComment?: (text: string) => void; onRetry?: (ms: number) => void} = {}): AsyncGenerator<ReceivedEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let id: string | undefined;
  let event = '';
  let data: string[] = [];
  let sawData = false;
  const takeLines = function* (final: boolean): Generator<string> {
    for (;;) {
      const m = /\r\n|\r|\n/.exec(buffer);
      if (!m) break;
      // A lone CR at the end might be the first half of CRLF: wait for more input.
      if (m[0] === '\r' && m.index === buffer.length - 1 && !final) break;
      yield buffer.slice(0, m.index);
      buffer = buffer.slice(m.index + m[0].length);
    }
  };
  for await (const chunk of body) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, {stream: true});
    for (const line of takeLines(false)) {
      if (line === '') {
        if (sawData) yield {id, event: event || 'message', data: data.join('\n')};
        event = '';
        data = [];
        sawData = false;
        continue;
      }
      if (line.startsWith(':')) {
        options.onComment?.(line.slice(1).trimStart());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') {
        data.push(value);
        sawData = true;
      } else if (field === 'event') event = value;
      else if (field === 'id' && !value.includes('\0')) id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) options.onRetry?.(Number(value));
    }
  }
}
