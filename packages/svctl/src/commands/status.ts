import {BclCommand, type ResultWriter} from '@bcl/core';
import {envFlag, serverFlags, specArgs} from '../cli/flags.js';
import {environmentOf, environmentSpecs} from '../cli/inputs.js';
import type {ServiceStatus} from '@bcl/deploy-core/deploy';

export interface StatusResult {
  environment: string;
  services: ServiceStatus[];
}

export default class Status extends BclCommand<typeof Status> {
  // Changes nothing: still runs on an installed version below its channel's minimumVersion.
  static override allowedBelowMinimumVersion = true;
  static override summary = 'Show what runs now: revision, image, replicas, pods and their problems, the last deploy.';
  static override examples = ['<%= config.bin %> status --env staging', '<%= config.bin %> status --env prod services/*/service.yaml --json'];
  static override strict = false;
  static override args = specArgs;
  static override flags = {env: envFlag, ...serverFlags};
  static override configFlags = {env: 'svctl.defaultEnv'};

  async run(): Promise<StatusResult> {
    const {argv} = await this.parse(Status);
    const environment = environmentOf(this.ctx);
    const {describeMode, serverSettings} = await import('../remote/settings.js');
    this.ctx.ui.debug(describeMode(this.ctx));
    if (serverSettings(this.ctx)) {
      const {remoteStatus} = await import('../remote/commands.js');
      return remoteStatus(this.ctx, {args: argv as string[], environment, warningsAsErrors: this.flags['warnings-as-errors']});
    }
    const specs = await environmentSpecs(this.ctx, argv as string[], environment);
    const {connectEnvironment} = await import('@bcl/deploy-core/kube');
    const {serviceStatus} = await import('@bcl/deploy-core/deploy');
    const connections = new Map<string, ReturnType<typeof connectEnvironment>>();
    const services = await Promise.all(
      specs.map(async (spec) => {
        const key = spec.context ?? '';
        if (!connections.has(key)) connections.set(key, connectEnvironment(spec, this.ctx.env));
        return serviceStatus(await connections.get(key)!, spec);
      }),
    );
    return {environment, services};
  }

  protected override renderResult(result: StatusResult, out: ResultWriter): void {
    const p = out.paint;
    for (const s of result.services) {
      const mark = s.state === 'available' ? p('green', '●') : s.state === 'failed' ? p('red', '●') : s.state === 'progressing' ? p('yellow', '●') : p('dim', '○');
      out.text(`${mark} ${p('bold', s.service)} (${s.environment}, namespace ${s.namespace}, context ${s.context}): ${s.state}${s.deployed ? '' : ` — ${s.message}`}`);
      if (s.deployed) {
        const r = s.replicas!;
        out.text(`  revision ${s.revision ?? '?'}  image ${s.image}\n  replicas ${r.desired} desired, ${r.updated} updated, ${r.ready} ready, ${r.available} available${s.state === 'available' ? '' : ` — ${s.message}`}`);
      }
      if (s.lastDeploy) {
        const d = s.lastDeploy;
        out.text(`  last ${d.kind} revision ${d.revision}: ${d.outcome}, ${d.image}, by ${d.who} at ${d.startedAt}${d.message ? ` — ${d.message}` : ''}`);
      }
      if (s.deployInProgress) out.text(p('yellow', `  a deploy is in progress: ${s.deployInProgress.holder}${s.deployInProgress.since ? ` since ${s.deployInProgress.since}` : ''}`));
      if (s.pods.length > 0) {
        out.table(s.pods, [
          {header: '  POD', get: (x) => `  ${x.name}`},
          {header: 'READY', get: (x) => (x.ready ? 'yes' : 'no')},
          {header: 'PHASE', get: (x) => x.phase},
          {header: 'RESTARTS', get: (x) => x.restarts},
          {header: 'PROBLEM', get: (x) => x.problem ?? ''},
        ]);
      }
    }
  }
}
