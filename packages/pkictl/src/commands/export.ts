import {Args, Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {ExportResult} from '../core/certs.js';
import {caFingerprintFlag, passphraseEnvFlag, passphraseFileFlag, settingsOf} from '../flags.js';

export default class Export extends BclCommand<typeof Export> {
  // Changes nothing: still runs on an installed version below its channel's minimumVersion.
  static override allowedBelowMinimumVersion = true;
  static override summary = 'Export a local certificate with its key: PEM, or PKCS#12 for browsers and Windows.';
  static override description = 'The file holds the private key and is written with mode 0600. PKCS#12 uses AES-256 (PBES2) and an HMAC-SHA256 integrity check. The CA chain goes in only when its root is the CA you pinned (pkictl.caFingerprint).';
  static override examples = ['<%= config.bin %> export 4F3A0B... --format p12 --out me.p12', '<%= config.bin %> export 4F3A0B... --format pem --out bundle.pem'];
  static override args = {serial: Args.string({description: 'The serial, in hex (either case).', required: true})};
  static override flags = {
    format: Flags.string({summary: 'The file format.', options: ['pem', 'p12'], default: 'pem'}),
    out: Flags.string({summary: 'The file to write (default: <serial>.<format> here).'}),
    'password-file': Flags.string({summary: 'PKCS#12: read the export password from this file (first line).', exclusive: ['password-env']}),
    'password-env': Flags.string({summary: 'PKCS#12: read the export password from this environment variable.'}),
    'passphrase-file': passphraseFileFlag,
    'passphrase-env': passphraseEnvFlag,
    'ca-fingerprint': caFingerprintFlag,
  };
  static override configFlags = {'ca-fingerprint': 'pkictl.caFingerprint'};

  async run(): Promise<ExportResult> {
    const {parseSerialArg} = await import('../store/pki.js');
    const {exportCertificate} = await import('../core/certs.js');
    const f = this.flags;
    return exportCertificate(this.ctx, settingsOf(this.ctx), {
      serial: parseSerialArg(this.args.serial),
      format: f.format as 'pem' | 'p12',
      out: f.out,
      passwordFile: f['password-file'],
      passwordEnv: f['password-env'],
      passphraseFile: f['passphrase-file'],
      passphraseEnv: f['passphrase-env'],
    });
  }

  protected override renderResult(r: ExportResult, out: ResultWriter): void {
    out.keyValue({serial: r.serial, format: r.format, out: `${r.out} (holds the private key; mode 0600)`});
  }
}
