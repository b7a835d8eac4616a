import {BclError, ExitCode} from '@bcl/core/errors';
import type {ServiceDeployResult} from './deploy.js';

/** What `svctl deploy` returns (and, on failure, carries as the error's details). */
export interface DeployResult {
  environment: string;
  outcome: 'succeeded' | 'failed';
  durationMs: number;
  /** For a single service: its revision, image and outcome at the top, as scripts expect. */
  service?: string;
  revision?: number | null;
  image?: string;
  services: ServiceDeployResult[];
}

/** What a deploy run needs from the world: the deploy itself, the dashboards, the report, the clock. */
export interface DeployRunIO {
  /** Deploys the services (svctl deploy's core: lease, apply, watch, rollback); one result each. */
  deploy(): Promise<ServiceDeployResult[]>;
  /** Marks a succeeded deploy on its dashboards; a problem there is the callee's to warn about. */
  annotate(service: ServiceDeployResult): Promise<void>;
  /** Tells a person what failed and why (the failure report), before the error is raised. */
  report(services: readonly ServiceDeployResult[]): void;
  now(): number;
}

/**
 * A deploy from results to verdict: every succeeded service is marked on its dashboards (also
 * when others failed), failures are reported, and the result is returned, or thrown as the
 * error deployFailure() classifies.
 */
export async function runDeploy(environment: string, io: DeployRunIO): Promise<DeployResult> {
  const started = io.now();
  const services = await io.deploy();
  const result = deployResult(environment, services, io.now() - started);
  for (const s of services.filter((x) => x.outcome === 'succeeded')) await io.annotate(s);
  const failure = deployFailure(result);
  if (!failure) return result;
  io.report(services);
  throw failure;
}

export function deployResult(environment: string, services: ServiceDeployResult[], durationMs: number): DeployResult {
  const ok = services.every((s) => s.outcome === 'succeeded');
  const result: DeployResult = {environment, outcome: ok ? 'succeeded' : 'failed', durationMs, services};
  if (services.length === 1) {
    const s = services[0]!;
    Object.assign(result, {service: s.service, revision: s.revision, image: s.image});
  }
  return result;
}

/**
 * The error of a deploy that did not fully succeed, or undefined when it did. The gravest outcome
 * picks the exit code: an interrupt (130) over a failed rollout (7) over a deploy that did not
 * start, where a conflict (6: lease held, not svctl's object, dirty tree) wins over the rest.
 * The whole result is the error's details.
 */
export function deployFailure(result: DeployResult): BclError | undefined {
  const s = result.services;
  const bad = s.filter((x) => x.outcome !== 'succeeded');
  if (bad.length === 0) return undefined;
  const names = bad.map((x) => `${x.service} (${x.outcome})`).join(', ');
  const single = s.length === 1 ? s[0]! : undefined;
  if (bad.some((x) => x.outcome === 'interrupted')) {
    return new BclError('interrupted', single ? `interrupted: ${single.message}` : `interrupted: ${names}`, ExitCode.interrupted, {details: result, hint: 'What was applied is recorded in `svctl history`; the lease was released.'});
  }
  const rolledOut = bad.filter((x) => ['failed', 'rolled-back', 'rollback-failed'].includes(x.outcome));
  if (rolledOut.length > 0) {
    const first = rolledOut[0]!;
    const rb = first.rollback;
    const message = single
      ? `the rollout of ${first.service} revision ${first.revision} failed: ${first.message}${rb ? `; rolled back to revision ${rb.toRevision}: ${rb.outcome}` : ''}`
      : `${rolledOut.length} of ${s.length} rollouts failed: ${names}`;
    return new BclError('svctl.rollout_failed', message, ExitCode.failed, {
      details: result,
      hint: rb?.outcome === 'succeeded' ? `Revision ${rb.toRevision} runs again; fix the cause above and deploy again.` : 'Fix the cause above; `svctl status` shows what runs now.',
    });
  }
  const errors = bad.filter((x) => x.error);
  if (errors.length === 0) return new BclError('svctl.deploy_failed', `${names} did not deploy`, ExitCode.failed, {details: result});
  const worst = [...errors].sort((a, b) => (b.error!.exitCode === ExitCode.conflict ? 1 : 0) - (a.error!.exitCode === ExitCode.conflict ? 1 : 0))[0]!;
  const code = worst.error!.exitCode as ExitCode;
  return new BclError(worst.error!.code, single ? worst.message : `${bad.length} of ${s.length} deploys did not start: ${bad.map((x) => `${x.service}: ${x.message}`).join('; ')}`, code, {details: result, ...(worst.error!.hint ? {hint: worst.error!.hint} : {})});
}

/** What `svctl rollback` returns (and, on failure, carries as the error's details). */
export interface RollbackResult {
  environment: string;
  services: ServiceDeployResult[];
}

/**
 * The error of a rollback that did not fully succeed, or undefined: the first service that did not
 * roll back decides (its own error, an interrupt, or a failed rollout, exit 7).
 */
export function rollbackFailure(result: RollbackResult): BclError | undefined {
  const bad = result.services.filter((s) => s.outcome !== 'succeeded');
  if (bad.length === 0) return undefined;
  const first = bad[0]!;
  if (first.error) return new BclError(first.error.code, first.message, first.error.exitCode as ExitCode, {details: result, ...(first.error.hint ? {hint: first.error.hint} : {})});
  if (first.outcome === 'interrupted') return new BclError('interrupted', `interrupted: ${first.message}`, ExitCode.interrupted, {details: result});
  return new BclError('svctl.rollout_failed', `the rollback of ${first.service} failed: ${first.message}`, ExitCode.failed, {details: result, hint: '`svctl status` shows what runs now.'});
}
