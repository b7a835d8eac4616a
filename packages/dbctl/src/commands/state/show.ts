import {Args} from '@bcl/core';
import type {ResultWriter} from '@bcl/core';
import {AdminCommand} from '../../admin/command.js';
import {specFlags} from '../../terraform/flags.js';
import type {StateResource} from '../../terraform/state.js';

export default class StateShow extends AdminCommand<typeof StateShow> {
  // Changes nothing: still runs on an installed version below its channel's minimumVersion.
  static override allowedBelowMinimumVersion = true;
  static override summary = 'Show one resource of the instance\'s Terraform state, sensitive values masked.';
  static override examples = ['<%= config.bin %> state show -f db.yaml postgresql_role.app', '<%= config.bin %> state show -f db.yaml postgresql_database.shop --json'];
  static override args = {address: Args.string({description: 'The resource address, as dbctl state list shows it.', required: true})};
  static override flags = {...specFlags};

  async run(): Promise<StateResource & {instance: string}> {
    const {stateShow} = await import('../../terraform/state.js');
    return stateShow({ctx: this.ctx, settings: this.settings(), specFile: this.flags.file, env: this.flags.env}, this.args.address);
  }

  protected override renderResult(result: StateResource & {instance: string}, out: ResultWriter): void {
    out.keyValue({
      address: result.address,
      object: result.object,
      ...Object.fromEntries(Object.entries(result.values ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])),
    });
  }
}
