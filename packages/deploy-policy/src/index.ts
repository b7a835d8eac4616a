export {ACTIONS, type Action, FROZEN_ACTIONS, type FreezeSpec, isPattern, type PolicySpec, policySchema, type RuleSpec} from './schema.js';
export {cannotRead, checkPolicyFile, compilePolicy, type Freeze, loadPolicy, parsePolicy, type Policy, type PolicyCheck, type Rule, sha256, summarizePolicy} from './policy.js';
export {
  type AccessRequest,
  type CheckName,
  type DecidedBy,
  type Decision,
  type DecisionCode,
  type DecisionDetails,
  decide,
  describeIdentity,
  describeOperation,
  explain,
  type Explanation,
  type FreezeDetails,
  type FreezeTrace,
  formatExplanation,
  type Identity,
  membership,
  type Outcome,
  type RuleCheck,
  type RuleTrace,
} from './decide.js';
export {type ApprovalRefusal, type ApprovalResult, approve, type AskAsResult, canAskAs, isWaitingForApproval, reject, type RejectionResult, type WaitingDecision} from './approve.js';
export {type PolicyProblemReport, type PolicyWatch, type PolicyWatchStatus, watchPolicy, type WatchPolicyOptions} from './watch.js';
export {CHECK_POLICY_USAGE, type CheckPolicyIo, runCheckPolicy} from './check.js';
export {closesAt, formatLocal, isOpen, opensNext, type TimeWindow} from './windows.js';
