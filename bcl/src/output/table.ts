import {displayWidth, type Painter} from './style.js';

export interface Column<R> {
  /** Header text. */
  header: string;
  /** The cell of one row. */
  get: (row: R) => unknown;
}

/** Renders rows as an aligned table with a header; cells are single-line strings. */
export function renderTable<R>(rows: readonly R[], columns: readonly Column<R>[], paint?: Painter): string {
  const cells = rows.map((row) => columns.map((c) => cellText(c.get(row))));
  const widths = columns.map((c, i) => Math.max(displayWidth(c.header), ...cells.map((r) => displayWidth(r[i] ?? ''))));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v + ' '.repeat((widths[i] ?? 0) - displayWidth(v))))
      .join('  ')
      .trimEnd();
  const header = line(columns.map((c) => c.header.toUpperCase()));
  return [paint ? paint('bold', header) : header, ...cells.map(line)].join('\n');
}

/** Columns inferred from the keys of plain-object rows, in first-seen order. */
export function inferColumns(rows: readonly Record<string, unknown>[]): Column<Record<string, unknown>>[] {
  const keys: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!keys.includes(key)) keys.push(key);
  return keys.map((key) => ({header: key, get: (row) => row[key]}));
}

export function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(cellText).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/\s*\n\s*/g, ' ');
}

/** A key/value block: aligned keys, nested mappings indented. */
export function renderKeyValue(value: Record<string, unknown>, paint?: Painter, indent = 0): string {
  const keys = Object.keys(value);
  const width = Math.max(0, ...keys.map((k) => k.length));
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  for (const key of keys) {
    const v = value[key];
    const label = `${key}:`;
    const shown = paint ? paint('bold', label) : label;
    if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)) {
      lines.push(`${pad}${shown}`);
      lines.push(renderKeyValue(v as Record<string, unknown>, paint, indent + 2));
    } else if (Array.isArray(v) && v.some((item) => item && typeof item === 'object')) {
      lines.push(`${pad}${shown}`);
      for (const item of v) {
        if (item && typeof item === 'object') {
          const block = renderKeyValue(item as Record<string, unknown>, paint, indent + 4).split('\n');
          lines.push(`${pad}  - ${(block[0] ?? '').trimStart()}`, ...block.slice(1));
        } else {
          lines.push(`${pad}  - ${cellText(item)}`);
        }
      }
    } else {
      lines.push(`${pad}${shown}${' '.repeat(width - key.length + 1)}${cellText(v)}`);
    }
  }
  return lines.join('\n');
}
