import {describe, expect, it} from 'vitest';
import type {BclError} from '@bcl/core';
import {type Confirmer, confirmDestructive, type DestructiveStep} from './confirm.js';

/** The error a promise rejects with; a promise that resolves fails the test. */
async function rejection(promise: Promise<unknown>): Promise<BclError> {
  try {
    await promise;
  } catch (error) {
    return error as BclError;
  }
  throw new Error('expected the operation to be refused');
}

const step: DestructiveStep = {what: 'Dropping database shop deletes all its data', expected: 'shop', flag: '--yes', confirmed: false, code: 'dbctl.not_confirmed', nothingDone: 'nothing was changed'};

function person(answer: string | undefined, interactive = true): Confirmer & {asked: {message: string; expected: string; flag: string}[]} {
  const asked: {message: string; expected: string; flag: string}[] = [];
  return {interactive, asked, typeToConfirm: async (o) => (asked.push(o), answer === o.expected)};
}


describe('the destructive gate', () => {
  it('passes at once with the flag, asking nobody', async () => {
    const p = person(undefined);
    await confirmDestructive(p, {...step, confirmed: true});
    expect(p.asked).toEqual([]);
  });

  it('never prompts a non-interactive run: exit 6 naming the flag', async () => {
    const p = person('shop', false);
    const error = await rejection(confirmDestructive(p, step));
    expect(p.asked).toEqual([]);
    expect(error).toMatchObject({code: 'dbctl.not_confirmed', exitCode: 6, message: 'Dropping database shop deletes all its data: not confirmed; nothing was changed', hint: 'Pass --yes to confirm in a non-interactive run.'});
    expect(error.details).toMatchObject({flag: '--yes'});
  });

  it('asks a person to type the name; the right name goes on, another is exit 6', async () => {
    const right = person('shop');
    await confirmDestructive(right, step);
    expect(right.asked).toEqual([{message: 'Dropping database shop deletes all its data.', expected: 'shop', flag: '--yes'}]);
    const wrong = person('shoq');
    const error = await rejection(confirmDestructive(wrong, {...step, code: 'dbctl.destroy_not_confirmed', flag: '--allow-destroy'}));
    expect(error).toMatchObject({code: 'dbctl.destroy_not_confirmed', exitCode: 6});
    expect(error.message).toContain('the name typed did not match; nothing was changed');
  });
});
