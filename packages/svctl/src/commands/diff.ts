import {BclCommand, type ResultWriter} from '@bcl/core';
import {envFlag, imageTagFlag, serverFlags, specArgs} from '../cli/flags.js';
import {clustersOf, environmentOf, loadSpecs} from '../cli/inputs.js';
import type {ServiceDiff} from '@bcl/deploy-core/deploy';

export interface DiffResult {
  environment: string;
  /** Whether a deploy would change anything. */
  changed: boolean;
  services: ServiceDiff[];
}

export default class Diff extends BclCommand<typeof Diff> {
  // Changes nothing: still runs on an installed version below its channel's minimumVersion.
  static override allowedBelowMinimumVersion = true;
  static override summary = 'Show what a deploy would change, from a server-side dry-run apply against the live objects.';
  static override description = 'Objects to create, update (a unified diff of the YAML, server defaults included) and prune. Nothing is changed in the cluster.';
  static override examples = ['<%= config.bin %> diff --env staging', '<%= config.bin %> diff --env prod --image-tag 1.4.2 --json'];
  static override strict = false;
  static override args = specArgs;
  static override flags = {env: envFlag, 'image-tag': imageTagFlag, ...serverFlags};
  static override configFlags = {env: 'svctl.defaultEnv'};

  async run(): Promise<DiffResult> {
    const {argv} = await this.parse(Diff);
    const environment = environmentOf(this.ctx);
    const {describeMode, serverSettings} = await import('../remote/settings.js');
    this.ctx.ui.debug(describeMode(this.ctx));
    if (serverSettings(this.ctx)) {
      const {remoteDiff} = await import('../remote/commands.js');
      return remoteDiff(this.ctx, {args: argv as string[], environment, imageTag: this.flags['image-tag'], warningsAsErrors: this.flags['warnings-as-errors']});
    }
    const specs = loadSpecs(this.ctx.cwd, argv as string[]);
    const {buildTargets} = await import('@bcl/deploy-core/deploy');
    const targets = await buildTargets(specs, {environment, clusters: clustersOf(this.ctx), imageTag: this.flags['image-tag'], allowDirty: true});
    const {connectEnvironment} = await import('@bcl/deploy-core/kube');
    const {diffService} = await import('@bcl/deploy-core/deploy');
    const services: ServiceDiff[] = [];
    for (const t of targets) services.push(await diffService(await connectEnvironment(t.spec, this.ctx.env), t.spec, t.rendered));
    return {environment, changed: services.some((s) => s.changes.some((c) => c.action !== 'unchanged')), services};
  }

  protected override renderResult(result: DiffResult, out: ResultWriter): void {
    const p = out.paint;
    for (const s of result.services) {
      const changed = s.changes.filter((c) => c.action !== 'unchanged');
      out.text(p('bold', `${s.service} (${s.environment}, namespace ${s.namespace}): ${changed.length === 0 ? 'no changes' : changed.map((c) => `${c.action} ${c.ref}`).join(', ')}`));
      for (const c of changed) {
        const colored = c.diff
          .split('\n')
          .map((l) => (l.startsWith('+') && !l.startsWith('+++') ? p('green', l) : l.startsWith('-') && !l.startsWith('---') ? p('red', l) : l.startsWith('@@') ? p('cyan', l) : l))
          .join('\n');
        out.text(colored);
      }
    }
  }
}
