import {spawn} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {repoRoot, startLocalCluster, waitFor} from '../src/index.js';

// A test run killed before its teardown (SIGKILL, CI timeout) must not leave a control plane
// running forever: the next run stops clusters whose owner is gone.
describe('local clusters of killed test runs', () => {
  it('are stopped and removed by the next run', async () => {
    const orphanOwner = spawn(
      process.execPath,
      ['--input-type=module', '-e', `const {startLocalCluster} = await import(${JSON.stringify(join(repoRoot, 'packages/testkit/dist/k8s.js'))}); const c = await startLocalCluster({nodes: 1}); console.log(c.dir); setInterval(() => {}, 1000);`],
      {stdio: ['ignore', 'pipe', 'inherit']},
    );
    let out = '';
    orphanOwner.stdout.on('data', (d) => (out += d));
    const dir = await waitFor('the first cluster', () => out.trim() || undefined, {timeoutMs: 300_000, intervalMs: 200});
    const apiserverPid = Number(readFileSync(join(dir, 'pids', 'kube-apiserver.pid'), 'utf8'));
    orphanOwner.kill('SIGKILL');
    await new Promise((r) => orphanOwner.once('close', r));
    expect(existsSync(dir)).toBe(true);

    const next = await startLocalCluster({nodes: 1});
    try {
      expect(existsSync(dir)).toBe(false);
      expect(() => process.kill(apiserverPid, 0)).toThrow();
    } finally {
      await next.stop();
    }
  });
});
