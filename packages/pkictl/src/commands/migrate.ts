import {BclCommand, Flags, type ResultWriter} from '@bcl/core';
import type {MigrateResult} from '../core/migrate.js';
import {caFingerprintFlag, settingsOf} from '../flags.js';

export default class Migrate extends BclCommand<typeof Migrate> {
  static override summary = 'Move a Git store\'s PKI to a PKI server: its policy, and every certificate with its serial and status.';
  static override description =
    'The server must already run with the store\'s CA (its ca.certificate and ca.key); you must be signed in to it as a PKI admin (`pkictl login --server <url>`). The store is read as always (CA pinned, signatures checked), the server checks every certificate against its CA, and afterwards its CRL must list the same revocations as the store, which is checked. Running it again changes nothing. Requests still waiting in the store are not moved. Then set pkictl.server for everyone.';
  static override examples = ['<%= config.bin %> migrate --from-store git@git.example.com:it/pki.git --to https://pki.example.com'];
  static override flags = {
    'from-store': Flags.string({summary: 'The Git store to migrate (a path or git URL).', required: true}),
    to: Flags.string({summary: 'The PKI server\'s URL.', required: true}),
    'ca-fingerprint': caFingerprintFlag,
  };
  static override configFlags = {'ca-fingerprint': 'pkictl.caFingerprint'};

  async run(): Promise<MigrateResult> {
    const {migrate} = await import('../core/migrate.js');
    return migrate(this.ctx, settingsOf(this.ctx), {fromStore: this.flags['from-store'], to: this.flags.to});
  }

  protected override renderResult(r: MigrateResult, out: ResultWriter): void {
    out.keyValue({
      from: r.store,
      to: r.server,
      certificates: `${r.certificates} (${r.valid} valid, ${r.revoked} revoked of which ${r.superseded} superseded; ${r.imported} imported, ${r.unchanged} already there)`,
      policy: `version ${r.policyVersion}`,
      CRL: `number ${r.crlNumber}, ${r.crlMatches ? 'lists the same revocations as the store' : 'lists more than the store'}`,
      ...(r.pendingRequestsLeft.length ? {'not moved': `${r.pendingRequestsLeft.length} pending request(s): ${r.pendingRequestsLeft.join(', ')}`} : {}),
    });
    this.ctx.ui.info(`Next: everyone sets \`bcl config set pkictl.server ${r.server}\` and signs in with \`pkictl login\`.`);
  }
}
