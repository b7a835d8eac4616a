import {Args, Flags} from '@bcl/core';
import type {ResultWriter} from '@bcl/core';
import {AdminCommand} from '../admin/command.js';
import type {UnlockResult} from '../terraform/unlock.js';

export default class Unlock extends AdminCommand<typeof Unlock> {
  static override summary = "Release an instance's lock left by a run that was killed (asks to type the instance's name; --yes in CI).";
  static override description = `A run that dies holding the lock (kill -9, a lost machine) leaves it behind on purpose: the next run exits 6 naming the holder and this command, so that a person checks what the dead run had applied first. The lock id must match the one reported; a lock whose holder still runs is refused (exit 6). With the gcs and s3 backends it also releases Terraform's own lock of that id (terraform force-unlock).`;
  static override examples = ['<%= config.bin %> unlock shop-prod --lock-id 0b6f0d7e-3d4c-4a51-9a0e-4b1c2a9d7f10', '<%= config.bin %> unlock shop --lock-id <id> --yes'];
  static override args = {instance: Args.string({description: 'The instance: the spec name, or <name>-<env>.', required: true})};
  static override flags = {
    'lock-id': Flags.string({summary: 'The id of the lock to release, as the refused run reported it.', required: true}),
    yes: Flags.boolean({char: 'y', summary: 'Confirm without a prompt (required when not interactive).'}),
  };

  async run(): Promise<UnlockResult> {
    const {unlockInstance} = await import('../terraform/unlock.js');
    return unlockInstance({ctx: this.ctx, settings: this.settings(), instance: this.args.instance, lockId: this.flags['lock-id'], yes: this.flags.yes, confirmer: this.confirmer(), audit: this.auditLog()});
  }

  protected override renderResult(result: UnlockResult, out: ResultWriter): void {
    out.text(result.released ? `${result.instance}: released lock ${result.lockId}${result.lock ? ` of ${result.lock.who} (${result.lock.operation}, since ${result.lock.created})` : ''}` : `${result.instance} is not locked`);
  }
}
