import {Args, Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {OperationView} from '@bcl/svapp/api';
import {serverFlags} from '../../cli/flags.js';

export default class OpsReject extends BclCommand<typeof OpsReject> {
  static override summary = 'Reject an operation that waits for approval (or, as its requester, withdraw it).';
  static override description = 'Members of an approving group may reject; the requester may withdraw. Nothing of it is done. Needs svctl.server.';
  static override examples = ['<%= config.bin %> ops reject 3f1c2a8e-… --reason "not during the sale"'];
  static override args = {id: Args.string({description: 'The operation id.', required: true})};
  static override flags = {reason: Flags.string({summary: 'Why (shown to the requester, audited).'}), ...serverFlags};

  async run(): Promise<OperationView> {
    const {openClient} = await import('../../remote/commands.js');
    const client = await openClient(this.ctx, {warningsAsErrors: this.flags['warnings-as-errors']});
    try {
      await client.require('approvals', 'svctl ops reject');
      const {warnings: _w, ...op} = await client.request<OperationView & {warnings?: unknown}>('POST', `/v1/operations/${encodeURIComponent(this.args.id)}/reject`, this.flags.reason ? {reason: this.flags.reason} : {});
      return op;
    } finally {
      await client.close();
    }
  }

  protected override renderResult(op: OperationView, out: ResultWriter): void {
    out.text(`${op.kind} ${op.id} of ${op.services.join(', ')}: ${op.state}`);
  }
}
