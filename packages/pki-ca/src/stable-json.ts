/**
 * Stable JSON: keys sorted at every level, undefined dropped, so the bytes a signature covers are
 * the same wherever they are computed (Node here, the PKI Toolbox in a browser). No imports.
 */
export type Json = string | number | boolean | null | Json[] | {[key: string]: Json | undefined};

export function stableJson(value: Json | undefined): string {
  if (Array.isArray(value)) return `[${value.map((v) => stableJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
