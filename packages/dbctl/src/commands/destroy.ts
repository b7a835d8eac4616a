import {Flags} from '@bcl/core';
import {conflict, type ResultWriter} from '@bcl/core';
import {AdminCommand} from '../admin/command.js';
import {lockFlags, specFlags} from '../terraform/flags.js';
import type {ProvisionResult} from '../terraform/flow.js';
import {renderPlan} from '../terraform/summary.js';

export default class Destroy extends AdminCommand<typeof Destroy> {
  static override summary = "Destroy everything the spec provisioned; only when the spec turns deletion protection off, and confirmed.";
  static override description = `Refused (exit 6) while db.yaml has deletionProtection: true (the default), or while the provisioned instance still has deletion protection on (provision the spec with deletionProtection: false first).
Confirm by typing the spec's name when interactive, or with --allow-destroy in CI. Holds the instance's lock, as provision does.`;
  static override examples = ['<%= config.bin %> destroy -f db.yaml', '<%= config.bin %> destroy -f db.yaml --env dev --allow-destroy'];
  static override flags = {
    ...specFlags,
    ...lockFlags,
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
    const {withInstanceLock, prepareWorkDir, planIn, publicPlan, planText, apply} = await import('../terraform/flow.js');
    const {audited} = await import('../audit/record.js');
    const {confirmDestructive} = await import('../safety/confirm.js');
    const input = {ctx: this.ctx, settings: this.settings(), specFile: this.flags.file, env: this.flags.env, lockTimeout: this.flags['lock-timeout']};
    return audited(
      this.auditLog(),
      {as: 'terraform', operation: 'destroy', server: loaded.spec.name, target: {spec: loaded.file, env: loaded.env}},
      () =>
        withInstanceLock(input, 'destroy', async (located) => {
          const result = await planIn(input, await prepareWorkDir(input, located), {destroy: true});
          const shown = publicPlan(result);
          if (result.noChanges) return {...shown, applied: false};
          const protectedNow = (result.priorState?.values?.root_module?.resources ?? []).filter((r) => r.values?.deletion_protection === true);
          if (protectedNow.length > 0) {
            throw conflict('dbctl.deletion_protected', `${protectedNow.map((r) => r.address).join(', ')} still has deletion protection on`, {
              hint: 'Run dbctl provision with deletionProtection: false in the spec first, then dbctl destroy.',
            });
          }
          this.ctx.ui.info(planText(shown));
          await confirmDestructive(this.confirmer(), {
            what: `This destroys ${result.instance} and all its data (${result.counts.delete} resources)`,
            expected: result.instance,
            flag: '--allow-destroy',
            confirmed: this.flags['allow-destroy'],
            code: 'dbctl.destroy_not_confirmed',
            nothingDone: 'nothing was destroyed',
            details: {destructive: result.destructive.map((d) => ({address: d.address, object: d.object}))},
          });
          await apply(this.ctx, result.tf, shown);
          return {...shown, applied: true};
        }),
      (r) => ({server: r.instance, target: {spec: r.spec, env: r.env, deleted: r.counts.delete}}),
    );
  }

  protected override renderResult(result: ProvisionResult, out: ResultWriter): void {
    out.text(renderPlan(result, `${result.applied ? 'Destroyed' : 'Nothing to destroy'}: ${result.instance}`));
  }
}
