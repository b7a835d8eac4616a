import {Args} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {OperationView} from '@bcl/svapp/api';
import {serverFlags} from '../../cli/flags.js';

export default class OpsApprove extends BclCommand<typeof OpsApprove> {
  static override summary = "Approve another person's operation that waits for approval.";
  static override description = 'The request is decided again under the policy in force now; the approver must be a person of an approving group, not the requester. The requester sees the approval live and the operation starts. Exit 4 when you may not approve, naming why. Needs svctl.server.';
  static override examples = ['<%= config.bin %> ops approve 3f1c2a8e-…'];
  static override args = {id: Args.string({description: 'The operation id (svctl ops list --state waiting-approval).', required: true})};
  static override flags = {...serverFlags};

  async run(): Promise<OperationView> {
    const {openClient} = await import('../../remote/commands.js');
    const client = await openClient(this.ctx, {warningsAsErrors: this.flags['warnings-as-errors']});
    try {
      await client.require('approvals', 'svctl ops approve');
      const {warnings: _w, ...op} = await client.request<OperationView & {warnings?: unknown}>('POST', `/v1/operations/${encodeURIComponent(this.args.id)}/approve`, {});
      return op;
    } finally {
      await client.close();
    }
  }

  protected override renderResult(op: OperationView, out: ResultWriter): void {
    out.text(`${out.paint('green', '✓')} approved ${op.kind} ${op.id} of ${op.services.join(', ')}${op.environment ? ` in ${op.environment}` : ''} by ${op.requester.name}: ${op.state}`);
  }
}
