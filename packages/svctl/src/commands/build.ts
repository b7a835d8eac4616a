import {Args, Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import {followFlags, serverFlags} from '../cli/flags.js';
import type {BuildCommandResult} from '../jenkins/run.js';

export default class Build extends BclCommand<typeof Build> {
  static override summary = "Build the service with its Jenkins pipeline and follow the build.";
  static override description = `Triggers the pipeline job with GIT_SHA (the commit of --ref, default HEAD), IMAGE_TAG and ENV, waits for an executor (showing why Jenkins waits), streams the console log to stderr and exits with the build's outcome:
  0  SUCCESS
  7  FAILURE, UNSTABLE or ABORTED (the end of the log is shown)
  6  the queue item was cancelled before it started
With --deploy --env <env>, a successful build is deployed with svctl deploy. Ctrl-C stops following; the build goes on.`;
  static override examples = [
    '<%= config.bin %> build',
    '<%= config.bin %> build --ref v1.4.2 --no-follow',
    '<%= config.bin %> build --deploy --env staging',
  ];
  static override args = {spec: Args.string({description: 'The service.yaml, or the directory holding it (default: ./service.yaml).'})};
  static override flags = {
    ref: Flags.string({summary: 'The git ref to build (branch, tag or commit; default HEAD of the spec\'s checkout).'}),
    'image-tag': Flags.string({summary: 'The image tag to build (default: the commit).'}),
    follow: Flags.boolean({summary: 'Wait for the build and stream its log (--no-follow returns once it is queued).', allowNo: true, default: true}),
    deploy: Flags.boolean({summary: 'Deploy the built image when the build succeeds (needs --env).', dependsOn: ['env']}),
    env: Flags.string({summary: 'The environment: passed to the job as ENV, and deployed to with --deploy.'}),
    jenkins: Flags.string({summary: 'The Jenkins server: a name under svctl.jenkins (through svapp: one of svapp\'s).'}),
    ...serverFlags,
    ...followFlags,
  };

  async run(): Promise<BuildCommandResult> {
    const {buildCommand, resolveCommit} = await import('../jenkins/run.js');
    if (this.flags.deploy && !this.flags.follow) {
      const {usageError} = await import('@bcl/core');
      throw usageError('--deploy needs to follow the build; drop --no-follow');
    }
    const {describeMode, serverSettings} = await import('../remote/settings.js');
    this.ctx.ui.debug(describeMode(this.ctx));
    // The same request in both modes; through svapp it also says how to follow.
    const request = {
      spec: this.args.spec,
      ref: this.flags.ref,
      imageTag: this.flags['image-tag'],
      follow: this.flags.follow,
      deploy: this.flags.deploy,
      env: this.flags.env,
      jenkins: this.flags.jenkins,
    };
    if (serverSettings(this.ctx)) {
      const {remoteBuild} = await import('../remote/build.js');
      return remoteBuild(this.ctx, {
        ...request,
        resolveCommit: (dir, ref) => resolveCommit(this.ctx, dir, ref),
        warningsAsErrors: this.flags['warnings-as-errors'],
        cancelOnInterrupt: this.flags['cancel-on-interrupt'],
      });
    }
    return buildCommand(this.ctx, request);
  }

  protected override renderResult(result: BuildCommandResult, out: ResultWriter): void {
    const shown: Record<string, unknown> = {job: result.job, build: result.number === null ? `queued (${result.queueUrl})` : `#${result.number}`};
    if (result.result) shown.result = result.result;
    if (result.url) shown.url = result.url;
    shown.commit = result.gitSha;
    shown.image = result.image;
    if (result.durationMs !== null) shown.duration = `${Math.round(result.durationMs / 100) / 10}s`;
    if (result.deploy) shown.deployed = result.deploy;
    out.keyValue(shown);
  }
}
