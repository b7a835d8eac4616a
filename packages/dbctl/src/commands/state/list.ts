import type {ResultWriter} from '@bcl/core';
import {AdminCommand} from '../../admin/command.js';
import {specFlags} from '../../terraform/flags.js';
import type {StateListResult} from '../../terraform/state.js';

export default class StateList extends AdminCommand<typeof StateList> {
  // Changes nothing: still runs on an installed version below its channel's minimumVersion.
  static override allowedBelowMinimumVersion = true;
  static override summary = "List the resources dbctl manages for the spec's instance, from its Terraform state.";
  static override description = 'Reads the state (terraform show -json) wherever dbctl.backend keeps it; takes no lock and changes nothing.';
  static override examples = ['<%= config.bin %> state list -f db.yaml', '<%= config.bin %> state list -f db.yaml --env prod --json'];
  static override flags = {...specFlags};

  async run(): Promise<StateListResult> {
    const {stateList} = await import('../../terraform/state.js');
    return stateList({ctx: this.ctx, settings: this.settings(), specFile: this.flags.file, env: this.flags.env});
  }

  protected override renderResult(result: StateListResult, out: ResultWriter): void {
    out.table(result.resources, [
      {header: 'address', get: (r) => r.address},
      {header: 'object', get: (r) => r.object},
    ], `(no resources in ${result.state})`);
  }
}
