import type {ResultWriter} from '@bcl/core';
import {AdminCommand} from '../admin/command.js';
import {lockFlags, specFlags} from '../terraform/flags.js';
import type {PlanResult} from '../terraform/flow.js';
import {renderPlan} from '../terraform/summary.js';

export default class Plan extends AdminCommand<typeof Plan> {
  // Changes nothing: still runs on an installed version below its channel's minimumVersion.
  static override allowedBelowMinimumVersion = true;
  static override summary = 'Show what provisioning the spec would change: terraform init, plan to a file, and a readable summary.';
  static override description = `Generates Terraform JSON from db.yaml into a work directory per database and environment ($XDG_STATE_HOME/bcl/dbctl/work/<name>[-<env>]), then runs terraform init (when providers or backend changed), terraform plan -out, and, when the plan changes something, terraform show -json of that plan.
The summary lists creates, updates, replaces (with the attribute that forces each) and deletes, and drift found outside Terraform. Sensitive values are masked. dbctl provision applies exactly such a plan.
A plan holds the instance's lock (as provision does): another run on the same instance waits up to --lock-timeout, then exits 6 naming the holder.`;
  static override examples = ['<%= config.bin %> plan -f db.yaml', '<%= config.bin %> plan -f db.yaml --env prod --json'];
  static override flags = {...specFlags, ...lockFlags};

  async run(): Promise<PlanResult> {
    const {withInstanceLock, prepareWorkDir, planIn, publicPlan} = await import('../terraform/flow.js');
    const input = {ctx: this.ctx, settings: this.settings(), specFile: this.flags.file, env: this.flags.env, lockTimeout: this.flags['lock-timeout']};
    return withInstanceLock(input, 'plan', async (located) => publicPlan(await planIn(input, await prepareWorkDir(input, located))));
  }

  protected override renderResult(result: PlanResult, out: ResultWriter): void {
    out.text(renderPlan(result, `Plan for ${result.instance} (${result.provider}${result.env ? `, env ${result.env}` : ''})`));
  }
}
