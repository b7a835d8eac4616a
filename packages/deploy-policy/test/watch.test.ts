import {mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest';
import {type AccessRequest, decide, type Policy, type PolicyProblemReport, type PolicyWatch, runCheckPolicy, watchPolicy} from '../src/index.js';

const golden = readFileSync(fileURLToPath(new URL('./golden/policy.yaml', import.meta.url)), 'utf8');
const annToProd: AccessRequest = {identity: {kind: 'person', name: 'ann@example.com'}, action: 'deploy', service: 'payments-api', team: 'payments', environment: 'prod'};
const wednesday = new Date('2025-03-05T10:00:00Z');
/** The golden policy with one more rule: ann deploys to prod without approval. */
const withAnnInProd = `${golden}\n  - id: ann-prod\n    allow: [deploy]\n    who: {people: [ann@example.com]}\n    services: '*'\n    environments: [prod]\n`;
/** A broken edit: a misspelt key in the third rule, and an unknown group. */
const broken = golden.replace('  - id: prod-own-team-approval\n    description', '  - id: prod-own-team-approval\n    descripton').replace('approval: {group: release-managers}', 'approval: {group: release-manager}');

let dir: string;
let watch: PolicyWatch | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'deploy-policy-'));
});
afterEach(() => {
  watch?.close();
  watch = undefined;
  rmSync(dir, {recursive: true, force: true});
});

function recorder() {
  const changes: Policy[] = [];
  const errors: PolicyProblemReport[] = [];
  return {changes, errors, options: {onChange: (p: Policy) => changes.push(p), onError: (r: PolicyProblemReport) => errors.push(r)}};
}

