import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {checkPolicyFile, decide} from '../src/index.js';

const example = fileURLToPath(new URL('../examples/deploy-policy.yaml', import.meta.url));
const reference = fileURLToPath(new URL('../../../docs/svapp/deploy-policy.md', import.meta.url));

describe('the example policy of docs/svapp/deploy-policy.md', () => {
  it('is the file in examples/, verbatim, and it validates', () => {
    const doc = readFileSync(reference, 'utf8');
    const block = /## A complete example\n\n```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBe(readFileSync(example, 'utf8'));
    const r = checkPolicyFile(example);
    expect(r.ok).toBe(true);
  });

  it('decides as the reference says', () => {
    const r = checkPolicyFile(example);
    if (!r.ok) throw new Error('invalid example');
    const doc = readFileSync(reference, 'utf8');
    const d = decide(r.policy, {identity: {kind: 'person', name: 'carl@example.com'}, action: 'read', service: 'payments-api', team: 'payments', environment: 'prod'}, new Date('2025-03-05T10:00:00Z'));
    expect(doc).toContain(d.message);
    const frozen = decide(r.policy, {identity: {kind: 'person', name: 'ann@example.com'}, action: 'deploy', service: 'payments-api', team: 'payments', environment: 'prod'}, new Date('2025-03-07T16:30:00Z'));
    expect(doc).toContain(frozen.message);
  });
});
