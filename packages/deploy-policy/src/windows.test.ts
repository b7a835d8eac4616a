import {describe, expect, it} from 'vitest';
import {closesAt, compileWindow, formatLocal, isOpen, opensNext, parseDayTime, weeklySpanProblem} from './windows.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('weekly windows in wall-clock time', () => {
  const weekend = compileWindow({weekly: [{from: 'Fri 16:00', to: 'Mon 08:00'}]}, 'Europe/Berlin');

  it('reads as people wrote it', () => {
    expect(weekend.text).toBe('Fri 16:00 to Mon 08:00 Europe/Berlin');
    expect(compileWindow({weekly: [{days: ['mon', 'Tuesday', 'Wed', 'Thu', 'Fri'], from: '09:00', to: '18:00'}, {days: ['Sat'], from: '10:00', to: '12:00'}]}, 'UTC').text).toBe(
      'Mon-Fri 09:00 to 18:00, Sat 10:00 to 12:00 UTC',
    );
  });

  it('opens Friday 16:00 and closes Monday 08:00 local time, whatever the offset that week', () => {
    expect(isOpen(weekend, at('2025-03-07T14:59:00Z'))).toBe(false); // Fri 15:59 CET
    expect(isOpen(weekend, at('2025-03-07T15:00:00Z'))).toBe(true); // Fri 16:00 CET
    expect(iso(closesAt(weekend, at('2025-03-07T15:00:00Z')))).toBe('2025-03-10T07:00:00.000Z');
    // Spring change on Sunday 2025-03-30: the weekend starts in CET and ends in CEST.
    expect(iso(closesAt(weekend, at('2025-03-28T15:30:00Z')))).toBe('2025-03-31T06:00:00.000Z');
    expect(isOpen(weekend, at('2025-03-31T05:59:00Z'))).toBe(true);
    expect(isOpen(weekend, at('2025-03-31T06:00:00Z'))).toBe(false);
    // Autumn change on Sunday 2025-10-26: starts in CEST, ends in CET.
    expect(iso(closesAt(weekend, at('2025-10-24T14:00:00Z')))).toBe('2025-10-27T07:00:00.000Z');
    expect(isOpen(weekend, at('2025-10-27T06:59:00Z'))).toBe(true);
  });

  it('follows the change dates of each zone (New York changes three weeks before Berlin)', () => {
    const ny = compileWindow({weekly: [{from: 'Fri 16:00', to: 'Mon 08:00'}]}, 'America/New_York');
    expect(iso(closesAt(ny, at('2025-03-07T22:00:00Z')))).toBe('2025-03-10T12:00:00.000Z'); // EST -> EDT on 2025-03-09
    expect(iso(opensNext(ny, at('2025-03-10T12:00:00Z')))).toBe('2025-03-14T20:00:00.000Z');
  });

  it('takes daily spans past midnight, 24:00 as the end of the day, and chains touching spans', () => {
    const night = compileWindow({weekly: [{from: '22:00', to: '06:00'}]}, 'UTC');
    expect(isOpen(night, at('2025-03-05T23:30:00Z'))).toBe(true);
    expect(isOpen(night, at('2025-03-06T05:59:00Z'))).toBe(true);
    expect(isOpen(night, at('2025-03-06T12:00:00Z'))).toBe(false);
    expect(iso(closesAt(night, at('2025-03-05T23:30:00Z')))).toBe('2025-03-06T06:00:00.000Z');
    const weekendDays = compileWindow({weekly: [{days: ['Sat', 'Sun'], from: '00:00', to: '24:00'}]}, 'UTC');
    expect(iso(closesAt(weekendDays, at('2025-03-08T10:00:00Z')))).toBe('2025-03-10T00:00:00.000Z');
  });

  it('says when a closed window opens next', () => {
    const hours = compileWindow({weekly: [{days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], from: '09:00', to: '18:00'}]}, 'Europe/Berlin');
    expect(iso(opensNext(hours, at('2025-03-05T20:00:00Z')))).toBe('2025-03-06T08:00:00.000Z');
    expect(iso(opensNext(hours, at('2025-03-07T20:00:00Z')))).toBe('2025-03-10T08:00:00.000Z');
    expect(formatLocal(at('2025-03-10T08:00:00Z'), 'Europe/Berlin')).toBe('Mon 2025-03-10 09:00 Europe/Berlin');
  });

  it('opens at the first existing minute when its start falls in the hour skipped in spring', () => {
    const w = compileWindow({weekly: [{days: ['Sun'], from: '02:30', to: '04:00'}]}, 'Europe/Berlin');
    // 2025-03-30 02:00 CET jumps to 03:00 CEST (01:00 UTC).
    expect(isOpen(w, at('2025-03-30T00:59:00Z'))).toBe(false);
    expect(isOpen(w, at('2025-03-30T01:00:00Z'))).toBe(true);
    expect(iso(closesAt(w, at('2025-03-30T01:00:00Z')))).toBe('2025-03-30T02:00:00.000Z');
  });
});

describe('dated windows', () => {
  const yearEnd = compileWindow({dates: [{from: '2025-12-22 00:00', to: '2026-01-05T08:00'}]}, 'Europe/Berlin');
  it('are local times of the zone, start inclusive, end exclusive', () => {
    expect(yearEnd.text).toBe('2025-12-22 00:00 to 2026-01-05 08:00 Europe/Berlin');
    expect(isOpen(yearEnd, at('2025-12-21T22:59:00Z'))).toBe(false);
    expect(isOpen(yearEnd, at('2025-12-21T23:00:00Z'))).toBe(true);
    expect(iso(closesAt(yearEnd, at('2025-12-25T12:00:00Z')))).toBe('2026-01-05T07:00:00.000Z');
    expect(isOpen(yearEnd, at('2026-01-05T07:00:00Z'))).toBe(false);
    expect(opensNext(yearEnd, at('2026-01-05T07:00:00Z'))).toBeUndefined();
  });
});

describe('span syntax', () => {
  it('reads day and time forms', () => {
    expect(parseDayTime('Fri 16:00')).toEqual({day: 4, minutes: 960});
    expect(parseDayTime('sunday 00:05')).toEqual({day: 6, minutes: 5});
    expect(parseDayTime('24:00')).toBeUndefined();
    expect(parseDayTime('24:00', true)).toEqual({day: undefined, minutes: 1440});
    expect(parseDayTime('9:00')).toBeUndefined();
    expect(parseDayTime('Fri 25:00')).toBeUndefined();
  });

  it('says what is wrong with a span', () => {
    expect(weeklySpanProblem({from: 'Fri 16:00', to: '08:00'})?.message).toBe('give a day in both from and to ("Fri 16:00" to "Mon 08:00"), or in neither (a daily span)');
    expect(weeklySpanProblem({days: ['Mon'], from: 'Mon 09:00', to: '18:00'})).toEqual({key: 'from', message: 'expected a time such as 09:00 (the days are under days), got "Mon 09:00"'});
    expect(weeklySpanProblem({from: 'Fri 16:00', to: 'Fri 16:00'})?.message).toBe('the span is empty: from and to are both "Fri 16:00"');
    expect(weeklySpanProblem({from: 'Fri 4pm', to: 'Mon 08:00'})?.key).toBe('from');
    expect(weeklySpanProblem({from: 'Fri 16:00', to: 'Mon 08:00'})).toBeUndefined();
  });
});
