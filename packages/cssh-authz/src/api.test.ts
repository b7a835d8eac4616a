import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {formatDuration, parseDuration} from './api.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Every module `file` imports at run time, transitively (type-only imports are erased). */
function runtimeImports(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'";]*?from\s+'([^']+)'/gm)].map((m) => m[1]!);
  return specifiers.flatMap((s) => (s.startsWith('./') ? [s, ...runtimeImports(join(dirname(file), s.replace(/\.js$/, '.ts')), seen)] : [s]));
}

describe('the client-facing API entry', () => {
  it('loads nothing but its own small modules (clients import it without server code)', () => {
    const imports = runtimeImports(join(here, 'api.ts'));
    expect(imports.filter((s) => !s.startsWith('./'))).toEqual([]);
  });

  it('has one duration grammar: units s, m, h, d, w, combined; a bare number is seconds', () => {
    expect(parseDuration('1w')).toBe(604_800);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration(' 2d ')).toBe(172_800);
    for (const bad of ['', 'h', '1.5h', '10ms', '1y', '-1h', '1h 30m', '1H']) expect(parseDuration(bad), bad).toBeUndefined();
    expect(formatDuration(5400)).toBe('1h30m');
    expect(formatDuration(604_800)).toBe('7d');
  });
});
