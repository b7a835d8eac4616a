import {Flags} from '@bcl/core';
import {conflict, type ResultWriter} from '@bcl/core';
import {AdminCommand} from '../admin/command.js';
import {lockFlags, specFlags} from '../terraform/flags.js';
import type {ProvisionResult} from '../terraform/flow.js';

export default class Provision extends AdminCommand<typeof Provision> {
  static override summary = 'Provision the spec: plan, confirm, and apply exactly that saved plan.';
  static override description = `Deleting or replacing an instance, database, schema or role needs an explicit confirmation: typing the spec's name when interactive, --allow-destroy in CI; otherwise dbctl exits 6 listing what would be destroyed, and nothing changes.
Applying needs --yes when not interactive. Progress streams from terraform's -json output.
The run holds the instance's lock from plan to apply: another run waits up to --lock-timeout (default dbctl.terraform.lockTimeout, 60s), then exits 6 naming who holds it and since when. A lock left by a killed run is exit 6 with the command that releases it (dbctl unlock).`;
  static override examples = ['<%= config.bin %> provision -f db.yaml', '<%= config.bin %> provision -f db.yaml --env prod --yes', '<%= config.bin %> provision -f db.yaml --yes --allow-destroy'];
  static override flags = {
    ...specFlags,
    ...lockFlags,
    yes: Flags.boolean({char: 'y', summary: 'Apply without asking (required when not interactive).'}),
    'allow-destroy': Flags.boolean({summary: 'Allow the plan to delete or replace instances, databases, schemas or roles.'}),
  };

  async run(): Promise<ProvisionResult> {
    const {withInstanceLock, prepareWorkDir, planIn, publicPlan, planText, apply} = await import('../terraform/flow.js');
    const {audited} = await import('../audit/record.js');
    const {confirmDestructive} = await import('../safety/confirm.js');
    const input = {ctx: this.ctx, settings: this.settings(), specFile: this.flags.file, env: this.flags.env, lockTimeout: this.flags['lock-timeout']};
    let instance = this.flags.file;
    const target = {spec: this.flags.file, env: this.flags.env};
    return audited(
      this.auditLog(),
      () => ({as: 'terraform', operation: 'provision', server: instance, target}),
      () =>
        withInstanceLock(input, 'provision', async (located) => {
          instance = located.instance;
          const result = await planIn(input, await prepareWorkDir(input, located));
          const shown = publicPlan(result);
          if (result.noChanges) {
            this.ctx.ui.success(`${result.instance} is up to date: no changes`);
            return {...shown, applied: false};
          }
          this.ctx.ui.info(planText(shown));
          if (result.destructive.length > 0) {
            await confirmDestructive(this.confirmer(), {
              what: `This plan will ${result.destructive.map((d) => `${d.action} ${d.object}`).join(', ')}`,
              expected: result.instance,
              flag: '--allow-destroy',
              confirmed: this.flags['allow-destroy'],
              code: 'dbctl.destroy_not_confirmed',
              nothingDone: 'nothing was applied',
              hint: 'Review the plan (dbctl plan), then pass --allow-destroy to confirm; or change the spec.',
              details: {destructive: result.destructive.map((d) => ({address: d.address, action: d.action, object: d.object}))},
            });
          } else if (!this.flags.yes) {
            const ok = await this.ctx.prompt.confirm({message: `Apply these changes to ${result.instance}?`, flag: '--yes'});
            if (!ok) throw conflict('dbctl.not_confirmed', 'not applied');
          }
          await apply(this.ctx, result.tf, shown);
          this.ctx.ui.success(`${result.instance} provisioned`);
          return {...shown, applied: true};
        }),
      (r) => ({server: r.instance, target: {spec: r.spec, env: r.env, ...(r.applied ? r.counts : {changes: 0})}}),
    );
  }

  protected override renderResult(result: ProvisionResult, out: ResultWriter): void {
    const where = `${result.instance} (${result.provider}${result.env ? `, env ${result.env}` : ''})`;
    if (!result.applied) return out.text(`${where}: no changes`);
    // The plan itself was shown before applying; the result is what was done.
    const {create, update, replace, delete: del} = result.counts;
    out.text(`${where}: applied ${create} created, ${update} updated, ${replace} replaced, ${del} deleted`);
  }
}
