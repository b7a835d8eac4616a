/**
 * The one duration grammar of CSSH: rules, the service's configuration, request bodies, csshctl's
 * flags and settings, cssh-daemon's configuration. Whole numbers with units s, m, h, d, w, in any
 * order and combination ("90s", "30m", "8h", "1h30m", "2d", "1w"); a bare number is seconds.
 * Dependency-free: clients import it through `@bcl/cssh-authz/api`.
 */
const UNITS: Record<string, number> = {s: 1, m: 60, h: 3600, d: 86_400, w: 604_800};

/** What a message says a duration looks like. */
export const DURATION_EXAMPLES = 'a duration such as 90s, 30m, 8h, 1h30m, 2d or 1w';

/** Seconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t);
  const re = /(\d+)([smhdw])/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    end = re.lastIndex;
  }
  return end > 0 && end === t.length ? total : undefined;
}

/** "8h", "1h30m", "45s": the shortest exact form, for messages. */
export function formatDuration(seconds: number): string {
  if (seconds <= 0) return '0s';
  const parts: string[] = [];
  let rest = Math.floor(seconds);
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
