import {Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {CertSummary} from '../core/certs.js';
import {settingsOf, storeConfigFlags, storeFlags} from '../flags.js';

export default class List extends BclCommand<typeof List> {
  // Changes nothing: still runs on an installed version below its channel's minimumVersion.
  static override allowedBelowMinimumVersion = true;
  static override summary = 'List issued certificates with their status.';
  static override examples = ['<%= config.bin %> list', '<%= config.bin %> list --status revoked --json', '<%= config.bin %> list --email ann@example.com'];
  static override flags = {
    ...storeFlags,
    status: Flags.string({summary: 'Only certificates with this status.', options: ['valid', 'revoked', 'expired']}),
    email: Flags.string({summary: 'Only certificates of this email.'}),
  };
  static override configFlags = storeConfigFlags;

  async run(): Promise<CertSummary[]> {
    const settings = settingsOf(this.ctx);
    const {usesServer} = await import('../core/backend.js');
    const list = usesServer(this.ctx, settings) ? (await import('../core/server-ops.js')).listViaServer : (await import('../core/certs.js')).listCertificates;
    return list(this.ctx, settings, {status: this.flags.status as CertSummary['status'] | undefined, email: this.flags.email});
  }

  protected override renderResult(rows: CertSummary[], out: ResultWriter): void {
    out.table(
      rows,
      [
        {header: 'serial', get: (r) => r.serial},
        {header: 'email', get: (r) => r.email},
        {header: 'profile', get: (r) => r.profile},
        {header: 'status', get: (r) => out.paint(r.status === 'valid' ? 'green' : r.status === 'revoked' ? 'red' : 'yellow', r.status)},
        {header: 'not before', get: (r) => r.notBefore},
        {header: 'not after', get: (r) => r.notAfter},
      ],
      'No certificates.',
    );
  }
}
