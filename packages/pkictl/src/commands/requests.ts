import {Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {RequestSummary} from '../core/request.js';
import {settingsOf, storeConfigFlags, storeFlags} from '../flags.js';

export default class Requests extends BclCommand<typeof Requests> {
  // Changes nothing: still runs on an installed version below its channel's minimumVersion.
  static override allowedBelowMinimumVersion = true;
  static override summary = 'List certificate requests in the store (default: those waiting for approval).';
  static override examples = ['<%= config.bin %> requests', '<%= config.bin %> requests --status all --json'];
  static override flags = {
    ...storeFlags,
    status: Flags.string({summary: 'Which requests.', options: ['pending', 'issued', 'rejected', 'all'], default: 'pending'}),
  };
  static override configFlags = storeConfigFlags;

  async run(): Promise<RequestSummary[]> {
    const settings = settingsOf(this.ctx);
    const {usesServer} = await import('../core/backend.js');
    const list = usesServer(this.ctx, settings) ? (await import('../core/server-ops.js')).requestsViaServer : (await import('../core/request.js')).listRequests;
    return list(this.ctx, settings, {status: this.flags.status as 'pending'});
  }

  protected override renderResult(rows: RequestSummary[], out: ResultWriter): void {
    out.table(
      rows,
      [
        {header: 'id', get: (r) => r.id},
        {header: 'status', get: (r) => r.status},
        {header: 'email', get: (r) => r.email},
        {header: 'name', get: (r) => (r.name === r.email ? '' : r.name)},
        {header: 'profile', get: (r) => r.profile},
        {header: 'key', get: (r) => r.keyType},
        {header: 'requested', get: (r) => r.requestedAt},
        {header: 'note', get: (r) => [r.renews ? `renews ${r.renews}` : '', r.sans.join(' '), r.serial ?? '', r.reason ?? ''].filter(Boolean).join('; ')},
      ],
      `No ${this.flags.status === 'all' ? '' : `${this.flags.status} `}requests.`,
    );
  }
}
