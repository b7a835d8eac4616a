import {Args, Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import {serverFlags} from '../cli/flags.js';

export interface CanIResult {
  allowed: boolean;
  decision: {outcome: string; code: string; message: string; decidedBy: unknown; [key: string]: unknown};
  rules: {id: string; effect: string; role: string; why: string; [key: string]: unknown}[];
  freezes: {environment: string; id: string; open: boolean; why: string; [key: string]: unknown}[];
  text: string;
}

export default class CanI extends BclCommand<typeof CanI> {
  static override allowedBelowMinimumVersion = true;
  static override summary = 'Ask svapp whether you (or, for admins, someone else) may do something, and why.';
  static override description = `Prints the decision of svapp's deploy policy and, rule by rule, why each rule matched or not, and the environment's freezes: the same function that decides real requests, so the two cannot disagree. The service's team is the one svapp's catalog has. Exit 0 whatever the answer (it is in the result: "allowed"); 4 when you may not ask as someone else. Needs svctl.server.`;
  static override examples = [
    '<%= config.bin %> can-i deploy payments-api --env prod',
    '<%= config.bin %> can-i deploy payments-api --env prod --as ann@example.com',
    '<%= config.bin %> can-i rollback payments-api --env prod --break-glass "INC-4711" --json',
  ];
  static override args = {
    action: Args.string({description: 'What: deploy, rollback, cancel, read or build.', required: true, options: ['deploy', 'rollback', 'cancel', 'read', 'build']}),
    service: Args.string({description: 'The service (as its spec names it).', required: true}),
  };
  static override flags = {
    env: Flags.string({char: 'e', summary: 'The environment (a build may name none).', helpValue: '<env>'}),
    as: Flags.string({summary: 'Ask for another identity: an email, or ci:<name> (members of an admins group).'}),
    'break-glass': Flags.string({summary: 'Ask as if breaking a freeze with this reason.', helpValue: '<reason>'}),
    ...serverFlags,
  };

  async run(): Promise<CanIResult> {
    const {openClient} = await import('../remote/commands.js');
    const client = await openClient(this.ctx, {warningsAsErrors: this.flags['warnings-as-errors']});
    try {
      await client.require('can-i', 'svctl can-i');
      const body = {
        action: this.args.action,
        service: this.args.service,
        ...(this.flags.env ? {environment: this.flags.env} : {}),
        ...(this.flags.as ? {as: this.flags.as} : {}),
        ...(this.flags['break-glass'] ? {breakGlassReason: this.flags['break-glass']} : {}),
      };
      const r = await client.request<CanIResult & {warnings?: unknown; asker?: unknown}>('POST', '/v1/can-i', body, 'svctl can-i');
      return {allowed: r.decision.outcome === 'allowed', decision: r.decision, rules: r.rules, freezes: r.freezes, text: r.text};
    } finally {
      await client.close();
    }
  }

  protected override renderResult(result: CanIResult, out: ResultWriter): void {
    out.text(result.text);
  }
}
