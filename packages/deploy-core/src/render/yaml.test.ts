import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {stringify} from 'yaml';
import {documentOf, plainDocument} from './yaml.js';
import {renderService} from './manifests.js';
import {parseSpec, resolveEnvironment} from '../spec/index.js';
import {readFileSync} from 'node:fs';

// documentOf writes plain data itself and hands anything else to the yaml library: the text must be
// exactly the library's, for the words manifests are made of and for the strings YAML treats apart.
const library = (value: unknown) => stringify(value, {lineWidth: 0, aliasDuplicateObjects: false});

const words = fc.constantFrom('hello', 'app.kubernetes.io/name', 'registry.example.com/platform/hello:1.2.3', '250m', '64Mi', '25%', '/ready', 'http://x.example.com/a', 'a b', 'x-y_z', 'e4cb95bc82b94d0e', 'v1', 'Deployment', '$HOME', 'a=b,c', 'true', '3000', 'x:y');
// Keys written directly: no colon, no space, no word YAML reads as another type.
const keyWords = fc.constantFrom('hello', 'app.kubernetes.io/name', 'svctl.bcl.io/environment', 'x-y_z', 'v1', 'LOG_LEVEL', 'a=b,c', '250m');
const tricky = fc.constantFrom('', ' ', ' lead', 'trail ', 'a: b', 'a #b', '#x', '- x', '-1', '1', '007', '0x1F', '0o17', '1e3', '1.5', '.5', '.inf', '-.Inf', '.nan', 'true', 'False', 'NULL', '~', 'null', 'yes', 'no', 'on', 'a\nb', 'multi\nline\n', "it's", '"q"', '*ref', '&anchor', '!tag', '[x]', '{x}', 'a:', 'key: value', '@at', '`tick`', '%pct', 'tab\there', 'é', '😀', 'a  b', 'x:y', '?q', '|bar', '>gt', ',c');
const text = fc.oneof({weight: 4, arbitrary: words}, {weight: 2, arbitrary: tricky}, {weight: 1, arbitrary: fc.string()});
const key = fc.oneof({weight: 5, arbitrary: words}, {weight: 1, arbitrary: tricky});
const leaf = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(-0), fc.constant(2 ** 60));
const tree = fc.letrec((tie) => ({
  value: fc.oneof({depthSize: 'small', withCrossShrink: true}, leaf, tie('map'), tie('list')),
  map: fc.dictionary(key, fc.oneof(tie('value'), fc.constant(undefined)), {maxKeys: 5}),
  list: fc.array(tie('value'), {maxLength: 4}),
}));

describe('documentOf', () => {
  it('writes exactly what the yaml library writes, for arbitrary plain data', () => {
    fc.assert(
      fc.property(tree.map, (object) => {
        const plain = plainDocument(object);
        if (plain !== undefined) expect(plain).toBe(library(object));
        expect(documentOf(object)).toBe(library(object));
      }),
      {numRuns: 3000},
    );
  });

  it('writes objects of plain words itself, as the library does', () => {
    fc.assert(
      fc.property(fc.dictionary(keyWords, fc.oneof(words, fc.integer({min: 0, max: 65535}), fc.array(fc.dictionary(keyWords, words), {maxLength: 3})), {minKeys: 1, maxKeys: 6}), (object) => {
        expect(plainDocument(object)).toBe(library(object));
      }),
      {numRuns: 1000},
    );
  });

  it('writes the sample service\'s manifests itself', () => {
    const spec = parseSpec(readFileSync(new URL('../../../svctl/examples/hello/service.yaml', import.meta.url)));
    for (const env of ['local', 'staging', 'prod']) {
      for (const object of renderService(resolveEnvironment(spec, env, {}), {imageTag: '1.2.3'}).objects) expect(plainDocument(object), `${env} ${object.kind}`).toBe(library(object));
    }
  });
});
