import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import fc from 'fast-check';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {stringify} from 'yaml';
import * as z from 'zod';
import {BclError} from '../errors.js';
import {bclPaths} from '../paths.js';
import {bclNamespace} from './bcl-namespace.js';
import {defineNamespace} from './namespace.js';
import {loadConfig} from './resolve.js';
import {isolatedHome, type IsolatedHome} from '@bcl/testkit';

const svctl = defineNamespace(
  'svctl',
  z.strictObject({
    defaultEnv: z.string().optional(),
    clusters: z.record(z.string(), z.strictObject({context: z.string()})).default({}),
    replicas: z.number().int().default(1),
  }),
  'test',
);

let home: IsolatedHome;
let file: string;
beforeAll(() => {
  home = isolatedHome();
  mkdirSync(join(home.xdg.config, 'bcl'), {recursive: true});
  file = join(home.xdg.config, 'bcl', 'config.yaml');
});
afterAll(() => home.remove());

/** Loads a user file with these bytes: it returns, or throws exit 3 naming the file. Nothing else. */
function loadsOrRefuses(content: string | Uint8Array): void {
  writeFileSync(file, content);
  try {
    const config = loadConfig({namespaces: [bclNamespace, svctl], env: home.env, cwd: home.home, paths: bclPaths(home.env)});
    // A configuration that loads is fully usable.
    config.entries();
    expect(typeof config.get('bcl.update.channel')).toBe('string');
  } catch (error) {
    if (!(error instanceof BclError)) throw error;
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain(file);
    expect(error.message.length).toBeLessThan(20_000);
  }
}

// Values shaped like configuration: known namespaces and keys mixed with arbitrary ones.
const key = fc.oneof(fc.constantFrom('bcl', 'svctl', 'profiles', 'clusters', 'context', 'update', 'replicas', 'defaultEnv', 'trustedKeys', '__proto__', 'constructor'), fc.string({maxLength: 8}));
const value = fc.letrec((tie) => ({
  node: fc.oneof({depthSize: 'small'}, fc.jsonValue({maxDepth: 1}), fc.dictionary(key, tie('node'), {maxKeys: 4}), fc.array(tie('node'), {maxLength: 3})),
})).node;

describe('the config loader on arbitrary input (property-based)', () => {
  it('never crashes on arbitrary YAML documents', () => {
    fc.assert(
      fc.property(value, (doc) => loadsOrRefuses(stringify(doc))),
      {numRuns: 400},
    );
  });

  it('never crashes on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({maxLength: 300, unit: 'binary'}), (text) => loadsOrRefuses(text)),
      {numRuns: 400},
    );
  });

  it('never crashes on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 300}), (bytes) => loadsOrRefuses(bytes)),
      {numRuns: 400},
    );
  });

  it('never crashes on YAML-looking fragments (anchors, tags, flow collections, deep nesting)', () => {
    const fragment = fc.constantFrom('svctl:', '  clusters:', '    prod: {context: x}', '&a [*a]', '!!binary AAAA', '- - - x', '{', ']', '? complex', '<<: *a', '%YAML 1.2', '---', '...', '  replicas: 1e400', 'bcl: !!map {}', '"\\u0000"', 'profiles:', '  p: {svctl: {replicas: x}}');
    fc.assert(
      fc.property(fc.array(fragment, {maxLength: 12}), (lines) => loadsOrRefuses(lines.join('\n'))),
      {numRuns: 400},
    );
  });
});
