import type {ConfigListResult} from '../commands/config/list.js';
import type {ResultWriter} from '../output/result.js';

/** `key=value` lines, or with origins a table where overridden values appear under the winner. */
export function renderConfigList(result: ConfigListResult, out: ResultWriter, showOrigin: boolean): void {
  const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  if (!showOrigin) {
    out.text(result.entries.map((e) => `${e.key}=${show(e.value)}`).join('\n') || '(no configuration)');
    return;
  }
  const rows = result.entries.flatMap((e) => [
    {key: e.key, value: show(e.value), origin: e.origin.label},
    ...e.overridden.map((o) => ({key: '', value: out.paint('dim', `overrides ${show(o.value)}`), origin: out.paint('dim', o.origin.label)})),
  ]);
  out.table(rows, [
    {header: 'key', get: (r) => r.key},
    {header: 'value', get: (r) => r.value},
    {header: 'origin', get: (r) => r.origin},
  ]);
  if (result.profile) out.text(out.paint('dim', `profile: ${result.profile}`));
}
