import {Args} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {ShowResult} from '../core/certs.js';
import {settingsOf, storeConfigFlags, storeFlags} from '../flags.js';

export default class Show extends BclCommand<typeof Show> {
  // Changes nothing: still runs on an installed version below its channel's minimumVersion.
  static override allowedBelowMinimumVersion = true;
  static override summary = 'Show one certificate: status, subject, names, usages, and where it is on this machine.';
  static override examples = ['<%= config.bin %> show 4F3A0B...', '<%= config.bin %> show 4f3a0b... --json'];
  static override args = {serial: Args.string({description: 'The serial, in hex as openssl prints it (either case).', required: true})};
  static override flags = {...storeFlags};
  static override configFlags = storeConfigFlags;

  async run(): Promise<ShowResult> {
    const {parseSerialArg} = await import('../store/pki.js');
    const settings = settingsOf(this.ctx);
    const {usesServer} = await import('../core/backend.js');
    const show = usesServer(this.ctx, settings) ? (await import('../core/server-ops.js')).showViaServer : (await import('../core/certs.js')).showCertificate;
    return show(this.ctx, settings, {serial: parseSerialArg(this.args.serial)});
  }

  protected override renderResult(r: ShowResult, out: ResultWriter): void {
    const c = r.certificate;
    out.keyValue({
      serial: r.serial,
      status: r.status + (r.revokedAt ? ` (${r.reason}, ${r.revokedAt})` : ''),
      subject: c.subject,
      issuer: c.issuer,
      names: c.sans.join(', '),
      profile: r.profile,
      'key usage': [...c.keyUsage, ...c.extendedKeyUsage].join(', '),
      key: c.keyType,
      'not before': r.notBefore,
      'not after': r.notAfter,
      'approved by': `${r.approvedBy} (${r.issuedAt})`,
      request: r.requestId,
      ...(r.renews ? {renews: r.renews} : {}),
      ...(r.supersededBy ? {'superseded by': r.supersededBy} : {}),
      'SHA-256': c.sha256Fingerprint,
      ...(r.local ? {'on this machine': r.local.certPath} : {}),
    });
  }
}
