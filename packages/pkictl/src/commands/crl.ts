import {Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {CrlResult} from '../core/admin.js';
import {adminFlags, adminFlagValues, configFlagMap, settingsOf} from '../flags.js';

export default class Crl extends BclCommand<typeof Crl> {
  static override summary = 'Get the CRL; with the CA key, sign and publish a fresh one first.';
  static override description =
    'With --ca-key (or pkictl.caKey), signs a new CRL (with nextUpdate from the policy\'s crlValidityDays) and publishes it in the store as crl/crl.pem; run it before nextUpdate (e.g. daily from CI). Without, returns the published CRL after checking its signature. With --root (CAs with an intermediate), the root\'s CRL (crl/root.pem, valid for the policy\'s rootCrlValidityDays), signed anew with --root-key. Without --out, the PEM goes to stdout.';
  static override examples = [
    '<%= config.bin %> crl --out crl.pem',
    '<%= config.bin %> crl --ca-key ~/ca.key --passphrase-env CA_PASSPHRASE --out /srv/www/crl.pem',
    '<%= config.bin %> crl --root --root-key /media/offline/root.key --out /srv/www/root.crl',
  ];
  static override flags = {
    ...adminFlags,
    out: Flags.string({summary: 'Write the CRL (PEM) to this file.'}),
    root: Flags.boolean({summary: 'The root\'s CRL (it lists revoked intermediates) instead of the issuing CA\'s.'}),
    'root-key': Flags.string({summary: 'With --root: the root key file, to sign and publish a fresh root CRL.', dependsOn: ['root']}),
  };
  static override configFlags = configFlagMap;

  async run(): Promise<CrlResult> {
    const settings = settingsOf(this.ctx);
    const {usesServer} = await import('../core/backend.js');
    const crl = usesServer(this.ctx, settings) ? (await import('../core/server-ops.js')).crlViaServer : (await import('../core/admin.js')).crl;
    return crl(this.ctx, settings, {out: this.flags.out, root: this.flags.root, rootKeyFile: this.flags['root-key'], ...adminFlagValues(this.flags)});
  }

  protected override renderResult(r: CrlResult, out: ResultWriter): void {
    if (!r.out) return out.text(r.pem);
    out.keyValue({out: r.out, ca: r.ca, number: r.crlNumber, revoked: r.revoked, 'this update': r.thisUpdate, 'next update': r.nextUpdate ?? '', published: r.published ? `yes (${r.path})` : r.path.startsWith('http') ? `no (served at ${r.path})` : 'no (already in the store)'});
  }
}
