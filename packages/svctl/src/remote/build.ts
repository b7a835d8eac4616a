import {randomUUID} from 'node:crypto';
import {type CommandContext, invalidInput} from '@bcl/core';
import {findSpecFile, loadSpec} from '@bcl/deploy-core/spec';
import type {BuildOutcome} from '@bcl/deploy-core/jenkins';
import type {OperationView} from '@bcl/svapp/api';
import type {BuildCommandResult, BuildsResult} from '../jenkins/run.js';
import {finishOperation, openClient, type RemoteFlags, remoteDeploy} from './commands.js';

/** `svctl build` through svapp: svapp triggers the job with its own Jenkins credentials and streams the log. */
export async function remoteBuild(
  ctx: CommandContext,
  input: {spec?: string | undefined; ref?: string | undefined; imageTag?: string | undefined; follow: boolean; deploy: boolean; env?: string | undefined; jenkins?: string | undefined; resolveCommit: (dir: string, ref: string | undefined) => Promise<string>} & RemoteFlags,
): Promise<BuildCommandResult> {
  const loaded = loadSpec(findSpecFile(ctx.cwd, input.spec));
  const sha = await input.resolveCommit(loaded.dir, input.ref);
  const imageTag = input.imageTag ?? sha;
  if (!/^[\w][\w.-]{0,127}$/.test(imageTag)) {
    throw invalidInput('svctl.image_tag_invalid', `--image-tag "${imageTag}" is not a valid image tag`, {hint: 'Up to 128 letters, digits, "_", "." and "-", not starting with "." or "-".'});
  }
  const client = await openClient(ctx, input);
  let outcome: BuildOutcome & {image: string};
  try {
    const op = await client.request<OperationView>('POST', '/v1/builds', {
      id: randomUUID(),
      service: loaded.spec.name,
      gitSha: sha,
      imageTag,
      ...(input.env ? {environment: input.env} : {}),
      ...(input.jenkins ? {jenkins: input.jenkins} : {}),
      follow: input.follow,
    });
    outcome = await finishOperation<BuildOutcome & {image: string}>(ctx, client, op, input);
  } finally {
    await client.close();
  }
  const result: BuildCommandResult = {...outcome, image: `${loaded.spec.image}:${imageTag}`, deploy: null};
  if (input.deploy && input.env && outcome.result === 'SUCCESS') {
    ctx.ui.step(`Deploying ${result.image} to ${input.env}`);
    const deployed = await remoteDeploy(ctx, {...input, args: [loaded.path], environment: input.env, imageTag, allowDirty: true, timeoutMs: 300_000, rollback: true});
    const s = deployed.services[0]!;
    result.deploy = {environment: input.env, revision: s.revision, image: s.image, outcome: s.outcome, durationMs: s.durationMs};
  }
  return result;
}

export async function remoteBuilds(ctx: CommandContext, input: {spec?: string | undefined; jenkins?: string | undefined; limit: number} & RemoteFlags): Promise<BuildsResult> {
  const loaded = loadSpec(findSpecFile(ctx.cwd, input.spec));
  const client = await openClient(ctx, input);
  try {
    const q = new URLSearchParams({limit: String(input.limit), ...(input.jenkins ? {jenkins: input.jenkins} : {})});
    const {warnings: _w, ...result} = await client.request<BuildsResult & {warnings?: unknown}>('GET', `/v1/services/${loaded.spec.name}/builds?${q}`);
    return result;
  } finally {
    await client.close();
  }
}
