import {Args, Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {Issued} from '../core/admin.js';
import {adminFlags, adminFlagValues, configFlagMap, positionalArgs, settingsOf} from '../flags.js';

export default class Approve extends BclCommand<typeof Approve> {
  static override summary = 'Approve requests and issue their certificates (CA admin).';
  static override description =
    'Each certificate is issued per its profile in the store\'s policy: subject and SANs from the request and the policy (never blindly from the CSR), CA:false, lifetime capped by the profile, a random 127-bit serial. All the approvals of one run are one commit. Anything a CSR asked beyond the policy is dropped and reported as a warning.';
  static override examples = ['<%= config.bin %> approve 3f9a1c2b7d --ca-key ~/ca.key', '<%= config.bin %> approve --all --ca-key ~/ca.key --passphrase-env CA_PASSPHRASE --json'];
  static override strict = false;
  static override args = {id: Args.string({description: 'Request ids (or unique prefixes) to approve.'})};
  static override flags = {
    ...adminFlags,
    all: Flags.boolean({summary: 'Approve every pending request.'}),
  };
  static override configFlags = configFlagMap;

  async run(): Promise<Issued[]> {
    const settings = settingsOf(this.ctx);
    const {usesServer} = await import('../core/backend.js');
    const approve = usesServer(this.ctx, settings) ? (await import('../core/server-ops.js')).approveViaServer : (await import('../core/admin.js')).approveRequests;
    const ids = positionalArgs(this.argv, {...Approve.baseFlags, ...Approve.flags});
    const result = await approve(this.ctx, settings, {ids, all: this.flags.all, ...adminFlagValues(this.flags)});
    return result.issued;
  }

  protected override renderResult(rows: Issued[], out: ResultWriter): void {
    out.table(
      rows,
      [
        {header: 'id', get: (r) => r.id},
        {header: 'serial', get: (r) => r.serial},
        {header: 'email', get: (r) => r.email},
        {header: 'profile', get: (r) => r.profile},
        {header: 'not after', get: (r) => r.notAfter},
        {header: 'note', get: (r) => (r.renews ? `renews ${r.renews} (revoked: superseded)` : '')},
      ],
      'Nothing approved.',
    );
  }
}
