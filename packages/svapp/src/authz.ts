import type {PostgresAuditLog} from '@bcl/audit';
import {BclError, ExitCode} from '@bcl/core/errors';
import {type AccessRequest, type Action, type Decision, decide, describeIdentity, describeOperation, type Identity, type Policy} from '@bcl/deploy-policy';
import type {Kysely} from '@bcl/postgres';
import type {ServiceCatalog} from './catalog.js';

export interface AuthzDeps {
  /** The policy in force now (the watch's `current`, read at every decision). */
  policy: () => Policy;
  catalog: ServiceCatalog;
  now: () => Date;
  audit: PostgresAuditLog;
  db: Kysely<any>;
}

/** A refused request: exit 4, the decision's message (identity, action, service, environment, why). */
export function refusal(decisions: Decision[], message = decisions.find((d) => d.outcome === 'denied')?.message ?? decisions[0]!.message, code = 'svapp.denied'): BclError {
  return new BclError(code, message, ExitCode.denied, {
    hint: 'Nothing was done. `svctl can-i` shows every rule the policy considered.',
    details: {decisions},
  });
}

/**
 * Every authorization svapp makes: the service's team from the catalog (never from the request),
 * `decide()` of the deploy policy in force at that instant, and the decision in the audit log.
 */
export class Authorizer {
  constructor(private readonly deps: AuthzDeps) {}

  /** The team svapp knows the service by (its catalog spec). */
  async teamOf(service: string): Promise<string> {
    return (await this.deps.catalog.get(service)).spec.team;
  }

  decide(identity: Identity, action: Action, service: string, team: string, environment: string | undefined, breakGlassReason?: string): Decision {
    const request: AccessRequest = {identity, action, service, team, environment, ...(breakGlassReason ? {breakGlassReason} : {})};
    return decide(this.deps.policy(), request, this.deps.now());
  }

  /**
   * A read (status, history, diff, an operation's events): decided, audited, and refused with
   * exit 4 unless allowed. Reads need no approval: `approval-required` is a refusal here.
   */
  async read(identity: Identity, service: string, environment: string | undefined, what: string): Promise<Decision> {
    const team = await this.teamOf(service);
    const decision = this.decide(identity, 'read', service, team, environment);
    await this.deps.audit.record(this.deps.db, {event: decision.outcome === 'allowed' ? 'read.allowed' : 'read.refused', what, decision});
    if (decision.outcome !== 'allowed') throw refusal([decision], decision.outcome === 'approval-required' ? `${describeIdentity(identity)} may not ${describeOperation({action: 'read', service, environment})}: a read never waits for approval, and ${decision.message}` : decision.message);
    return decision;
  }
}
