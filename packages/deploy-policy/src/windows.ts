import {DateTime, IANAZone} from 'luxon';

/**
 * Time windows in wall-clock time of a named IANA zone: weekly spans ("Fri 16:00" to
 * "Mon 08:00", or 09:00-18:00 on listed days) and one-off dated spans. Wall-clock matching means
 * a window keeps its local hours across a daylight-saving change (a weekend freeze is 63 or 65
 * real hours on those weekends), which is what people who write "Monday 08:00" mean.
 */

export const MINUTES_PER_DAY = 1440;
export const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

export const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
export type DayName = (typeof DAY_NAMES)[number];
const FULL_DAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/** A weekly span as the file says it: `{from: 'Fri 16:00', to: 'Mon 08:00'}` or `{days: [Mon, Fri], from: '09:00', to: '18:00'}`. */
export interface WeeklySpanSpec {
  days?: string[] | undefined;
  from: string;
  to: string;
}

/** A one-off span in local time of the window's zone: `{from: '2025-12-22 00:00', to: '2026-01-05 08:00'}`. */
export interface DatedSpanSpec {
  from: string;
  to: string;
}

export interface WindowSpec {
  timeZone?: string | undefined;
  weekly?: WeeklySpanSpec[] | undefined;
  dates?: DatedSpanSpec[] | undefined;
}

/** A window ready to evaluate. */
export interface TimeWindow {
  zone: string;
  /** Weekly spans in minutes of the week (Monday 00:00 is 0): start and length. */
  weekly: {start: number; length: number}[];
  /** Dated spans as instants (ms since the epoch): from inclusive, to exclusive. */
  dates: {from: number; to: number}[];
  /** How the window reads: `Fri 16:00 to Mon 08:00, 2025-12-22 00:00 to 2026-01-05 08:00 Europe/Berlin`. */
  text: string;
}

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
const END_OF_DAY = '24:00';
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ]([01]\d|2[0-3]):([0-5]\d)$/;

export function isValidZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

/** Zone names for "did you mean". */
export function knownZones(): string[] {
  return ['UTC', ...Intl.supportedValuesOf('timeZone')];
}

/** 0 for Monday ... 6 for Sunday; undefined for anything else. Accepts `Mon`, `mon`, `Monday`. */
export function dayIndex(day: string): number | undefined {
  const lower = day.toLowerCase();
  const short = DAY_NAMES.findIndex((d) => d.toLowerCase() === lower);
  if (short >= 0) return short;
  const full = FULL_DAY_NAMES.indexOf(lower);
  return full >= 0 ? full : undefined;
}

