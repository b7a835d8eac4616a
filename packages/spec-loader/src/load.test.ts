import {describe, expect, it} from 'vitest';
import * as z from 'zod';
import {checkYaml, formatKeyPath, formatProblem, loadYamlFile, parseYaml, problemAt, SpecError} from './index.js';

const schema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  replicas: z.number().int().min(1).default(1),
  runtime: z.enum(['node', 'python', 'go']),
  labels: z.record(z.string(), z.string()).default({}),
  routes: z.array(z.strictObject({host: z.string(), path: z.string().default('/')})).default([]),
  backend: z
    .discriminatedUnion('type', [z.strictObject({type: z.literal('local'), dir: z.string().optional()}), z.strictObject({type: z.literal('s3'), bucket: z.string()})])
    .optional(),
});

const problems = (text: string) => {
  const r = checkYaml(schema, text, 'service.yaml');
  if (r.ok) throw new Error('expected problems');
  return r.problems.map(formatProblem);
};

describe('checkYaml', () => {
  it('validates and applies defaults', () => {
    const r = checkYaml(schema, 'name: api\nruntime: node\n', 'service.yaml');
    expect(r.ok && r.value).toEqual({name: 'api', replicas: 1, runtime: 'node', labels: {}, routes: []});
  });

  it('reports every problem, in file order, as file:line:column: key.path: message', () => {
    const text = 'name: API\nreplicas: 1.5\nruntim: node\nroutes:\n  - host: a.example.com\n    paht: /x\nlabels:\n  app.kubernetes.io/name: 3\n';
    expect(problems(text)).toEqual([
      'service.yaml:1:7: name: lower-case letters, digits and dashes',
      'service.yaml:2:11: replicas: expected a whole number, got number 1.5',
      'service.yaml:3:1: runtim: unknown key (did you mean "runtime"?)',
      'service.yaml:6:5: routes[0].paht: unknown key (did you mean "path"?)',
      'service.yaml:8:27: labels["app.kubernetes.io/name"]: expected a string, got number 3',
      'service.yaml: runtime: required (expected one of: node, python, go)',
    ]);
  });

  it('suggests the nearest enum value and the keys of the union branch the data is in', () => {
    expect(problems('name: api\nruntime: pyhton\n')).toEqual(['service.yaml:2:10: runtime: expected one of: node, python, go, got string "pyhton" (did you mean "python"?)']);
    expect(problems('name: api\nruntime: go\nbackend:\n  type: s3\n  buckt: x\n')).toEqual([
      'service.yaml:3:1: backend.bucket: required (a string)',
      'service.yaml:5:3: backend.buckt: unknown key (did you mean "bucket"?)',
    ]);
  });

  it('says what an empty file, a list or a scalar at the top should have been', () => {
    expect(problems('')).toEqual(['service.yaml: the file is empty; expected a mapping of keys (name, replicas, runtime, labels, routes, backend)']);
    expect(problems('- a\n- b\n')).toEqual(['service.yaml: expected a mapping of keys (name, replicas, runtime, labels, routes, backend), got a list']);
    expect(checkYaml(z.strictObject({a: z.number().default(1)}), '', 'f.yaml', {emptyAs: {}})).toMatchObject({ok: true, value: {a: 1}});
  });

  it('reports YAML syntax errors and duplicate keys with their position', () => {
    expect(problems('name: [api\n')[0]).toMatch(/^service\.yaml:\d+:\d+: not valid YAML: /);
    expect(problems('name: a\nname: b\n')[0]).toMatch(/^service\.yaml:2:1: not valid YAML: Map keys must be unique/);
  });

  it('refuses bytes that are not UTF-8 and alias bombs, instead of expanding them', () => {
    const r = checkYaml(schema, new Uint8Array([0x6e, 0x3a, 0x20, 0xff, 0xfe]), 'bin.yaml');
    expect(!r.ok && r.problems.map(formatProblem)).toEqual(['bin.yaml: not UTF-8 text']);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...Array.from({length: 8}, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`)].join('\n');
    const bombed = checkYaml(z.any(), bomb, 'bomb.yaml');
    expect(bombed.ok).toBe(false);
    expect(!bombed.ok && formatProblem(bombed.problems[0]!)).toMatch(/^bomb\.yaml: not usable YAML: .*alias/i);
  });
});

describe('loadYamlFile', () => {
  it('throws a SpecError naming a missing file', () => {
    try {
      loadYamlFile(schema, '/nonexistent/service.yaml');
      throw new Error('expected a SpecError');
    } catch (error) {
      expect(error).toBeInstanceOf(SpecError);
      expect((error as SpecError).reason).toBe('unreadable');
      expect((error as SpecError).message).toBe('/nonexistent/service.yaml: cannot read: no such file');
    }
  });

  it('carries the problems as data', () => {
    try {
      loadYamlFile(schema, 'service.yaml', {text: 'name: api\nruntime: ruby\n'});
      throw new Error('expected a SpecError');
    } catch (error) {
      expect((error as SpecError).toJSON()).toEqual({
        file: 'service.yaml',
        reason: 'invalid',
        problems: [{path: 'runtime', line: 2, column: 10, message: 'expected one of: node, python, go, got string "ruby"'}],
      });
    }
  });
});

describe('locating', () => {
  it('points at keys, values, list items and the nearest ancestor of a missing key', () => {
    const source = parseYaml('a:\n  b:\n    - x\n    - y: 1\n', 'f.yaml');
    expect(source.locate(['a', 'b', 1, 'y'])).toEqual({line: 4, column: 10});
    expect(source.locate(['a', 'b', 1, 'y'], 'key')).toEqual({line: 4, column: 7});
    expect(source.locate(['a', 'b', 0])).toEqual({line: 3, column: 7});
    expect(source.locate(['a', 'missing', 'deeper'])).toEqual({line: 1, column: 1});
    expect(problemAt(source, ['a', 'b'], 'cross-key rule')).toEqual({file: 'f.yaml', line: 3, column: 5, path: ['a', 'b'], message: 'cross-key rule'});
  });

  it('writes key paths the way people read them', () => {
    expect(formatKeyPath(['environments', 'prod', 'routes', 0, 'host'])).toBe('environments.prod.routes[0].host');
    expect(formatKeyPath(['labels', 'app.kubernetes.io/name'])).toBe('labels["app.kubernetes.io/name"]');
  });
});
