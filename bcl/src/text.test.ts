import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {compareAsLocale} from './text.js';

describe('compareAsLocale', () => {
  it('orders printable ASCII exactly as localeCompare does', () => {
    const printable = fc.string({unit: fc.constantFrom(...' _-.:/0123456789aAbBcCzZ$#~'.split('')), maxLength: 8});
    fc.assert(
      fc.property(printable, printable, (a, b) => {
        expect(Math.sign(compareAsLocale(a, b)) + 0).toBe(Math.sign(a.localeCompare(b)) + 0);
      }),
      {numRuns: 5000},
    );
    const any = fc.string({unit: fc.integer({min: 0x20, max: 0x7e}).map((c) => String.fromCharCode(c)), maxLength: 6});
    fc.assert(
      fc.property(any, any, (a, b) => {
        expect(Math.sign(compareAsLocale(a, b)) + 0).toBe(Math.sign(a.localeCompare(b)) + 0);
      }),
      {numRuns: 5000},
    );
  });

  it('falls back to localeCompare beyond ASCII', () => {
    expect(Math.sign(compareAsLocale('é', 'f'))).toBe(Math.sign('é'.localeCompare('f')));
    expect(['API_URL', 'api_key', 'A_B', 'AB', 'a.b', 'a-b'].sort(compareAsLocale)).toEqual(['API_URL', 'api_key', 'A_B', 'AB', 'a.b', 'a-b'].sort((x, y) => x.localeCompare(y)));
  });
});
