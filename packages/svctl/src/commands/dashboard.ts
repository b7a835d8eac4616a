import {Args, Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {DashboardResult} from '../observability/run.js';

export default class DashboardCommand extends BclCommand<typeof DashboardCommand> {
  static override summary = "Generate the service's Grafana dashboard; write it to a file or push it to Grafana.";
  static override description =
    "Panels: availability and error budget against the SLO, request rate, error ratio, latency p50/p95/p99, CPU and memory against the limits, pod restarts; deploys as annotations. With --push it is saved through Grafana's HTTP API into the team's folder (created when missing), with the token of svctl.grafana. Without --out or --push the JSON goes to stdout.";
  static override examples = ['<%= config.bin %> dashboard --out dashboard.json', '<%= config.bin %> dashboard --push', '<%= config.bin %> dashboard --env prod --push --json'];
  static override args = {spec: Args.string({description: 'The service.yaml, or the directory holding it (default: ./service.yaml).'})};
  static override flags = {
    out: Flags.string({summary: 'Write the dashboard JSON to this file.'}),
    push: Flags.boolean({summary: 'Save the dashboard in Grafana (svctl.grafana), in the folder of the team.'}),
    env: Flags.string({summary: 'Take resource limits from this environment of the spec.'}),
  };

  async run(): Promise<DashboardResult> {
    const {dashboardCommand} = await import('../observability/run.js');
    return dashboardCommand(this.ctx, {spec: this.args.spec, env: this.flags.env, out: this.flags.out, push: this.flags.push});
  }

  protected override renderResult(result: DashboardResult, out: ResultWriter): void {
    if (!result.file && !result.push) return out.text(JSON.stringify(result.dashboard, null, 2));
    if (result.file) out.text(`wrote ${result.file} (dashboard ${result.uid}, schemaVersion ${result.schemaVersion})`);
    if (result.push) out.text(`pushed ${result.uid} version ${result.push.version} to folder ${result.push.folder.title}: ${result.push.url}`);
  }
}
