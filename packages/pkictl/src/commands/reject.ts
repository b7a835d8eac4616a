import {Args, Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {RejectResult} from '../core/admin.js';
import {adminFlags, adminFlagValues, configFlagMap, settingsOf} from '../flags.js';

export default class Reject extends BclCommand<typeof Reject> {
  static override summary = 'Reject a request, with a reason the requester sees (CA admin).';
  static override description = 'A request whose files are corrupt can always be rejected: that is how it leaves the queue.';
  static override examples = ['<%= config.bin %> reject 3f9a1c2b7d --reason "use your company address" --ca-key ~/ca.key'];
  static override args = {id: Args.string({description: 'The request id (or a unique prefix).', required: true})};
  static override flags = {
    ...adminFlags,
    reason: Flags.string({summary: 'Why the request is rejected.', required: true}),
  };
  static override configFlags = configFlagMap;

  async run(): Promise<RejectResult> {
    const settings = settingsOf(this.ctx);
    const {usesServer} = await import('../core/backend.js');
    const reject = usesServer(this.ctx, settings) ? (await import('../core/server-ops.js')).rejectViaServer : (await import('../core/admin.js')).rejectRequest;
    return reject(this.ctx, settings, {id: this.args.id, reason: this.flags.reason, ...adminFlagValues(this.flags)});
  }

  protected override renderResult(r: RejectResult, out: ResultWriter): void {
    out.keyValue({id: r.id, status: r.status, reason: r.reason});
  }
}
