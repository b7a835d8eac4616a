import {Flags} from '@bcl/core';
import {BclCommand, durationFlag, type ResultWriter} from '@bcl/core';
import {breakGlassFlag, envFlag, followFlags, serverFlags, specArgs} from '../cli/flags.js';
import {environmentOf, environmentSpecs} from '../cli/inputs.js';
import type {RollbackResult} from '@bcl/deploy-core/deploy';

export type {RollbackResult} from '@bcl/deploy-core/deploy';

export default class Rollback extends BclCommand<typeof Rollback> {
  static override summary = 'Re-apply an earlier revision of a service and wait for it.';
  static override description =
    'Without --to, the newest good revision with another image than the one running. The rollback is recorded as a new revision, under the same lease as deploys. Exits 7 when its rollout fails.';
  static override examples = ['<%= config.bin %> rollback --env prod', '<%= config.bin %> rollback --env prod --to 12'];
  static override strict = false;
  static override args = specArgs;
  static override flags = {
    env: envFlag,
    to: Flags.integer({summary: 'The revision to re-apply (see svctl history).', min: 1, helpValue: '<revision>'}),
    timeout: durationFlag({summary: 'How long to wait for the rollout.', default: 300_000, defaultHelp: async () => '5m', helpValue: '<duration>'}),
    'break-glass': breakGlassFlag,
    ...serverFlags,
    ...followFlags,
  };
  static override configFlags = {env: 'svctl.defaultEnv'};

  async run(): Promise<RollbackResult> {
    const {argv} = await this.parse(Rollback);
    const environment = environmentOf(this.ctx);
    const {describeMode, serverSettings} = await import('../remote/settings.js');
    this.ctx.ui.debug(describeMode(this.ctx));
    if (serverSettings(this.ctx)) {
      const {remoteRollback} = await import('../remote/commands.js');
      return remoteRollback(this.ctx, {args: argv as string[], environment, to: this.flags.to, timeoutMs: this.flags.timeout, breakGlass: this.flags['break-glass'], warningsAsErrors: this.flags['warnings-as-errors'], cancelOnInterrupt: this.flags['cancel-on-interrupt']});
    }
    if (this.flags['break-glass'] !== undefined) this.ctx.ui.warn('--break-glass has no effect in direct mode: freezes are svapp\'s deploy policy (svctl.server)');
    const specs = await environmentSpecs(this.ctx, argv as string[], environment);
    const {rollbackFailure, rollbackServices, rollbackTarget} = await import('@bcl/deploy-core/deploy');
    const {reportFailures} = await import('../deploy/report.js');
    const {uiSink} = await import('../cli/events.js');
    const targets = specs.map(rollbackTarget);
    this.ctx.ui.step(`Rolling back ${specs.map((s) => s.name).join(', ')} in ${environment}`);
    const services = await rollbackServices(targets, {environment, timeoutMs: this.flags.timeout, rollback: false, signal: this.ctx.signal, events: uiSink(this.ctx.ui), env: this.ctx.env}, this.flags.to);
    const result = {environment, services};
    const failure = rollbackFailure(result);
    if (!failure) return result;
    reportFailures(this.ctx.ui, services);
    throw failure;
  }

  protected override renderResult(result: RollbackResult, out: ResultWriter): void {
    for (const s of result.services) {
      out.text(`${out.paint('green', '✓')} ${s.service}: revision ${s.revision} re-applied revision ${s.rollback?.toRevision} (${s.image}) in ${(s.durationMs / 1000).toFixed(1)}s`);
    }
  }
}
