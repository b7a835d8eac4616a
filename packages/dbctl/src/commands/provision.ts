import {Flags} from '@oclif/core';
import {conflict, isBclError, type ResultWriter} from '@bcl/core';
import {AdminCommand} from '../admin/command.js';
import {specFlags} from '../terraform/flags.js';
import type {ProvisionResult} from '../terraform/flow.js';

export default class Provision extends AdminCommand<typeof Provision> {
  static override summary = 'Provision the spec: plan, confirm, and apply exactly that saved plan.';
  static override description = `Deleting or replacing an instance, database, schema or role needs an explicit confirmation: typing the spec's name when interactive, --allow-destroy in CI; otherwise dbctl exits 6 listing what would be destroyed, and nothing changes.
Applying needs --yes when not interactive. Progress streams from terraform's -json output. A state lock held by another run exits 6 naming its holder.`;
  static override examples = ['<%= config.bin %> provision -f db.yaml', '<%= config.bin %> provision -f db.yaml --env prod --yes', '<%= config.bin %> provision -f db.yaml --yes --allow-destroy'];
  static override flags = {
    ...specFlags,
    yes: Flags.boolean({char: 'y', summary: 'Apply without asking (required when not interactive).'}),
    'allow-destroy': Flags.boolean({summary: 'Allow the plan to delete or replace instances, databases, schemas or roles.'}),
  };

  async run(): Promise<ProvisionResult> {
    const {plan, publicPlan, planText, apply} = await import('../terraform/flow.js');
    const audit = this.auditLog();
    let instance = this.flags.file;
    try {
      const result = await plan({ctx: this.ctx, settings: this.settings(), specFile: this.flags.file, env: this.flags.env});
      instance = result.instance;
      const shown = publicPlan(result);
      if (result.noChanges) {
        this.ctx.ui.success(`${result.instance} is up to date: no changes`);
        audit.append({as: 'terraform', operation: 'provision', server: result.instance, target: {spec: result.spec, env: result.env, changes: 0}, outcome: 'ok'}, this.ctx.env);
        return {...shown, applied: false};
      }
      this.ctx.ui.info(planText(shown));
      if (result.destructive.length > 0 && !this.flags['allow-destroy']) {
        const what = result.destructive.map((d) => `${d.action} ${d.object}`).join(', ');
        if (!this.ctx.interactive) {
          throw conflict('dbctl.destroy_not_confirmed', `the plan would ${what}; nothing was applied`, {
            hint: 'Review the plan (dbctl plan), then pass --allow-destroy to confirm; or change the spec.',
            details: {destructive: result.destructive.map((d) => ({address: d.address, action: d.action, object: d.object}))},
          });
        }
        const ok = await this.ctx.prompt.typeToConfirm({message: `This plan will ${what}.`, expected: result.instance, flag: '--allow-destroy'});
        if (!ok) throw conflict('dbctl.destroy_not_confirmed', 'the name typed did not match; nothing was applied');
      } else if (!this.flags.yes) {
        const ok = await this.ctx.prompt.confirm({message: `Apply these changes to ${result.instance}?`, flag: '--yes'});
        if (!ok) throw conflict('dbctl.not_confirmed', 'not applied');
      }
      await apply(this.ctx, result.tf, shown);
      this.ctx.ui.success(`${result.instance} provisioned`);
      audit.append({as: 'terraform', operation: 'provision', server: result.instance, target: {spec: result.spec, env: result.env, ...result.counts}, outcome: 'ok'}, this.ctx.env);
      return {...shown, applied: true};
    } catch (error) {
      audit.append({as: 'terraform', operation: 'provision', server: instance, target: {spec: this.flags.file, env: this.flags.env}, outcome: 'failed', error: isBclError(error) ? error.code : 'unexpected'}, this.ctx.env);
      throw error;
    }
  }

  protected override renderResult(result: ProvisionResult, out: ResultWriter): void {
    const where = `${result.instance} (${result.provider}${result.env ? `, env ${result.env}` : ''})`;
    if (!result.applied) return out.text(`${where}: no changes`);
    // The plan itself was shown before applying; the result is what was done.
    const {create, update, replace, delete: del} = result.counts;
    out.text(`${where}: applied ${create} created, ${update} updated, ${replace} replaced, ${del} deleted`);
  }
}
