import {describe, expect, it} from 'vitest';
import {conflict} from '@bcl/core';
import {audited} from './record.js';

describe('audited', () => {
  const base = {as: 'postgres', operation: 'db.drop', server: 'connection main (db:5432)', target: {database: 'shop'}};

  it('records success after the operation and returns its result', async () => {
    const entries: unknown[] = [];
    const result = await audited({append: (e) => entries.push(e)}, base, async () => {
      expect(entries).toEqual([]);
      return 42;
    });
    expect(result).toBe(42);
    expect(entries).toEqual([{...base, outcome: 'ok'}]);
  });

  it('records a failure with the error code, and rethrows it', async () => {
    const entries: unknown[] = [];
    await expect(audited({append: (e) => entries.push(e)}, base, async () => {
      throw conflict('dbctl.database_in_use', 'in use');
    })).rejects.toMatchObject({code: 'dbctl.database_in_use'});
    await expect(audited({append: (e) => entries.push(e)}, base, async () => {
      throw new TypeError('bug');
    })).rejects.toThrow('bug');
    expect(entries).toEqual([{...base, outcome: 'failed', error: 'dbctl.database_in_use'}, {...base, outcome: 'failed', error: 'unexpected'}]);
  });

  it('reads a lazy base when the outcome is known, and refines a success', async () => {
    const entries: Record<string, unknown>[] = [];
    let server = 'db.yaml';
    await audited({append: (e) => entries.push(e)}, () => ({...base, operation: 'provision', server}), async () => {
      server = 'shop-prod';
      return {created: 3};
    }, (r) => ({target: {changes: r.created}}));
    expect(entries[0]).toMatchObject({operation: 'provision', server: 'shop-prod', target: {changes: 3}, outcome: 'ok'});
  });
});
