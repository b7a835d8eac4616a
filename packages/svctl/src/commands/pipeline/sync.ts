import {Args, Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {SyncOutcome} from '@bcl/deploy-core/jenkins';

export default class PipelineSync extends BclCommand<typeof PipelineSync> {
  static override summary = "Create or update the service's Jenkins pipeline job from service.yaml.";
  static override description =
    'Renders the config.xml of a pipeline job that runs the Jenkinsfile from the service repository with the parameters GIT_SHA, IMAGE_TAG and ENV, and creates the job, updates it when its configuration differs, or leaves it alone. The server is svctl.jenkins.<name> (build.jenkins in the spec, --jenkins, or the only one configured).';
  static override examples = ['<%= config.bin %> pipeline sync', '<%= config.bin %> pipeline sync --dry-run', '<%= config.bin %> pipeline sync services/hello --jenkins ci --json'];
  static override args = {spec: Args.string({description: 'The service.yaml, or the directory holding it (default: ./service.yaml).'})};
  static override flags = {
    jenkins: Flags.string({summary: 'The Jenkins server: a name under svctl.jenkins.'}),
    'dry-run': Flags.boolean({summary: 'Show what would change without writing to Jenkins.'}),
  };

  async run(): Promise<SyncOutcome> {
    const {pipelineContext} = await import('../../jenkins/context.js');
    const {syncPipeline, wantedJobConfig} = await import('@bcl/deploy-core/jenkins');
    const {specRepositoryUrl} = await import('@bcl/deploy-core/spec');
    const p = await pipelineContext(this.ctx, {spec: this.args.spec, jenkins: this.flags.jenkins});
    const wanted = wantedJobConfig(p.loaded.spec, await specRepositoryUrl(p.loaded.spec, p.loaded.dir), p.loaded.path);
    const outcome = await syncPipeline(p.api, p.job, wanted, {dryRun: this.flags['dry-run']});
    // The whole configuration of a new job is noise; changes and dry runs show what differs.
    if ((outcome.action === 'updated' || (outcome.dryRun && outcome.action === 'created')) && this.ctx.ui.showsNotices && !this.ctx.json) {
      this.ctx.ui.line(outcome.diff.map((l) => this.ctx.ui.paint(l.startsWith('+') ? 'green' : 'red', l)).join('\n'));
    }
    return outcome;
  }

  protected override renderResult(result: SyncOutcome, out: ResultWriter): void {
    const verb = result.dryRun ? {created: 'would be created', updated: 'would be updated', unchanged: 'is up to date'} : {created: 'created', updated: 'updated', unchanged: 'is up to date'};
    out.text(`job ${result.job} ${verb[result.action]}: ${result.url}`);
  }
}
