import {describe, expect, it} from 'vitest';
import {approve, canAskAs, reject} from './approve.js';
import {type AccessRequest, decide} from './decide.js';
import {parsePolicy, type Policy} from './policy.js';

function policy(extra = ''): Policy {
  const r = parsePolicy(
    `timeZone: UTC
groups:
  approvers: [rita@example.com, ruth@example.com]
  sre: [sam@example.com, rita@example.com]
  platform: [pat@example.com]
admins: [platform]
teams:
  payments: [ann@example.com]
ci:
  bot: {builds: '*'}
environments:
  prod:
    freezes:
      - {id: weekend, weekly: [{from: Fri 16:00, to: Mon 08:00}], breakGlass: sre}
rules:
  - id: prod-with-approval
    allow: [deploy]
    who: {teams: [payments], groups: [sre]}
    services: {teams: [payments]}
    environments: [prod]
    approval: {group: approvers}
${extra}`,
    'policy.yaml',
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.policy;
}

const ann: AccessRequest = {identity: {kind: 'person', name: 'ann@example.com'}, action: 'deploy', service: 'ledger', team: 'payments', environment: 'prod'};
const wednesday = new Date('2025-03-05T10:00:00Z');

describe('approvals', () => {
  it('an allowed or denied decision is not waiting for approval', () => {
    const p = policy();
    const denied = decide(p, {...ann, team: 'search'}, wednesday);
    expect(approve(p, denied, {kind: 'person', name: 'rita@example.com'}, wednesday)).toEqual({ok: false, code: 'not-waiting', message: "ann@example.com's request to deploy ledger to prod is not waiting for approval (it was denied)"});
  });

  it('is decided again under the policy in force: no approval needed any more', () => {
    const waiting = decide(policy(), ann, wednesday);
    const relaxed = policy(`  - {id: ann-direct, allow: [deploy], who: {people: [ann@example.com]}, services: '*', environments: [prod]}\n`);
    const r = approve(relaxed, waiting, {kind: 'person', name: 'rita@example.com'}, wednesday);
    expect(r).toMatchObject({ok: true, decision: {outcome: 'allowed', code: 'allowed', decidedBy: {kind: 'rule', id: 'ann-direct'}}});
    expect(r.message).toBe('no approval is needed any more: ann@example.com may deploy ledger to prod: rule ann-direct allows it');
  });

  it('is refused when the approver left the group after the request', () => {
    const waiting = decide(policy(), ann, wednesday);
    const changed = policy().spec;
    const p = parsePolicy(JSON.stringify({...changed, groups: {...changed.groups, approvers: ['ruth@example.com']}}), 'policy.yaml');
    if (!p.ok) throw new Error('invalid');
    expect(approve(p.policy, waiting, {kind: 'person', name: 'rita@example.com'}, wednesday)).toMatchObject({ok: false, code: 'approver-not-in-group'});
    expect(approve(p.policy, waiting, {kind: 'person', name: 'Ruth@Example.com'}, wednesday)).toMatchObject({ok: true, decision: {code: 'approved', details: {approval: {approvedBy: {name: 'ruth@example.com', group: 'approvers'}}}}});
  });

  it('keeps the break-glass reason of a frozen request through the approval', () => {
    const friday = new Date('2025-03-07T17:00:00Z');
    const p = policy();
    const sam: AccessRequest = {...ann, identity: {kind: 'person', name: 'sam@example.com'}, breakGlassReason: 'INC-9'};
    const waiting = decide(p, sam, friday);
    expect(waiting).toMatchObject({outcome: 'approval-required', details: {freeze: {id: 'weekend', broken: true, reason: 'INC-9'}}});
    const r = approve(p, waiting, {kind: 'person', name: 'ruth@example.com'}, friday);
    expect(r.ok && r.decision.message).toBe('sam@example.com may deploy ledger to prod: rule prod-with-approval allows it, approved by ruth@example.com (group approvers), breaking the freeze weekend of prod (until Mon 2025-03-10 08:00 UTC) with the reason "INC-9"');
  });

  it('a member of the approving group who is also allowed may approve someone else, not themselves', () => {
    const p = policy();
    const rita: AccessRequest = {...ann, identity: {kind: 'person', name: 'rita@example.com'}};
    const waiting = decide(p, rita, wednesday);
    expect(approve(p, waiting, {kind: 'person', name: 'RITA@example.com'}, wednesday)).toMatchObject({ok: false, code: 'approver-is-requester'});
    expect(approve(p, waiting, {kind: 'person', name: 'ruth@example.com'}, wednesday).ok).toBe(true);
  });
});

describe('rejections', () => {
  const p = policy();
  const waiting = decide(p, ann, wednesday);
  it('the requester withdraws, an approver rejects, others may not', () => {
    expect(reject(p, waiting, {kind: 'person', name: 'ann@example.com'})).toEqual({ok: true, message: 'ann@example.com withdrew their request to deploy ledger to prod'});
    expect(reject(p, waiting, {kind: 'person', name: 'ruth@example.com'})).toEqual({ok: true, message: "ruth@example.com (group approvers) rejected ann@example.com's request to deploy ledger to prod"});
    expect(reject(p, waiting, {kind: 'person', name: 'sam@example.com'})).toMatchObject({ok: false, code: 'not-allowed'});
    expect(reject(p, waiting, {kind: 'ci', name: 'bot'})).toMatchObject({ok: false, code: 'not-allowed'});
  });
});

describe('can-i --as', () => {
  const p = policy();
  it('only members of an admins group ask for someone else', () => {
    expect(canAskAs(p, {kind: 'person', name: 'pat@example.com'}, {kind: 'person', name: 'ann@example.com'})).toEqual({ok: true, message: 'pat@example.com is in group platform, an admins group'});
    expect(canAskAs(p, {kind: 'person', name: 'ann@example.com'}, {kind: 'person', name: 'ann@example.com'}).ok).toBe(true);
    expect(canAskAs(p, {kind: 'person', name: 'ann@example.com'}, {kind: 'ci', name: 'bot'})).toEqual({ok: false, message: 'ann@example.com may not ask as ci:bot: only members of group platform (admins) may'});
  });
});

describe('identities the policy cannot name', () => {
  it('a host identity may do nothing, even under a rule for everyone', () => {
    const p = policy(`  - {id: everyone-reads, allow: [read], who: '*', services: '*', environments: '*'}\n`);
    const host = {kind: 'host', name: 'web1.example.com'} as unknown as AccessRequest['identity'];
    const d = decide(p, {...ann, action: 'read', identity: host}, wednesday);
    expect(d).toMatchObject({outcome: 'denied', code: 'no-rule', message: 'web1.example.com may not read ledger in prod: it is neither a person nor a CI identity, and no rule can name it'});
    expect(decide(p, {...ann, action: 'read'}, wednesday).outcome).toBe('allowed');
  });
});
