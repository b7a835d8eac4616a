import {Args, Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {RevokeResult} from '../core/admin.js';
import {adminFlags, adminFlagValues, configFlagMap, CRL_REASON_NAMES, settingsOf} from '../flags.js';

export default class Revoke extends BclCommand<typeof Revoke> {
  static override summary = 'Revoke a certificate; the new CRL is published (server: yours, or anyone\'s as an admin; store: CA admin).';
  static override examples = ['<%= config.bin %> revoke 4F3A0B... --reason keyCompromise --ca-key ~/ca.key'];
  static override args = {serial: Args.string({description: 'The serial, in hex as openssl prints it (either case).', required: true})};
  static override flags = {
    ...adminFlags,
    reason: Flags.string({summary: 'The RFC 5280 reason.', options: [...CRL_REASON_NAMES], required: true}),
  };
  static override configFlags = configFlagMap;

  async run(): Promise<RevokeResult> {
    const {parseSerialArg} = await import('../store/pki.js');
    const settings = settingsOf(this.ctx);
    const {usesServer} = await import('../core/backend.js');
    const revoke = usesServer(this.ctx, settings) ? (await import('../core/server-ops.js')).revokeViaServer : (await import('../core/admin.js')).revokeCertificate;
    return revoke(this.ctx, settings, {serial: parseSerialArg(this.args.serial), reason: this.flags.reason as RevokeResult['reason'], ...adminFlagValues(this.flags)});
  }

  protected override renderResult(r: RevokeResult, out: ResultWriter): void {
    out.keyValue({serial: r.serial, status: r.status, reason: r.reason, 'revoked at': r.revokedAt, CRL: `number ${r.crlNumber}, next update ${r.nextUpdate}`});
  }
}
