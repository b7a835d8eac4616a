import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {stringify} from 'yaml';
import * as z from 'zod';
import {checkYaml, formatProblem, loadYamlFile, SpecError} from './index.js';

const schema = z.strictObject({
  name: z.string().min(1),
  replicas: z.number().int().default(1),
  env: z.record(z.string(), z.strictObject({replicas: z.number().int().optional(), tags: z.array(z.string()).default([])})).default({}),
  mode: z.union([z.literal('fast'), z.strictObject({custom: z.string()})]).optional(),
});

/** Loading either returns a value the schema accepts, or throws a SpecError whose every problem names the file. Nothing else. */
function loadsOrExplains(input: string | Uint8Array): void {
  try {
    const value = loadYamlFile(schema, 'prop.yaml', {text: input});
    expect(schema.safeParse(value).success).toBe(true);
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    expect(error.problems.length).toBeGreaterThan(0);
    for (const p of error.problems) {
      const line = formatProblem(p);
      expect(line.startsWith('prop.yaml')).toBe(true);
      expect(line.length).toBeLessThan(2_000);
      if (p.line !== undefined) expect(p.line).toBeGreaterThan(0);
    }
  }
}

const key = fc.oneof(fc.constantFrom('name', 'replicas', 'env', 'tags', 'mode', 'custom', '__proto__', 'constructor', 'prod'), fc.string({maxLength: 8}));
const value = fc.letrec((tie) => ({
  node: fc.oneof({depthSize: 'small'}, fc.jsonValue({maxDepth: 1}), fc.dictionary(key, tie('node'), {maxKeys: 4}), fc.array(tie('node'), {maxLength: 3})),
})).node;
const fragment = fc.constantFrom('&a ', '*a', '!!binary ', '!tag ', '{', '}', '[', ']', ', ', ': ', '- ', '\n', '  ', '#', '"', "'", '|', '>', '? ', '---\n', '...\n', 'name', 'env', '0x1', '.inf', '~');

describe('the spec loader on arbitrary input (property-based)', () => {
  it('never crashes on arbitrary YAML documents', () => {
    fc.assert(fc.property(value, (doc) => loadsOrExplains(stringify(doc))), {numRuns: 400});
  });
  it('never crashes on arbitrary text', () => {
    fc.assert(fc.property(fc.string({maxLength: 200}), loadsOrExplains), {numRuns: 400});
  });
  it('never crashes on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({maxLength: 200}), loadsOrExplains), {numRuns: 400});
  });
  it('never crashes on YAML-looking fragments', () => {
    fc.assert(fc.property(fc.array(fragment, {maxLength: 40}), (parts) => loadsOrExplains(parts.join(''))), {numRuns: 400});
  });
  it('a valid document with one bad value names that key path', () => {
    fc.assert(
      fc.property(fc.string({minLength: 1, maxLength: 10}).filter((s) => /^[a-z]+$/.test(s)), (envName) => {
        const r = checkYaml(schema, stringify({name: 'x', env: {[envName]: {replicas: 'many'}}}), 'prop.yaml');
        expect(!r.ok && r.problems.map((p) => p.path.join('.'))).toEqual([`env.${envName}.replicas`]);
      }),
      {numRuns: 100},
    );
  });
});
