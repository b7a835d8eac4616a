/**
 * The order `a.localeCompare(b)` gives, without loading ICU's collator (its first use costs about
 * 15-20 ms, a fifth of a fast command's budget). For strings of printable ASCII, CLDR's root
 * collation is: space and punctuation in a fixed order, then digits, then letters compared without
 * case; among strings equal that way, lower case sorts first at the first difference. Anything
 * else falls back to localeCompare. Orders that reach users (rendered manifests, config hashes,
 * generated Terraform) therefore stay exactly what they were.
 */
const ORDER = ` _-,;:!?.'"()[]{}@*/\\&#%\`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz`;
const PRIMARY = new Map<string, number>();
for (let i = 0; i < ORDER.length; i++) {
  PRIMARY.set(ORDER[i]!, i);
  const upper = ORDER[i]!.toUpperCase();
  if (upper !== ORDER[i]) PRIMARY.set(upper, i);
}
const ASCII = /^[\x20-\x7e]*$/;

export function compareAsLocale(a: string, b: string): number {
  if (a === b) return 0;
  if (!ASCII.test(a) || !ASCII.test(b)) return a.localeCompare(b);
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = PRIMARY.get(a[i]!)! - PRIMARY.get(b[i]!)!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) continue;
    // The same letter in another case: lower case first.
    return a[i] === a[i]!.toLowerCase() ? -1 : 1;
  }
  return 0;
}
