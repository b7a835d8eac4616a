import {Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {OperationView} from '@bcl/svapp/api';
import {serverFlags} from '../../cli/flags.js';

export interface OpsListResult {
  operations: OperationView[];
  /** Operations the policy does not let you read (not shown). */
  hidden: number;
}

export default class OpsList extends BclCommand<typeof OpsList> {
  static override allowedBelowMinimumVersion = true;
  static override summary = 'List the operations svapp knows (deploys, rollbacks, builds), newest first.';
  static override description = 'Only operations the deploy policy lets you read are listed. Needs svctl.server.';
  static override examples = ['<%= config.bin %> ops list', '<%= config.bin %> ops list --env prod --open', '<%= config.bin %> ops list --service hello --json'];
  static override flags = {
    env: Flags.string({char: 'e', summary: 'Only operations in this environment.', helpValue: '<env>'}),
    service: Flags.string({summary: 'Only operations of this service.'}),
    state: Flags.string({summary: 'Only operations in this state.', options: ['waiting-approval', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'rejected']}),
    open: Flags.boolean({summary: 'Only operations that have not finished.'}),
    limit: Flags.integer({summary: 'At most this many.', default: 20, min: 1, max: 200}),
    ...serverFlags,
  };

  async run(): Promise<OpsListResult> {
    const {openClient} = await import('../../remote/commands.js');
    const client = await openClient(this.ctx, {warningsAsErrors: this.flags['warnings-as-errors']});
    try {
      await client.require('operations', 'svctl ops list');
      const q = new URLSearchParams({limit: String(this.flags.limit), ...(this.flags.env ? {environment: this.flags.env} : {}), ...(this.flags.service ? {service: this.flags.service} : {}), ...(this.flags.state ? {state: this.flags.state} : {}), ...(this.flags.open ? {open: 'true'} : {})});
      const {operations, hidden} = await client.request<OpsListResult>('GET', `/v1/operations?${q}`);
      return {operations, hidden};
    } finally {
      await client.close();
    }
  }

  protected override renderResult(result: OpsListResult, out: ResultWriter): void {
    out.table(
      result.operations,
      [
        {header: 'ID', get: (o) => o.id},
        {header: 'KIND', get: (o) => o.kind},
        {header: 'STATE', get: (o) => o.state},
        {header: 'SERVICES', get: (o) => o.services.join(',')},
        {header: 'ENV', get: (o) => o.environment ?? ''},
        {header: 'BY', get: (o) => (o.requester.kind === 'ci' ? `ci:${o.requester.name}` : o.requester.name)},
        {header: 'CREATED', get: (o) => o.createdAt.replace(/\.\d+Z$/, 'Z')},
      ],
      'no operations',
    );
    if (result.hidden > 0) out.text(`(${result.hidden} more the deploy policy does not let you read)`);
  }
}
