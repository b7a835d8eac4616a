import {Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import {envFlag, serverFlags, specArgs} from '../cli/flags.js';
import {environmentOf, environmentSpecs} from '../cli/inputs.js';
import type {RevisionRecord} from '@bcl/deploy-core/deploy';

export interface HistoryResult {
  environment: string;
  services: {service: string; namespace: string; revisions: RevisionRecord[]}[];
}

export default class History extends BclCommand<typeof History> {
  // Changes nothing: still runs on an installed version below its channel's minimumVersion.
  static override allowedBelowMinimumVersion = true;
  static override summary = 'List the deploys and rollbacks of a service in an environment, newest first.';
  static override description = 'Each revision records the image, git commit, who deployed it and when, the outcome, the duration, and the objects it applied; `svctl rollback --to <revision>` re-applies one.';
  static override examples = ['<%= config.bin %> history --env prod', '<%= config.bin %> history --env prod --limit 5 --json'];
  static override strict = false;
  static override args = specArgs;
  static override flags = {env: envFlag, limit: Flags.integer({summary: 'Show at most this many revisions.', min: 1}), ...serverFlags};
  static override configFlags = {env: 'svctl.defaultEnv'};

  async run(): Promise<HistoryResult> {
    const {argv} = await this.parse(History);
    const environment = environmentOf(this.ctx);
    const {describeMode, serverSettings} = await import('../remote/settings.js');
    this.ctx.ui.debug(describeMode(this.ctx));
    if (serverSettings(this.ctx)) {
      const {remoteHistory} = await import('../remote/commands.js');
      return remoteHistory(this.ctx, {args: argv as string[], environment, limit: this.flags.limit, warningsAsErrors: this.flags['warnings-as-errors']});
    }
    const specs = await environmentSpecs(this.ctx, argv as string[], environment);
    const {connectEnvironment} = await import('@bcl/deploy-core/kube');
    const {DeployHistory, withAbandoned} = await import('@bcl/deploy-core/deploy');
    const {readLeaseState} = await import('@bcl/deploy-core/deploy');
    const services = [];
    for (const spec of specs) {
      const clients = await connectEnvironment(spec, this.ctx.env);
      const [records, lease] = await Promise.all([new DeployHistory(clients, spec.namespace, spec.name, environment).list(), readLeaseState(clients, spec.namespace, spec.name, environment)]);
      // A record left "in-progress" by a run that died is shown as abandoned, never as running.
      const revisions = withAbandoned(records, lease).reverse();
      services.push({service: spec.name, namespace: spec.namespace, revisions: this.flags.limit ? revisions.slice(0, this.flags.limit) : revisions});
    }
    return {environment, services};
  }

  protected override renderResult(result: HistoryResult, out: ResultWriter): void {
    for (const s of result.services) {
      if (result.services.length > 1) out.text(out.paint('bold', `${s.service} (${s.namespace})`));
      out.table(
        s.revisions,
        [
          {header: 'REVISION', get: (r) => r.revision},
          {header: 'KIND', get: (r) => (r.kind === 'rollback' ? `rollback to ${r.source}` : 'deploy')},
          {header: 'OUTCOME', get: (r) => (r.rolledBackBy ? `${r.outcome} (rolled back by ${r.rolledBackBy})` : r.outcome)},
          {header: 'IMAGE', get: (r) => r.image},
          {header: 'WHO', get: (r) => r.who},
          {header: 'STARTED', get: (r) => r.startedAt.replace(/\.\d+Z$/, 'Z')},
          {header: 'DURATION', get: (r) => (r.durationMs === undefined ? '' : `${(r.durationMs / 1000).toFixed(1)}s`)},
          {header: 'MESSAGE', get: (r) => (r.message ?? '').slice(0, 80)},
        ],
        `no deploys of ${s.service} in ${result.environment} yet`,
      );
    }
  }
}
