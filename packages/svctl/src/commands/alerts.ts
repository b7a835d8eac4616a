import {Args, Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {AlertsResult} from '../observability/run.js';

export default class Alerts extends BclCommand<typeof Alerts> {
  // Changes nothing: still runs on an installed version below its channel's minimumVersion.
  static override allowedBelowMinimumVersion = true;
  static override summary = "Generate the service's Prometheus alerting rules.";
  static override description =
    'Multiwindow, multi-burn-rate alerts on the error budget of the availability SLO (fast burn: critical, slow burn: warning), latency above the latency objective, crash-looping containers and unavailable replicas, with the recording rules they use. --format kubernetes gives a PrometheusRule and a ServiceMonitor for the namespace of --env (the objects svctl deploy adds when the cluster runs the Prometheus operator). Check the rules with `promtool check rules <file>`.';
  static override examples = ['<%= config.bin %> alerts --out alerts.rules.yaml', '<%= config.bin %> alerts --format kubernetes --env prod'];
  static override args = {spec: Args.string({description: 'The service.yaml, or the directory holding it (default: ./service.yaml).'})};
  static override flags = {
    out: Flags.string({summary: 'Write the rules to this file.'}),
    format: Flags.string({summary: 'rules: a Prometheus rule file; kubernetes: PrometheusRule and ServiceMonitor objects.', options: ['rules', 'kubernetes'], default: 'rules'}),
    env: Flags.string({summary: 'The environment (namespace) of the Kubernetes objects.'}),
  };

  async run(): Promise<AlertsResult> {
    const {alertsCommand} = await import('../observability/run.js');
    return alertsCommand(this.ctx, {spec: this.args.spec, env: this.flags.env, out: this.flags.out, format: this.flags.format as 'rules' | 'kubernetes'});
  }

  protected override renderResult(result: AlertsResult, out: ResultWriter): void {
    if (result.file) return out.text(`wrote ${result.file}: ${result.alerts.join(', ')}`);
    out.text(result.yaml.trimEnd());
  }
}
