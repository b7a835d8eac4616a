import {describe, expect, it} from 'vitest';
import {abandonedRecord, previousGood, type RevisionRecord, withAbandoned} from './history.js';

const record = (revision: number, outcome: RevisionRecord['outcome'], applied: string[] = []): RevisionRecord => ({
  revision,
  kind: 'deploy',
  image: `r/hello:v${revision}`,
  imageTag: `v${revision}`,
  who: 'alice@laptop',
  startedAt: '2026-01-01T00:00:00.000Z',
  outcome,
  applied,
});
const now = new Date('2026-01-01T01:00:00.000Z');

describe('abandoned deploys', () => {
  it('shows an in-progress record as abandoned once nobody holds the lease', () => {
    const history = [record(1, 'succeeded'), record(2, 'in-progress', ['Deployment/hello'])];
    const view = withAbandoned(history, {live: false, holder: 'alice@laptop pid 42', renewedAt: '2026-01-01T00:00:10.000Z'}, now);
    expect(view[0]).toBe(history[0]);
    expect(view[1]).toMatchObject({outcome: 'abandoned', applied: ['Deployment/hello'], abandoned: {holder: 'alice@laptop pid 42', lastRenewedAt: '2026-01-01T00:00:10.000Z', at: now.toISOString()}});
    expect(view[1]!.message).toBe('abandoned: the run holding the deploy lease (alice@laptop pid 42, last renewed 2026-01-01T00:00:10.000Z) stopped after applying Deployment/hello');
    // Nothing is written by looking: the records themselves are unchanged.
    expect(history[1]!.outcome).toBe('in-progress');
  });

  it('keeps the newest in-progress record of a live lease, and only that one', () => {
    const view = withAbandoned([record(1, 'in-progress'), record(2, 'failed'), record(3, 'in-progress')], {live: true, holder: 'bob@ci pid 7'}, now);
    expect(view.map((r) => r.outcome)).toEqual(['abandoned', 'failed', 'in-progress']);
  });

  it('names the run that took the lease over, and says when nothing was recorded as applied', () => {
    const r = abandonedRecord(record(4, 'in-progress'), {live: false}, now, 'carol@host pid 9');
    expect(r.message).toBe('abandoned: the run holding the deploy lease (a deploy whose lease is gone) stopped before it recorded any applied object; carol@host pid 9 took the lease over');
    expect(r.abandoned).toEqual({holder: 'a deploy whose lease is gone', takenOverBy: 'carol@host pid 9', at: now.toISOString()});
  });

  it('never rolls back to an abandoned revision', () => {
    expect(previousGood([record(1, 'succeeded'), record(2, 'abandoned'), record(3, 'failed')], 3)?.revision).toBe(1);
  });
});
