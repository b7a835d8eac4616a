import {type Decision, decide, describeIdentity, describeOperation, type Identity, membership} from './decide.js';
import type {Policy} from './policy.js';

/**
 * An operation waiting for approval is the decision that said `approval-required` (the server
 * stores it with the operation). Approving decides the request again under the policy in force
 * at approval time, so a freeze that started or a rule that was removed meanwhile still counts.
 */

/** A decision that waits for approval: what the server stores with the operation. */
export type WaitingDecision = Decision & {outcome: 'approval-required'; details: Decision['details'] & {approval: NonNullable<Decision['details']['approval']>}};

export function isWaitingForApproval(decision: Decision): decision is WaitingDecision {
  return decision.outcome === 'approval-required' && decision.details.approval !== undefined;
}

export type ApprovalRefusal =
  /** The decision was not waiting for approval. */
  | 'not-waiting'
  | 'approver-is-ci'
  | 'approver-is-requester'
  | 'approver-not-in-group'
  /** Decided again now, the request is refused (a freeze began, a rule changed). */
  | 'denied-now';

export type ApprovalResult =
  | {ok: true; decision: Decision; message: string}
  | {ok: false; code: ApprovalRefusal; message: string; decision?: Decision};

function samePerson(a: Identity, b: Identity): boolean {
  return a.kind === b.kind && a.name.trim().toLowerCase() === b.name.trim().toLowerCase();
}

/**
 * A second person approves a waiting operation: they must be a person (CI identities cannot
 * approve), not the requester, and in a group the approval rule names. The result carries the
 * decision to act on (`approved`, or `allowed` when no approval is needed any more).
 */
export function approve(policy: Policy, pending: Decision, approver: Identity, now: Date): ApprovalResult {
  const approverText = describeIdentity(approver);
  const requester = pending.request.identity;
  const operation = describeOperation(pending.request);
  const who = describeIdentity(requester);
  if (!isWaitingForApproval(pending)) {
    return {ok: false, code: 'not-waiting', message: `${who}'s request to ${operation} is not waiting for approval (it was ${pending.outcome})`};
  }
  if (approver.kind !== 'person') {
    return {ok: false, code: 'approver-is-ci', message: `${approverText} may not approve: CI identities cannot approve; a second person must (group ${pending.details.approval.groups.join(' or ')})`};
  }
  if (samePerson(approver, requester)) {
    return {ok: false, code: 'approver-is-requester', message: `${approverText} may not approve their own request to ${operation}: another member of group ${pending.details.approval.groups.join(' or ')} must`};
  }
  const now_ = decide(policy, pending.request, now);
  if (now_.outcome === 'denied') return {ok: false, code: 'denied-now', message: `the request is refused now: ${now_.message}`, decision: now_};
  if (now_.outcome === 'allowed') return {ok: true, decision: now_, message: `no approval is needed any more: ${now_.message}`};
  const groups = now_.details.approval!.groups;
  const {groups: approverGroups} = membership(policy, approver);
  const group = groups.find((g) => approverGroups.includes(g));
  if (!group) {
    return {
      ok: false,
      code: 'approver-not-in-group',
      message: `${approverText} may not approve ${who}'s request to ${operation}: rule ${now_.details.approval!.rule} requires a member of group ${groups.join(' or ')}, and ${approverText} is in ${approverGroups.length > 0 ? `group ${approverGroups.join(', ')}` : 'no group'}`,
      decision: now_,
    };
  }
  const approvedBy = {name: approver.name.trim().toLowerCase(), group};
  const breakNote = now_.details.freeze?.broken ? `, breaking the freeze ${now_.details.freeze.id} of ${now_.details.freeze.environment} (until ${now_.details.freeze.untilLocal}) with the reason "${now_.details.freeze.reason}"` : '';
  const message = `${who} may ${operation}: rule ${now_.details.approval!.rule} allows it, approved by ${approvedBy.name} (group ${group})${breakNote}`;
  const decision: Decision = {...now_, outcome: 'allowed', code: 'approved', message, details: {...now_.details, approval: {...now_.details.approval!, approvedBy}}};
  return {ok: true, decision, message};
}

export type RejectionResult = {ok: true; message: string} | {ok: false; code: 'not-waiting' | 'not-allowed'; message: string};

/** Who may reject a waiting operation: the requester (withdrawing it) or a person of an approving group. */
export function reject(policy: Policy, pending: Decision, rejecter: Identity): RejectionResult {
  const who = describeIdentity(pending.request.identity);
  const operation = describeOperation(pending.request);
  const text = describeIdentity(rejecter);
  if (pending.outcome !== 'approval-required') return {ok: false, code: 'not-waiting', message: `${who}'s request to ${operation} is not waiting for approval (it was ${pending.outcome})`};
  if (samePerson(rejecter, pending.request.identity)) return {ok: true, message: `${text} withdrew their request to ${operation}`};
  const groups = pending.details.approval?.groups ?? [];
  const mine = membership(policy, rejecter).groups;
  const group = groups.find((g) => mine.includes(g));
  if (rejecter.kind !== 'person' || !group) {
    return {ok: false, code: 'not-allowed', message: `${text} may not reject ${who}'s request to ${operation}: only the requester or a member of group ${groups.join(' or ')} may`};
  }
  return {ok: true, message: `${text} (group ${group}) rejected ${who}'s request to ${operation}`};
}

export type AskAsResult = {ok: true; message: string} | {ok: false; message: string};

/** Whether `asker` may ask what another identity may do (`svctl can-i --as`): members of an `admins` group. */
export function canAskAs(policy: Policy, asker: Identity, subject: Identity): AskAsResult {
  const text = describeIdentity(asker);
  if (samePerson(asker, subject)) return {ok: true, message: `${text} asks for themselves`};
  const mine = membership(policy, asker).groups;
  const group = policy.spec.admins.find((g) => mine.includes(g));
  if (asker.kind === 'person' && group) return {ok: true, message: `${text} is in group ${group}, an admins group`};
  const admins = policy.spec.admins;
  return {ok: false, message: `${text} may not ask as ${describeIdentity(subject)}: only members of ${admins.length > 0 ? `group ${admins.join(' or ')} (admins)` : 'an admins group (the policy names none)'} may`};
}