/** Minutes since midnight of `HH:MM` (`24:00` only when `end`). */
export function parseTime(text: string, end = false): number | undefined {
  if (end && text === END_OF_DAY) return MINUTES_PER_DAY;
  const m = TIME.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

/** `Fri 16:00` as minutes of the week, or a plain `HH:MM` as minutes of the day (day undefined). */
export function parseDayTime(text: string, end = false): {day: number | undefined; minutes: number} | undefined {
  const parts = text.trim().split(/\s+/);
  if (parts.length === 1) {
    const minutes = parseTime(parts[0]!, end);
    return minutes === undefined ? undefined : {day: undefined, minutes};
  }
  if (parts.length !== 2) return undefined;
  const day = dayIndex(parts[0]!);
  const minutes = parseTime(parts[1]!, end);
  return day === undefined || minutes === undefined ? undefined : {day, minutes};
}

/** Why a weekly span is not usable, or undefined when it is (checked by the schema). */
export function weeklySpanProblem(span: WeeklySpanSpec): {key: 'from' | 'to' | 'days'; message: string} | undefined {
  const from = parseDayTime(span.from);
  const to = parseDayTime(span.to, true);
  const form = span.days ? 'a time such as 09:00 (the days are under days)' : 'a day and time such as "Fri 16:00", or a time such as 09:00 for every day';
  if (!from) return {key: 'from', message: `expected ${form}, got "${span.from}"`};
  if (!to) return {key: 'to', message: `expected ${form}, got "${span.to}"`};
  if (span.days) {
    if (from.day !== undefined) return {key: 'from', message: `expected a time such as 09:00 (the days are under days), got "${span.from}"`};
    if (to.day !== undefined) return {key: 'to', message: `expected a time such as 18:00 (the days are under days), got "${span.to}"`};
    if (span.days.length === 0) return {key: 'days', message: 'expected at least one day (Mon ... Sun)'};
  } else if ((from.day === undefined) !== (to.day === undefined)) {
    return {key: 'to', message: `give a day in both from and to ("Fri 16:00" to "Mon 08:00"), or in neither (a daily span)`};
  }
  if (from.day === to.day && from.minutes === to.minutes) return {key: 'to', message: `the span is empty: from and to are both "${span.from}"`};
  return undefined;
}

/** Parses `YYYY-MM-DD HH:MM` (or with `T`) as a local time in `zone`; undefined when invalid. */
export function parseLocalDateTime(text: string, zone: string): DateTime | undefined {
  const m = LOCAL_DATE_TIME.exec(text);
  if (!m) return undefined;
  const dt = DateTime.fromObject({year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: Number(m[4]), minute: Number(m[5])}, {zone});
  return dt.isValid ? dt : undefined;
}

export function datedSpanProblem(span: DatedSpanSpec): {key: 'from' | 'to'; message: string} | undefined {
  const form = 'a local date and time such as "2025-12-22 08:00"';
  const from = parseLocalDateTime(span.from, 'UTC');
  if (!from) return {key: 'from', message: `expected ${form}, got "${span.from}"`};
  const to = parseLocalDateTime(span.to, 'UTC');
  if (!to) return {key: 'to', message: `expected ${form}, got "${span.to}"`};
  if (to <= from) return {key: 'to', message: `the span ends ("${span.to}") before it starts ("${span.from}")`};
  return undefined;
}

/** A window from its (validated) specification. */
export function compileWindow(spec: WindowSpec, zone: string): TimeWindow {
  const weekly: TimeWindow['weekly'] = [];
  const texts: string[] = [];
  for (const span of spec.weekly ?? []) {
    const from = parseDayTime(span.from)!;
    const to = parseDayTime(span.to, true)!;
    if (span.days) {
      const days = [...new Set(span.days.map((d) => dayIndex(d)!))].sort((a, b) => a - b);
      for (const day of days) weekly.push({start: day * MINUTES_PER_DAY + from.minutes, length: daily(from.minutes, to.minutes)});
      texts.push(`${dayRuns(days)} ${span.from} to ${span.to}`);
    } else if (from.day === undefined) {
      for (let day = 0; day < 7; day++) weekly.push({start: day * MINUTES_PER_DAY + from.minutes, length: daily(from.minutes, to.minutes)});
      texts.push(`daily ${span.from} to ${span.to}`);
    } else {
      const start = from.day * MINUTES_PER_DAY + from.minutes;
      const end = to.day! * MINUTES_PER_DAY + to.minutes;
      weekly.push({start, length: mod(end - start, MINUTES_PER_WEEK) || MINUTES_PER_WEEK});
      texts.push(`${DAY_NAMES[from.day]} ${formatMinutes(from.minutes)} to ${DAY_NAMES[to.day!]} ${formatMinutes(to.minutes)}`);
    }
  }
  const dates = (spec.dates ?? []).map((span) => {
    texts.push(`${span.from.replace('T', ' ')} to ${span.to.replace('T', ' ')}`);
    return {from: parseLocalDateTime(span.from, zone)!.toMillis(), to: parseLocalDateTime(span.to, zone)!.toMillis()};
  });
  return {zone, weekly, dates, text: `${texts.join(', ')} ${zone}`};
}

/** `Mon-Fri`, `Mon,Wed,Fri`, `Sat-Sun`: days (0 = Monday, sorted) with consecutive runs shortened. */
function dayRuns(days: readonly number[]): string {
  const runs: string[] = [];
  for (let i = 0; i < days.length; ) {
    let j = i;
    while (j + 1 < days.length && days[j + 1] === days[j]! + 1) j++;
    runs.push(j - i >= 2 ? `${DAY_NAMES[days[i]!]}-${DAY_NAMES[days[j]!]}` : days.slice(i, j + 1).map((d) => DAY_NAMES[d]).join(','));
    i = j + 1;
  }
  return runs.join(',');
}

/** A daily span from `from` to `to` minutes; past midnight when `to` is not after `from`. */
function daily(from: number, to: number): number {
  return to > from ? to - from : to + MINUTES_PER_DAY - from;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

function formatMinutes(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** The local wall clock at `at`, truncated to the minute. */
function local(window: TimeWindow, at: number): {dt: DateTime; weekMinute: number} {
  const dt = DateTime.fromMillis(at, {zone: window.zone}).startOf('minute');
  return {dt, weekMinute: (dt.weekday - 1) * MINUTES_PER_DAY + dt.hour * 60 + dt.minute};
}

/** Whether the window is open at the instant `at` (ms since the epoch). */
export function isOpen(window: TimeWindow, at: number): boolean {
  if (window.dates.some((d) => d.from <= at && at < d.to)) return true;
  if (window.weekly.length === 0) return false;
  const {weekMinute} = local(window, at);
  return window.weekly.some((s) => mod(weekMinute - s.start, MINUTES_PER_WEEK) < s.length);
}

/**
 * When the window closes, for a window open at `at`: the instant at which none of its spans is
 * open any more (spans that touch or overlap count as one). Undefined when it is closed at `at`.
 */
export function closesAt(window: TimeWindow, at: number): number | undefined {
  if (!isOpen(window, at)) return undefined;
  let t = at;
  // Each step jumps to the end of one open span; a bounded number of steps covers chained spans.
  for (let step = 0; step < 64 && isOpen(window, t); step++) t = endOfOpenSpans(window, t);
  return t;
}

function endOfOpenSpans(window: TimeWindow, at: number): number {
  let end = at;
  for (const d of window.dates) if (d.from <= at && at < d.to) end = Math.max(end, d.to);
  if (window.weekly.length > 0) {
    const {dt, weekMinute} = local(window, at);
    const minuteOfDay = dt.hour * 60 + dt.minute;
    for (const s of window.weekly) {
      const offset = mod(weekMinute - s.start, MINUTES_PER_WEEK);
      if (offset >= s.length) continue;
      end = Math.max(end, wallClockPlus(dt, minuteOfDay, s.length - offset));
    }
  }
  // Never stand still (a local time skipped by a daylight-saving change): move at least a minute.
  return end > at ? end : at + 60_000;
}

/** The instant `minutes` of wall-clock time after `dt` (whose minute of the day is `minuteOfDay`). */
function wallClockPlus(dt: DateTime, minuteOfDay: number, minutes: number): number {
  const total = minuteOfDay + minutes;
  const day = dt.startOf('day').plus({days: Math.floor(total / MINUTES_PER_DAY)});
  const m = total % MINUTES_PER_DAY;
  return day.set({hour: Math.floor(m / 60), minute: m % 60}).toMillis();
}

/** The next instant after `at` at which the window opens; undefined when it never opens again. */
export function opensNext(window: TimeWindow, at: number): number | undefined {
  let best: number | undefined;
  for (const d of window.dates) if (d.from > at && (best === undefined || d.from < best)) best = d.from;
  if (window.weekly.length > 0) {
    const {dt} = local(window, at);
    const today = dt.startOf('day');
    for (const s of window.weekly) {
      const weekday = Math.floor(s.start / MINUTES_PER_DAY);
      const minute = s.start % MINUTES_PER_DAY;
      for (let k = 0; k <= 7; k++) {
        const day = today.plus({days: k});
        if (day.weekday - 1 !== weekday) continue;
        const start = day.set({hour: Math.floor(minute / 60), minute: minute % 60}).toMillis();
        if (start > at) {
          if (best === undefined || start < best) best = start;
          break;
        }
      }
    }
  }
  return best;
}

/** `Mon 2025-03-31 08:00 Europe/Berlin`: an instant as people in the window's zone read it. */
export function formatLocal(at: number, zone: string): string {
  return `${DateTime.fromMillis(at, {zone, locale: 'en-US'}).toFormat('ccc yyyy-MM-dd HH:mm')} ${zone}`;
}
