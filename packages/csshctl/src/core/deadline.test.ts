import {describe, expect, it} from 'vitest';
import {withinDeadline} from './deadline.js';

describe('one overall deadline', () => {
  it('returns what the work returns when it finishes in time', async () => {
    await expect(withinDeadline(1000, 'asking', async () => 'answer')).resolves.toBe('answer');
  });

  it('fails with exit 5 naming the deadline and aborts the work, however many stages it has', async () => {
    let aborted = false;
    const work = (signal: AbortSignal) =>
      new Promise<string>((resolve) => {
        signal.addEventListener('abort', () => (aborted = true));
        // A retry loop that would go on for a long time: the deadline ends it.
        setTimeout(() => resolve('too late'), 60_000).unref();
      });
    await expect(withinDeadline(50, 'asking cssh-authz', work)).rejects.toMatchObject({code: 'csshctl.deadline', exitCode: 5, message: 'asking cssh-authz did not finish within 0.05s'});
    expect(aborted).toBe(true);
  });

  it("passes the work's own error through", async () => {
    await expect(withinDeadline(1000, 'asking', async () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
  });
});
