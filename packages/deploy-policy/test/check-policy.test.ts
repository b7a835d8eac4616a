import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, describe, expect, it} from 'vitest';
import {runCheckPolicy} from '../src/index.js';

const golden = fileURLToPath(new URL('./golden/policy.yaml', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'check-policy-'));
afterAll(() => rmSync(dir, {recursive: true, force: true}));

function run(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = runCheckPolicy(args, {stdout: (s) => (stdout += s), stderr: (s) => (stderr += s)});
  return {code, stdout, stderr};
}

describe('svapp check-policy FILE', () => {
  it('exit 0 for a valid policy, with what it holds', () => {
    expect(run(golden)).toEqual({code: 0, stdout: `${golden}: valid (5 groups, 3 teams, 3 CI identities, 4 environments (2 freezes), 10 rules)\n`, stderr: ''});
    const json = JSON.parse(run(golden, '--json').stdout);
    expect(json).toMatchObject({ok: true, result: {file: golden, summary: expect.stringContaining('10 rules'), rules: expect.arrayContaining(['own-team-nonprod', 'no-contractors-in-prod'])}});
    expect(json.result.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('exit 3 with every problem as file:line:column: key.path: message', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'groups: {sre: [sam@example.com]}\nrules:\n  - id: sre\n    allow: [deploy]\n    who: {groups: [sr]}\n    services: "*"\n    environments: [prod]\n');
    const r = run(file);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      [
        `Error: 2 problems in ${file}:`,
        `  ${file}:5:20: rules[0].who.groups[0]: "sr" is not declared under groups (did you mean "sre"?)`,
        `  ${file}:7:20: rules[0].environments[0]: "prod" is not declared under environments (none are declared)`,
        'Hint: fix the file; a running svapp keeps the policy in force until the file validates',
        '',
      ].join('\n'),
    );
    const json = JSON.parse(run('--json', file).stdout);
    expect(json).toEqual({
      ok: false,
      error: {
        code: 'policy.invalid',
        message: expect.stringContaining('2 problems'),
        hint: expect.any(String),
        details: {
          file,
          reason: 'invalid',
          problems: [
            {path: 'rules[0].who.groups[0]', line: 5, column: 20, message: '"sr" is not declared under groups (did you mean "sre"?)'},
            {path: 'rules[0].environments[0]', line: 7, column: 20, message: '"prod" is not declared under environments (none are declared)'},
          ],
        },
      },
      warnings: [],
    });
  });

  it('exit 3 for a file that is not YAML, or cannot be read', () => {
    const file = join(dir, 'syntax.yaml');
    writeFileSync(file, 'rules: [\n');
    const r = run(file);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`^Error: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: not valid YAML`));
    expect(run(join(dir, 'nope.yaml'))).toEqual({code: 3, stdout: '', stderr: `Error: ${join(dir, 'nope.yaml')}: cannot read: no such file\nHint: give the path of the policy file\n`});
  });

  it('exit 2 for a usage error', () => {
    expect(run()).toEqual({code: 2, stdout: '', stderr: 'Error: missing the policy file\nHint: Usage: svapp check-policy FILE [--json]\n'});
    expect(run(golden, golden).code).toBe(2);
    expect(run('--strict', golden)).toMatchObject({code: 2, stderr: expect.stringContaining("Unknown option '--strict'")});
    expect(JSON.parse(run('--json').stdout)).toMatchObject({ok: false, error: {code: 'usage'}});
  });
});
