import {type CommandContext, invalidInput, isBclError, ProcessFailed} from '@bcl/core';
import {type BuildOutcome, runBuild} from '@bcl/deploy-core/jenkins';
import {uiSink} from '../cli/events.js';
import {pipelineContext} from './context.js';

export interface BuildCommandResult extends BuildOutcome {
  /** The image reference built: repository:tag. */
  image: string;
  /** What the deploy after the build reported, with --deploy. */
  deploy: unknown;
}

export interface BuildsResult {
  jenkins: string;
  job: string;
  builds: {
    number: number;
    building: boolean;
    result: string | null;
    durationMs: number;
    gitSha: string | null;
    imageTag: string | null;
    env: string | null;
    startedAt: string;
    url: string;
  }[];
}

/** `svctl build`: resolves the commit, triggers and follows the build, deploys on success with --deploy. */
export async function buildCommand(
  ctx: CommandContext,
  options: {spec?: string | undefined; ref?: string | undefined; imageTag?: string | undefined; follow: boolean; deploy: boolean; env?: string | undefined; jenkins?: string | undefined},
): Promise<BuildCommandResult> {
  const p = await pipelineContext(ctx, options);
  const sha = await resolveCommit(ctx, p.loaded.dir, options.ref);
  const imageTag = options.imageTag ?? sha;
  if (!/^[\w][\w.-]{0,127}$/.test(imageTag)) {
    throw invalidInput('svctl.image_tag_invalid', `--image-tag "${imageTag}" is not a valid image tag`, {hint: 'Up to 128 letters, digits, "_", "." and "-", not starting with "." or "-".'});
  }
  const outcome = await runBuild(
    p.api,
    {job: p.job, parameters: {GIT_SHA: sha, IMAGE_TAG: imageTag, ENV: options.env ?? ''}, follow: options.follow, showLog: ctx.ui.showsNotices},
    {events: uiSink(ctx.ui), live: ctx.ui.isTTY, signal: ctx.signal},
  );
  const result: BuildCommandResult = {...outcome, image: `${p.loaded.spec.image}:${imageTag}`, deploy: null};
  if (options.deploy && options.env && outcome.result === 'SUCCESS') {
    ctx.ui.step(`Deploying ${result.image} to ${options.env}`);
    const {deployAfterBuild} = await import('./deploy-after-build.js');
    result.deploy = await deployAfterBuild(ctx, {specPath: p.loaded.path, env: options.env, imageTag, gitSha: outcome.gitSha});
  }
  return result;
}

/** `svctl builds`: the newest builds of the service's job. */
export async function listBuilds(ctx: CommandContext, options: {spec?: string | undefined; jenkins?: string | undefined; limit: number}): Promise<BuildsResult> {
  const p = await pipelineContext(ctx, options);
  const builds = await p.api.builds(p.job, options.limit);
  return {
    jenkins: p.api.server.name,
    job: p.job,
    builds: builds.map((b) => ({
      number: b.number,
      building: b.building,
      result: b.result,
      durationMs: b.durationMs,
      gitSha: b.gitSha,
      imageTag: b.parameters.IMAGE_TAG || null,
      env: b.parameters.ENV || null,
      startedAt: new Date(b.timestamp).toISOString(),
      url: b.url,
    })),
  };
}

/**
 * The commit to build: `ref` (default HEAD) resolved in the spec's checkout. Outside a git
 * checkout an explicit --ref is passed to Jenkins as it is.
 */
export async function resolveCommit(ctx: CommandContext, dir: string, ref: string | undefined): Promise<string> {
  let inside;
  try {
    inside = await ctx.runner.run('git', ['rev-parse', '--is-inside-work-tree'], {cwd: dir, reject: false});
  } catch (error) {
    // No git at all is "not a checkout"; anything else (an interruption) goes on up.
    if (!(isBclError(error) && error.code === 'process.not_found')) throw error;
  }
  if (!inside || inside.exitCode !== 0) {
    if (ref) return ref;
    throw invalidInput('svctl.not_a_git_checkout', `${dir} is not in a git checkout, so there is no commit to build`, {hint: 'Pass the commit or branch to build with --ref.'});
  }
  try {
    const res = await ctx.runner.run('git', ['rev-parse', '--verify', '--end-of-options', `${ref ?? 'HEAD'}^{commit}`], {cwd: dir});
    const status = await ctx.runner.run('git', ['status', '--porcelain', '--untracked-files=no'], {cwd: dir, reject: false});
    if (!ref && status.stdout.trim()) ctx.ui.warn('the checkout has uncommitted changes; Jenkins builds the last commit without them');
    return res.stdout.trim();
  } catch (error) {
    if (error instanceof ProcessFailed) {
      throw invalidInput('svctl.ref_unknown', `--ref ${ref ?? 'HEAD'} names no commit in ${dir}`, {hint: 'Pass a branch, tag or commit that exists (git fetch first if it is new).'});
    }
    throw error;
  }
}
