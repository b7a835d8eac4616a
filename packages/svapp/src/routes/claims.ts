import {BclError, ExitCode} from '@bcl/core/errors';
import type {DeployTarget} from '@bcl/deploy-core/deploy';
import {type Action, type Decision, describeIdentity, describeOperation} from '@bcl/deploy-policy';
import type {DeployService, Identity} from '../api.js';
import type {SvappContext} from '../context.js';
import {SVAPP_CLUSTERS} from '../engine.js';

/** One service of a request, checked against the catalog and decided. */
export interface CheckedService {
  name: string;
  team: string;
  catalogFile: string;
  catalogText: string;
  decision: Decision;
  /** Why the request's spec is refused whatever the policy says (it claims a team or a namespace). */
  claim?: string;
  target?: DeployTarget;
}

/**
 * A service of a deploy or diff, as a client sent its spec: validated (file:line problems, exit
 * 3), its team and namespace compared with svapp's catalog (a spec cannot claim either), the
 * manifests rendered, and the policy's decision taken with the catalog's team.
 */
export async function checkSpecService(ctx: SvappContext, who: Identity, action: Action, environment: string, s: DeployService, breakGlassReason: string | undefined, warn: (message: string) => void): Promise<CheckedService> {
  const {parseSpec, resolveEnvironment} = await import('@bcl/deploy-core/spec');
  const {assertImageTag, deployTarget} = await import('@bcl/deploy-core/deploy');
  const spec = parseSpec(s.spec, s.file);
  const entry = await ctx.catalog.get(spec.name);
  const team = entry.spec.team;
  const decision = ctx.authz.decide(who, action, spec.name, team, environment, breakGlassReason);
  const operation = `${describeIdentity(who)} may not ${describeOperation({action, service: spec.name, environment})}`;
  let claim: string | undefined;
  if (spec.team !== team) {
    claim = `${operation}: ${s.file} names team ${spec.team}, but svapp's catalog (${entry.file}) has ${spec.name} as a service of team ${team}; a request cannot claim a team`;
  } else {
    const mine = resolveEnvironment(spec, environment, ctx.engine.clusters, SVAPP_CLUSTERS);
    const known = resolveEnvironment(entry.spec, environment, ctx.engine.clusters, SVAPP_CLUSTERS);
    if (mine.namespace !== known.namespace || mine.cluster !== known.cluster) {
      claim = `${operation}: ${s.file} deploys it to namespace ${mine.namespace} of cluster ${mine.cluster}, but svapp's catalog (${entry.file}) has it in namespace ${known.namespace} of cluster ${known.cluster}; a request cannot move a service`;
    }
  }
  const checked: CheckedService = {name: spec.name, team, catalogFile: entry.file, catalogText: await readText(entry.file), decision, ...(claim ? {claim} : {})};
  if (decision.outcome !== 'denied' && !claim) {
    assertImageTag(s.imageTag);
    checked.target = deployTarget(spec, s.file, {environment, clusters: ctx.engine.clusters, imageTag: s.imageTag, gitSha: s.gitSha, warn});
  }
  return checked;
}

/** A service named in a request (rollback, build, read): the catalog's spec, and the decision. */
export async function checkNamedService(ctx: SvappContext, who: Identity, action: Action, name: string, environment: string | undefined, breakGlassReason?: string): Promise<CheckedService> {
  const entry = await ctx.catalog.get(name);
  return {name, team: entry.spec.team, catalogFile: entry.file, catalogText: await readText(entry.file), decision: ctx.authz.decide(who, action, name, entry.spec.team, environment, breakGlassReason)};
}

async function readText(file: string): Promise<string> {
  const {readFile} = await import('node:fs/promises');
  return readFile(file, 'utf8');
}

/** The refusal of a request with denied decisions or claims (exit 4), or undefined when none. */
export function refusalOf(services: readonly CheckedService[]): BclError | undefined {
  const decisions = services.map((s) => s.decision);
  const denied = services.find((s) => s.decision.outcome === 'denied');
  const claimed = services.find((s) => s.claim);
  if (!denied && !claimed) return undefined;
  const message = denied ? denied.decision.message + (denied.claim ? ` (and ${denied.claim.slice(denied.claim.indexOf(': ') + 2)})` : '') : claimed!.claim!;
  return new BclError(denied ? 'svapp.denied' : 'svapp.claim_refused', message, ExitCode.denied, {
    hint: denied ? 'Nothing was done. `svctl can-i` shows every rule the policy considered.' : 'Nothing was done. The team and namespaces of a service are those of svapp\'s catalog; the platform team changes them there.',
    details: {decisions, ...(claimed ? {claims: services.filter((s) => s.claim).map((s) => ({service: s.name, message: s.claim}))} : {})},
  });
}
