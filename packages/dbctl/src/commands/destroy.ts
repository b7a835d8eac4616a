import {Flags} from '@oclif/core';
import {conflict, isBclError, type ResultWriter} from '@bcl/core';
import {AdminCommand} from '../admin/command.js';
import {specFlags} from '../terraform/flags.js';
import type {ProvisionResult} from '../terraform/flow.js';
import {renderPlan} from '../terraform/summary.js';

export default class Destroy extends AdminCommand<typeof Destroy> {
  static override summary = "Destroy everything the spec provisioned; only when the spec turns deletion protection off, and confirmed.";
  static override description = `Refused (exit 6) while db.yaml has deletionProtection: true (the default), or while the provisioned instance still has deletion protection on (provision the spec with deletionProtection: false first).
Confirm by typing the spec's name when interactive, or with --allow-destroy in CI.`;
  static override examples = ['<%= config.bin %> destroy -f db.yaml', '<%= config.bin %> destroy -f db.yaml --env dev --allow-destroy'];
  static override flags = {
    ...specFlags,
    'allow-destroy': Flags.boolean({summary: 'Confirm the destruction without a prompt (required when not interactive).'}),
  };

  async run(): Promise<ProvisionResult> {
    const {loadSpec} = await import('../spec/load.js');
    const loaded = loadSpec(this.flags.file, this.flags.env);
    if (loaded.spec.deletionProtection) {
      throw conflict('dbctl.deletion_protected', `${loaded.file}: deletionProtection is on${loaded.env ? ` (env ${loaded.env})` : ''}; nothing was destroyed`, {
        hint: 'Set deletionProtection: false in the spec and run dbctl provision, then dbctl destroy.',
        details: {file: loaded.file},
      });
    }
    const {plan, publicPlan, planText, apply} = await import('../terraform/flow.js');
    const audit = this.auditLog();
    try {
      const result = await plan({ctx: this.ctx, settings: this.settings(), specFile: this.flags.file, env: this.flags.env}, {destroy: true});
      const shown = publicPlan(result);
      if (result.noChanges) return {...shown, applied: false};
      const protectedNow = (result.priorState?.values?.root_module?.resources ?? []).filter((r) => r.values?.deletion_protection === true);
      if (protectedNow.length > 0) {
        throw conflict('dbctl.deletion_protected', `${protectedNow.map((r) => r.address).join(', ')} still has deletion protection on`, {
          hint: 'Run dbctl provision with deletionProtection: false in the spec first, then dbctl destroy.',
        });
      }
      this.ctx.ui.info(planText(shown));
      if (!this.flags['allow-destroy']) {
        if (!this.ctx.interactive) {
          throw conflict('dbctl.destroy_not_confirmed', `destroying ${result.instance} (${result.counts.delete} resources) was not confirmed; nothing was destroyed`, {
            hint: 'Pass --allow-destroy to confirm.',
            details: {destructive: result.destructive.map((d) => ({address: d.address, object: d.object}))},
          });
        }
        const ok = await this.ctx.prompt.typeToConfirm({message: `This destroys ${result.instance} and all its data.`, expected: result.instance, flag: '--allow-destroy'});
        if (!ok) throw conflict('dbctl.destroy_not_confirmed', 'the name typed did not match; nothing was destroyed');
      }
      await apply(this.ctx, result.tf, shown);
      audit.append({as: 'terraform', operation: 'destroy', server: result.instance, target: {spec: result.spec, env: result.env, deleted: result.counts.delete}, outcome: 'ok'}, this.ctx.env);
      return {...shown, applied: true};
    } catch (error) {
      audit.append({as: 'terraform', operation: 'destroy', server: loaded.spec.name, target: {spec: loaded.file, env: loaded.env}, outcome: 'failed', error: isBclError(error) ? error.code : 'unexpected'}, this.ctx.env);
      throw error;
    }
  }

  protected override renderResult(result: ProvisionResult, out: ResultWriter): void {
    out.text(renderPlan(result, `${result.applied ? 'Destroyed' : 'Nothing to destroy'}: ${result.instance}`));
  }
}
