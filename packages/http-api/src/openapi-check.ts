// Checking a generated OpenAPI document against the committed one. No Fastify here.
import {existsSync, readFileSync} from 'node:fs';
import {writeFileAtomicSync} from '@bcl/files';
import {type ApiChange, compareOpenApi} from './openapi-diff.js';

/** Set to 1 to (re)write the committed document when the change is compatible. */
export const UPDATE_ENV = 'BCL_UPDATE_OPENAPI';
/** Set to 1 as well to write a document with incompatible changes (a new API version). */
export const ALLOW_BREAKING_ENV = 'BCL_OPENAPI_ALLOW_BREAKING';

export interface OpenApiCheck {
  /**
   * same: identical; updated: written (first time, or a compatible change with update on);
   * outdated: compatible changes not yet committed; incompatible: a client of the committed
   * document can break.
   */
  status: 'same' | 'updated' | 'outdated' | 'incompatible';
  ok: boolean;
  changes: ApiChange[];
  /** What to tell the person running the check. */
  message: string;
}

/** JSON with object keys sorted, two-space indented, newline-terminated: a stable diff. */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sort) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])])) : v;
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

/**
 * Compares `generated` with the document committed at `file`. Incompatible changes always fail
 * (unless both env switches are set); compatible ones fail as "outdated" until the file is
 * regenerated with BCL_UPDATE_OPENAPI=1, so the committed file is always what the server serves.
 */
export function checkOpenApi(generated: Record<string, unknown>, file: string, options: {update?: boolean; allowBreaking?: boolean} = {}): OpenApiCheck {
  const update = options.update ?? process.env[UPDATE_ENV] === '1';
  const allowBreaking = options.allowBreaking ?? process.env[ALLOW_BREAKING_ENV] === '1';
  const text = stableJson(generated);
  const write = () => {
    writeFileAtomicSync(file, text, {mode: 0o644});
  };
  if (!existsSync(file)) {
    if (update) {
      write();
      return {status: 'updated', ok: true, changes: [], message: `${file}: written (new document)`};
    }
    return {status: 'outdated', ok: false, changes: [], message: `${file}: no committed OpenAPI document; create it with ${UPDATE_ENV}=1 and commit it`};
  }
  const committedText = readFileSync(file, 'utf8');
  if (committedText === text) return {status: 'same', ok: true, changes: [], message: `${file}: up to date`};
  const committed = JSON.parse(committedText) as Record<string, unknown>;
  const changes = compareOpenApi(committed, generated);
  const incompatible = changes.filter((c) => c.kind === 'incompatible');
  if (incompatible.length > 0 && !(update && allowBreaking)) {
    return {
      status: 'incompatible',
      ok: false,
      changes,
      message: `${file}: the API changed incompatibly for existing clients:\n${incompatible.map((c) => `  - ${c.message}`).join('\n')}\nKeep the old shape (add fields, make new ones optional), or publish a new API version (then ${UPDATE_ENV}=1 ${ALLOW_BREAKING_ENV}=1).`,
    };
  }
  if (update) {
    write();
    return {status: 'updated', ok: true, changes, message: `${file}: updated (${changes.length} change(s))`};
  }
  return {
    status: 'outdated',
    ok: false,
    changes,
    message: `${file}: the committed OpenAPI document is out of date (compatible changes:\n${changes.map((c) => `  - ${c.message}`).join('\n') || '  - formatting or descriptions'}\n); regenerate it with ${UPDATE_ENV}=1 and commit it`,
  };
}
