import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runCli} from '@bcl/testkit';
import {git, type Person, type Pki, setupPki} from './support.js';

/**
 * 20 requesters, each with their own HOME and so their own clone of the store, push at the same
 * moment: real git push races, resolved by fetch + rebase. None may be lost.
 */
describe('pkictl store under concurrent requests', () => {
  let pki: Pki;
  const people: Person[] = [];

  beforeAll(async () => {
    pki = await setupPki();
    for (let i = 0; i < 20; i++) people.push(pki.person(`user${i}@example.com`));
  });
  afterAll(() => pki?.remove());

  it('20 requests pushed concurrently from 20 clones give 20 pending requests', async () => {
    const before = pki.head();
    const results = await Promise.all(
      people.map((p) => runCli('pkictl', ['request', '--verbose'], {env: p.home.env, cwd: p.home.home, timeoutMs: 240_000})),
    );
    for (const r of results) expect(r.exitCode, r.stderr).toBe(0);
    // The races really happened: some pushes were rejected and retried after fetch and rebase.
    const retried = results.filter((r) => r.stderr.includes('push rejected')).length;
    expect(retried).toBeGreaterThan(0);

    const pending = (await pki.admin.pk(['requests'])).json().result as {email: string}[];
    expect(pending.map((r) => r.email).sort()).toEqual(people.map((p) => p.email).sort());
    // One commit per request, in a linear history.
    expect(git(['rev-list', '--count', `${before}..main`], pki.store).trim()).toBe('20');
    expect(git(['rev-list', '--merges', '--count', 'main'], pki.store).trim()).toBe('0');
    // Every requester kept exactly one key for its request.
    for (const p of people) expect(p.credentials()).toHaveLength(1);
  }, 300_000);

  it('approving all 20 at once issues 20 distinct serials in one commit', async () => {
    const before = pki.head();
    const res = await pki.admin.pk(['approve', '--all', ...pki.adminFlags]);
    expect(res.exitCode, res.stderr).toBe(0);
    const rows = res.json().result as {serial: string}[];
    expect(new Set(rows.map((r) => r.serial)).size).toBe(20);
    expect(git(['rev-list', '--count', `${before}..main`], pki.store).trim()).toBe('1');
  });
});