describe('watchPolicy on real files', () => {
  it('refuses to start on an invalid file, naming the file, line and key', () => {
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, broken);
    expect(() => watchPolicy(file)).toThrow(/policy\.yaml:\d+:\d+: rules\[2\]\.descripton: unknown key \(did you mean "description"\?\)/);
    expect(() => watchPolicy(join(dir, 'missing.yaml'))).toThrow(/missing\.yaml: cannot read: no such file/);
  });

  it('keeps the previous rules when an edit is broken, reports it once, and takes a good edit within seconds (default interval)', async () => {
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, golden);
    const r = recorder();
    watch = watchPolicy(file, r.options);
    const first = watch.current;
    expect(decide(watch.current, annToProd, wednesday).outcome).toBe('approval-required');

    writeFileSync(file, broken);
    await vi.waitFor(() => expect(r.errors).toHaveLength(1), {timeout: 5_000, interval: 50});
    const report = r.errors[0]!;
    expect(report.file).toBe(file);
    expect(report.lines).toEqual([
      `${file}:67:5: rules[2].descripton: unknown key (did you mean "description"?)`,
      `${file}:72:23: rules[2].approval.group: "release-manager" is not declared under groups (did you mean "release-managers"?)`,
    ]);
    expect(report.message).toMatch(/keeping the policy loaded at \S+ \(sha256 [0-9a-f]{12}\)$/);
    expect(watch.current).toBe(first);
    expect(watch.status().lastError).toEqual(report);
    expect(decide(watch.current, annToProd, wednesday).outcome).toBe('approval-required');

    // The same broken bytes are not reported again at every poll.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(r.errors).toHaveLength(1);

    writeFileSync(file, withAnnInProd);
    await vi.waitFor(() => expect(r.changes).toHaveLength(1), {timeout: 5_000, interval: 50});
    expect(watch.current).toBe(r.changes[0]);
    expect(watch.status().lastError).toBeNull();
    const after = decide(watch.current, annToProd, wednesday);
    expect(after.outcome).toBe('allowed');
    expect(after.decidedBy).toEqual({kind: 'rule', id: 'ann-prod'});
    expect(after.policy.sha256).not.toBe(first.source.sha256);
  });

  it('a second broken edit is reported too, with its own problems', async () => {
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, golden);
    const r = recorder();
    watch = watchPolicy(file, {...r.options, intervalMs: 50});
    writeFileSync(file, broken);
    await vi.waitFor(() => expect(r.errors).toHaveLength(1), {timeout: 5_000, interval: 20});
    writeFileSync(file, broken.replace('descripton', 'description'));
    await vi.waitFor(() => expect(r.errors).toHaveLength(2), {timeout: 5_000, interval: 20});
    expect(r.errors[1]!.lines).toEqual([`${file}:72:23: rules[2].approval.group: "release-manager" is not declared under groups (did you mean "release-managers"?)`]);
    expect(r.changes).toHaveLength(0);
  });

  it('sees a file replaced by rename (editors) and removed and put back', async () => {
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, golden);
    const r = recorder();
    watch = watchPolicy(file, {...r.options, intervalMs: 50});

    writeFileSync(join(dir, '.policy.yaml.tmp'), withAnnInProd);
    renameSync(join(dir, '.policy.yaml.tmp'), file);
    await vi.waitFor(() => expect(r.changes).toHaveLength(1), {timeout: 5_000, interval: 20});

    unlinkSync(file);
    await vi.waitFor(() => expect(r.errors).toHaveLength(1), {timeout: 5_000, interval: 20});
    expect(r.errors[0]!.lines).toEqual([`${file}: cannot read: no such file`]);
    expect(decide(watch.current, annToProd, wednesday).decidedBy).toEqual({kind: 'rule', id: 'ann-prod'});

    writeFileSync(file, golden);
    await vi.waitFor(() => expect(r.changes).toHaveLength(2), {timeout: 5_000, interval: 20});
    expect(decide(watch.current, annToProd, wednesday).outcome).toBe('approval-required');
  });

  it('sees a Kubernetes ConfigMap update (the ..data symlink swapped to a new directory)', async () => {
    const mount = join(dir, 'mount');
    mkdirSync(join(mount, '..v1'), {recursive: true});
    writeFileSync(join(mount, '..v1', 'policy.yaml'), golden);
    symlinkSync('..v1', join(mount, '..data'));
    symlinkSync('..data/policy.yaml', join(mount, 'policy.yaml'));
    const r = recorder();
    watch = watchPolicy(join(mount, 'policy.yaml'), {...r.options, intervalMs: 50});

    mkdirSync(join(mount, '..v2'));
    writeFileSync(join(mount, '..v2', 'policy.yaml'), withAnnInProd);
    symlinkSync('..v2', join(mount, '..data_tmp'));
    renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
    rmSync(join(mount, '..v1'), {recursive: true});
    await vi.waitFor(() => expect(r.changes).toHaveLength(1), {timeout: 5_000, interval: 20});
    expect(decide(watch.current, annToProd, wednesday).outcome).toBe('allowed');
  });

  it('reload() reads at once (SIGHUP) and says whether the file is in force', () => {
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, golden);
    const r = recorder();
    watch = watchPolicy(file, {...r.options, intervalMs: 60_000});
    writeFileSync(file, broken);
    expect(watch.reload()).toBe(false);
    expect(r.errors).toHaveLength(1);
    writeFileSync(file, withAnnInProd);
    expect(watch.reload()).toBe(true);
    expect(r.changes).toHaveLength(1);
    expect(watch.reload()).toBe(true);
    expect(r.changes).toHaveLength(1);
  });

  it('logs exactly the lines check-policy prints for the same file', () => {
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, golden);
    const r = recorder();
    watch = watchPolicy(file, {...r.options, intervalMs: 60_000});
    const twoProblems = broken.replace('environments: [dev, staging', 'environments: [dev, stagign');
    writeFileSync(file, twoProblems);
    watch.reload();
    let stderr = '';
    expect(runCheckPolicy([file], {stdout: () => {}, stderr: (s) => (stderr += s)})).toBe(3);
    expect(r.errors[0]!.lines).toHaveLength(3);
    expect(stderr).toContain(`${r.errors[0]!.message.split('\nkeeping')[0]}\nHint:`);
    for (const line of r.errors[0]!.lines) expect(stderr).toContain(line);
  });
});
