import {Args, Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import {serverFlags} from '../cli/flags.js';
import type {BuildsResult} from '../jenkins/run.js';

export default class Builds extends BclCommand<typeof Builds> {
  // Changes nothing: still runs on an installed version below its channel's minimumVersion.
  static override allowedBelowMinimumVersion = true;
  static override summary = "List the service's recent Jenkins builds with result, duration and commit.";
  static override examples = ['<%= config.bin %> builds', '<%= config.bin %> builds --limit 5 --json'];
  static override args = {spec: Args.string({description: 'The service.yaml, or the directory holding it (default: ./service.yaml).'})};
  static override flags = {
    limit: Flags.integer({summary: 'How many builds to show.', default: 10, min: 1, max: 100}),
    jenkins: Flags.string({summary: 'The Jenkins server: a name under svctl.jenkins.'}),
    ...serverFlags,
  };

  async run(): Promise<BuildsResult> {
    const {describeMode, serverSettings} = await import('../remote/settings.js');
    this.ctx.ui.debug(describeMode(this.ctx));
    if (serverSettings(this.ctx)) {
      const {remoteBuilds} = await import('../remote/build.js');
      return remoteBuilds(this.ctx, {spec: this.args.spec, jenkins: this.flags.jenkins, limit: this.flags.limit, warningsAsErrors: this.flags['warnings-as-errors']});
    }
    const {listBuilds} = await import('../jenkins/run.js');
    return listBuilds(this.ctx, {spec: this.args.spec, jenkins: this.flags.jenkins, limit: this.flags.limit});
  }

  protected override renderResult(result: BuildsResult, out: ResultWriter): void {
    out.table(
      result.builds,
      [
        {header: 'build', get: (b) => `#${b.number}`},
        {header: 'result', get: (b) => (b.building ? 'RUNNING' : (b.result ?? ''))},
        {header: 'duration', get: (b) => (b.building ? '' : `${Math.round(b.durationMs / 100) / 10}s`)},
        {header: 'commit', get: (b) => b.gitSha?.slice(0, 12) ?? ''},
        {header: 'image tag', get: (b) => b.imageTag ?? ''},
        {header: 'env', get: (b) => b.env ?? ''},
        {header: 'started', get: (b) => b.startedAt},
      ],
      `no builds of ${result.job} yet`,
    );
  }
}
