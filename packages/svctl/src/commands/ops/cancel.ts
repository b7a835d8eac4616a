import {Args, Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {OperationView} from '@bcl/svapp/api';
import {serverFlags} from '../../cli/flags.js';

export default class OpsCancel extends BclCommand<typeof OpsCancel> {
  static override summary = 'Cancel an operation in svapp: a running deploy stops between objects and records what it applied.';
  static override description = 'Waits until the operation has stopped (--no-wait: returns once svapp has the request). Needs svctl.server; the deploy policy decides who may cancel.';
  static override examples = ['<%= config.bin %> ops cancel 3f1c2a8e-…'];
  static override args = {id: Args.string({description: 'The operation id (svctl ops list).', required: true})};
  static override flags = {wait: Flags.boolean({summary: 'Wait until the operation has stopped.', default: true, allowNo: true}), ...serverFlags};

  async run(): Promise<OperationView> {
    const {openClient} = await import('../../remote/commands.js');
    const client = await openClient(this.ctx, {warningsAsErrors: this.flags['warnings-as-errors']});
    try {
      await client.require('cancel', 'svctl ops cancel');
      let op = await client.request<OperationView>('POST', `/v1/operations/${encodeURIComponent(this.args.id)}/cancel`, {});
      const {FINISHED_STATES} = await import('@bcl/svapp/api');
      while (this.flags.wait && !FINISHED_STATES.includes(op.state) && !this.ctx.signal.aborted) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        op = await client.request<OperationView>('GET', `/v1/operations/${encodeURIComponent(this.args.id)}`);
      }
      const {warnings: _w, ...view} = op as OperationView & {warnings?: unknown};
      return view as OperationView;
    } finally {
      await client.close();
    }
  }

  protected override renderResult(op: OperationView, out: ResultWriter): void {
    out.text(`${op.kind} ${op.id} of ${op.services.join(', ')}: ${op.state}`);
  }
}
