import {BclError, type CommandContext, ExitCode, operationFailed} from '@bcl/core';
import svctlNamespace from '../config.js';
import {loadSpec} from '@bcl/deploy-core/spec';

/** What `svctl build --deploy` reports of the deploy. */
export interface DeployAfterBuild {
  environment: string;
  revision: number | null;
  image: string;
  outcome: string;
  durationMs: number;
}

/**
 * `svctl build --deploy`: deploys the image the build pushed with svctl deploy's core (the same
 * ordering, watch, rollback, lease and history as `svctl deploy --image-tag <tag>`). The local
 * checkout's state does not matter: Jenkins built the commit.
 */
export async function deployAfterBuild(ctx: CommandContext, input: {specPath: string; env: string; imageTag: string; gitSha: string}): Promise<DeployAfterBuild> {
  const {buildTargets} = await import('@bcl/deploy-core/deploy');
  const {deployServices} = await import('@bcl/deploy-core/deploy');
  const {reportFailures} = await import('../deploy/report.js');
  const {uiSink} = await import('../cli/events.js');
  const clusters = ctx.config.namespace(svctlNamespace).clusters;
  const targets = await buildTargets([loadSpec(input.specPath)], {environment: input.env, clusters, imageTag: input.imageTag, allowDirty: true, warn: (m) => ctx.ui.warn(m)});
  for (const t of targets) t.gitSha = input.gitSha;
  const [result] = await deployServices(targets, {environment: input.env, timeoutMs: 300_000, rollback: true, signal: ctx.signal, events: uiSink(ctx.ui), env: ctx.env});
  if (!result) throw new BclError('svctl.deploy_failed', 'the deploy returned no result', ExitCode.unexpected);
  const summary: DeployAfterBuild = {environment: input.env, revision: result.revision, image: result.image, outcome: result.outcome, durationMs: result.durationMs};
  if (result.outcome === 'succeeded') {
    const {annotateDeploy} = await import('../observability/annotate.js');
    await annotateDeploy(ctx, {service: result.service, environment: input.env, image: result.image, revision: result.revision});
    return summary;
  }
  reportFailures(ctx.ui, [result]);
  if (result.error) {
    throw new BclError(result.error.code, `the build succeeded but the deploy to ${input.env} did not: ${result.message}`, result.error.exitCode as ExitCode, {hint: result.error.hint, details: {deploy: result}});
  }
  if (result.outcome === 'interrupted') throw new BclError('interrupted', `interrupted while deploying: ${result.message}`, ExitCode.interrupted, {details: {deploy: result}});
  throw operationFailed('svctl.rollout_failed', `the build succeeded but the deploy to ${input.env} failed (${result.outcome}): ${result.message}`, {
    hint: 'See `svctl history --env ' + input.env + '` and the failing pods above.',
    details: {deploy: result},
  });
}
