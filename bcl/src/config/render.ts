import type {ResultWriter} from '../output/result.js';
import type {ConfigEntry, IgnoredEntry} from './resolve.js';

export interface ConfigListResult {
  /** The files that were read, lowest layer first. */
  files: {kind: string; path: string}[];
  profile: string | null;
  entries: ConfigEntry[];
  /** Values of an untrusted project file that were not used, with why. */
  ignored: IgnoredEntry[];
}

/** `key=value` lines, or with origins a table where overridden values appear under the winner. */
export function renderConfigList(result: ConfigListResult, out: ResultWriter, showOrigin: boolean): void {
  const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  if (!showOrigin) {
    out.text(result.entries.map((e) => `${e.key}=${show(e.value)}`).join('\n') || '(no configuration)');
    return;
  }
  const ignoredRow = (i: IgnoredEntry) => ({key: '', value: out.paint('dim', `ignored ${show(i.value)} (untrusted project file: bcl config trust)`), origin: out.paint('dim', i.origin.label)});
  const rows = result.entries.flatMap((e) => [
    {key: e.key, value: show(e.value), origin: e.origin.label},
    ...e.overridden.map((o) => ({key: '', value: out.paint('dim', `overrides ${show(o.value)}`), origin: out.paint('dim', o.origin.label)})),
    ...result.ignored.filter((i) => i.key === e.key).map(ignoredRow),
  ]);
  const shown = new Set(result.entries.map((e) => e.key));
  for (const i of result.ignored) if (!shown.has(i.key)) rows.push({...ignoredRow(i), key: i.key});
  out.table(rows, [
    {header: 'key', get: (r) => r.key},
    {header: 'value', get: (r) => r.value},
    {header: 'origin', get: (r) => r.origin},
  ]);
  if (result.profile) out.text(out.paint('dim', `profile: ${result.profile}`));
}
