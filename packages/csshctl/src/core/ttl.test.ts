import {describe, expect, it} from 'vitest';
import {parseTtlFlag} from './ttl.js';

describe('--ttl', () => {
  it("accepts what cssh-authz accepts, weeks included", () => {
    expect(parseTtlFlag('1w')).toBe(604_800);
    expect(parseTtlFlag('1h30m')).toBe(5400);
    expect(parseTtlFlag('45')).toBe(45);
  });

  it('refuses what cssh-authz refuses, naming the flag (exit 2)', () => {
    for (const bad of ['1.5h', '500ms', '0', 'soon']) expect(() => parseTtlFlag(bad), bad).toThrow(expect.objectContaining({exitCode: 2, message: expect.stringContaining(`--ttl: expected a duration such as 90s, 30m, 8h, 1h30m, 2d or 1w, got "${bad}"`)}));
  });
});
