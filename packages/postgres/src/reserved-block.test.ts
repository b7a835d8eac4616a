import {describe, expect, it} from 'vitest';
import {ReservedBlock} from './reserved-block.js';

/** A reservation source handing out blocks of consecutive keys, counting its calls. */
function source(size: number) {
  let next = 1;
  const calls: number[] = [];
  return {
    calls,
    reserve: async () => {
      calls.push(next);
      const keys = Array.from({length: size}, (_, i) => String(next + i));
      next += size;
      return keys;
    },
  };
}

describe('ReservedBlock', () => {
  it('reserves a block once for many keys, each key handed out once', async () => {
    const s = source(8);
    const block = new ReservedBlock(s.reserve, {low: 0, exhausted: () => new Error('exhausted')});
    const keys = await Promise.all(Array.from({length: 8}, () => block.take()));
    expect(new Set(keys).size).toBe(8);
    expect(s.calls).toEqual([1]);
  });

  it('use(): a key under which nothing was made serves the next taker; a used one never comes back', async () => {
    const s = source(4);
    const block = new ReservedBlock(s.reserve, {low: 0, exhausted: () => new Error('exhausted')});
    let failedWith: string | undefined;
    await expect(
      block.use((key) => {
        failedWith = key;
        throw new Error('signing failed');
      }),
    ).rejects.toThrow('signing failed');
    const made = await block.use(async (key) => `made under ${key}`);
    expect(made).toBe(`made under ${failedWith}`);
    const rest = [await block.take(), await block.take(), await block.take()];
    expect(rest).not.toContain(failedWith);
    expect(new Set(rest).size).toBe(3);
  });

  it('says so when the source keeps giving nothing', async () => {
    const block = new ReservedBlock(async () => [], {low: 0, attempts: 3, exhausted: () => new Error('could not reserve a serial')});
    await expect(block.use(() => 'never')).rejects.toThrow('could not reserve a serial');
  });
});
