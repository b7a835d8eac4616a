import type {Writable} from 'node:stream';
import type {Painter} from './style.js';
import {type Column, inferColumns, renderKeyValue, renderTable} from './table.js';

/**
 * The human rendering of a command's result, on stdout. Commands that want a particular shape
 * override `renderResult` and use these; the default picks a table for lists of records and a
 * key/value block for records.
 */
export class ResultWriter {
  constructor(
    private readonly stdout: Writable,
    readonly paint: Painter,
  ) {}

  text(text: string): void {
    this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  table<R>(rows: readonly R[], columns: readonly Column<R>[], empty = '(none)'): void {
    this.text(rows.length === 0 ? empty : renderTable(rows, columns, this.paint));
  }

  keyValue(value: Record<string, unknown>): void {
    this.text(renderKeyValue(value, this.paint));
  }

  /** The default rendering of any value. */
  value(value: unknown): void {
    if (value === undefined || value === null) return;
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) {
      if (value.every((v) => v && typeof v === 'object' && !Array.isArray(v))) {
        return this.table(value as Record<string, unknown>[], inferColumns(value as Record<string, unknown>[]));
      }
      return this.text(value.map(String).join('\n'));
    }
    if (typeof value === 'object') return this.keyValue(value as Record<string, unknown>);
    this.text(String(value));
  }
}
