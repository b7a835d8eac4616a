import fc from 'fast-check';
import {readFileSync} from 'node:fs';
import {formatProblem, parseYaml} from '@bcl/spec-loader';
import {describe, expect, it} from 'vitest';
import {parsePolicy} from './policy.js';

const key = fc.constantFrom(
  'timeZone', 'groups', 'teams', 'ci', 'admins', 'windows', 'environments', 'rules', 'freezes', 'builds', 'id', 'allow', 'deny', 'who', 'services',
  'people', 'names', 'ownTeam', 'during', 'approval', 'group', 'weekly', 'dates', 'days', 'from', 'to', 'breakGlass', 'actions', 'prod', 'sre', '__proto__',
);
const leaf = fc.oneof(
  fc.constantFrom('*', 'deploy', 'prod', 'sre', 'Fri 16:00', '09:00', '24:00', '2025-12-22 00:00', 'Europe/Berlin', 'ann@example.com', true, 0, null),
  fc.string({maxLength: 6}),
);
const node = fc.letrec((tie) => ({
  value: fc.oneof({depthSize: 'small'}, leaf, fc.dictionary(key, tie('value'), {maxKeys: 4}), fc.array(tie('value'), {maxLength: 3})),
})).value;

describe('the policy loader on arbitrary documents (property-based)', () => {
  it('never throws: a policy, or problems that each name the file', () => {
    fc.assert(
      fc.property(fc.dictionary(key, node, {maxKeys: 6}), (doc) => {
        // JSON is YAML: no YAML library needed to write the documents.
        const r = parsePolicy(JSON.stringify(doc), 'policy.yaml');
        if (!r.ok) {
          expect(r.problems.length).toBeGreaterThan(0);
          for (const p of r.problems) expect(formatProblem(p).startsWith('policy.yaml')).toBe(true);
        }
      }),
      {numRuns: 500},
    );
  });

  it('never throws when one value anywhere in a real policy is replaced by anything', () => {
    const file = new URL('../test/golden/policy.yaml', import.meta.url);
    const golden = parseYaml(readFileSync(file, 'utf8'), 'policy.yaml').data;
    const paths: (string | number)[][] = [];
    const walk = (v: unknown, path: (string | number)[]) => {
      paths.push(path);
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
      else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    };
    walk(golden, []);
    fc.assert(
      fc.property(fc.constantFrom(...paths.filter((p) => p.length > 0)), node, (path, replacement) => {
        const doc = structuredClone(golden) as Record<string | number, unknown>;
        let parent = doc;
        for (const segment of path.slice(0, -1)) parent = parent[segment] as Record<string | number, unknown>;
        parent[path.at(-1)!] = replacement;
        const r = parsePolicy(JSON.stringify(doc), 'policy.yaml');
        if (!r.ok) for (const p of r.problems) expect(formatProblem(p).startsWith('policy.yaml')).toBe(true);
      }),
      {numRuns: 500},
    );
  });
});
