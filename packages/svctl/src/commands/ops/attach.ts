import {Args} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {OperationView} from '@bcl/svapp/api';
import {followFlags, serverFlags} from '../../cli/flags.js';

export default class OpsAttach extends BclCommand<typeof OpsAttach> {
  static override allowedBelowMinimumVersion = true;
  static override summary = 'Show an operation from its start and follow it to its end, with its result.';
  static override description = `Replays every event svapp recorded (the same lines the command that started it showed) and follows the rest live, then exits as that command would have: 0 when it succeeded, 7 for a failed rollout, 130 when it was cancelled. Ctrl-C detaches again (or cancels: you are asked on a terminal). Needs svctl.server.`;
  static override examples = ['<%= config.bin %> ops attach 3f1c2a8e-…', '<%= config.bin %> ops attach 3f1c2a8e-… --json'];
  static override args = {id: Args.string({description: 'The operation id (svctl ops list).', required: true})};
  static override flags = {...serverFlags, ...followFlags};

  async run(): Promise<unknown> {
    const {finishOperation, openClient} = await import('../../remote/commands.js');
    const client = await openClient(this.ctx, {warningsAsErrors: this.flags['warnings-as-errors']});
    try {
      const op = await client.request<OperationView>('GET', `/v1/operations/${encodeURIComponent(this.args.id)}`);
      this.ctx.ui.step(`${op.kind} of ${op.services.join(', ')}${op.environment ? ` in ${op.environment}` : ''} by ${op.requester.kind === 'ci' ? `ci:${op.requester.name}` : op.requester.name} (operation ${op.id}, ${op.state})`);
      return await finishOperation(this.ctx, client, op, {warningsAsErrors: false, cancelOnInterrupt: this.flags['cancel-on-interrupt']});
    } finally {
      await client.close();
    }
  }

  protected override renderResult(result: unknown, out: ResultWriter): void {
    const r = result as {services?: {service: string; revision: number | null; image: string; outcome: string}[]; result?: string; number?: number};
    if (r?.services) for (const s of r.services) out.text(`${out.paint('green', '✓')} ${s.service} revision ${s.revision} (${s.image}): ${s.outcome}`);
    else out.value(result);
  }
}
