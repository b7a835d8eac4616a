import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {ConsolePrinter, followConsole} from './console.js';

/** A progressiveText endpoint over `log`, revealing it at the given byte offsets (chunk boundaries). */
function endpoint(log: Buffer, offsets: number[]) {
  const cuts = [...new Set([...offsets.filter((o) => o > 0 && o < log.length), log.length])].sort((a, b) => a - b);
  let step = 0;
  const requests: number[] = [];
  return {
    requests,
    fetch: async (start: number) => {
      requests.push(start);
      const written = cuts[Math.min(step, cuts.length - 1)]!;
      step++;
      const more = step < cuts.length;
      return {bytes: log.subarray(start, written), size: written, more};
    },
  };
}

describe('console streaming', () => {
  it('hands on every byte exactly once, in order, whatever the chunk boundaries', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({unit: 'binary', maxLength: 400}), fc.array(fc.nat({max: 2000}), {maxLength: 12}), async (text, offsets) => {
        const log = Buffer.from(text, 'utf8');
        const server = endpoint(log, offsets);
        const got: Buffer[] = [];
        const out = await followConsole({fetch: server.fetch, onBytes: (b) => got.push(Buffer.from(b)), minMs: 0, maxMs: 0});
        expect(Buffer.concat(got).equals(log)).toBe(true);
        expect(out).toEqual({bytes: log.length, complete: true});
      }),
      {numRuns: 300},
    );
  });

  it('prints the same text as the log, joining characters split between chunks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({unit: 'binary', maxLength: 300}), fc.array(fc.nat({max: 1200}), {maxLength: 10}), async (text, offsets) => {
        const log = Buffer.from(text, 'utf8');
        const server = endpoint(log, offsets);
        let printed = '';
        const printer = new ConsolePrinter((t) => (printed += t));
        await followConsole({fetch: server.fetch, onBytes: (b) => printer.push(b), minMs: 0, maxMs: 0});
        printer.end();
        const expected = log.toString('utf8');
        expect(printed).toBe(expected.length === 0 || expected.endsWith('\n') ? expected : `${expected}\n`);
      }),
      {numRuns: 300},
    );
  });

  it('does not repeat bytes when an answer runs past its X-Text-Size', async () => {
    const log = Buffer.from('one\ntwo\nthree\n');
    let calls = 0;
    const got: Buffer[] = [];
    await followConsole({
      // The first answer claims size 4 but carries 8 bytes; the next starts at 4 again.
      fetch: async (start) => (calls++ === 0 ? {bytes: log.subarray(0, 8), size: 4, more: true} : {bytes: log.subarray(start), size: log.length, more: false}),
      onBytes: (b) => got.push(b),
      minMs: 0,
    });
    expect(Buffer.concat(got).toString()).toBe('one\ntwo\nthree\n');
  });

  it('keeps the last lines for the failure message', () => {
    const lines: string[] = [];
    const printer = new ConsolePrinter((t) => lines.push(t), 3);
    printer.push(Buffer.from('a\nb\nc\nd'));
    printer.push(Buffer.from('e\nf'));
    printer.end();
    expect(printer.tail(3)).toEqual(['c', 'de', 'f']);
    expect(lines.join('')).toBe('a\nb\nc\nde\nf\n');
  });

  it('stops when interrupted and says the log is incomplete', async () => {
    const abort = new AbortController();
    const out = await followConsole({
      fetch: async (start) => {
        abort.abort();
        return {bytes: Buffer.from('x'), size: start + 1, more: true};
      },
      onBytes: () => undefined,
      signal: abort.signal,
      minMs: 10,
    });
    expect(out).toEqual({bytes: 1, complete: false});
  });
});
