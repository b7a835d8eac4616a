import {Args, Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {RequestResult} from '../core/request.js';
import type {ServerRequestResult} from '../core/server-ops.js';
import {renderRequest} from '../render.js';
import {passphraseEnvFlag, passphraseFileFlag, settingsOf, storeConfigFlags, storeFlags} from '../flags.js';

export default class Renew extends BclCommand<typeof Renew> {
  static override summary = 'Renew a certificate: a new key and request; the old one is revoked (superseded) once the new one is issued.';
  static override description =
    'Runs on the machine that holds the certificate\'s key: the renewal request is signed with it, and the CA admin\'s approval checks that signature, so nobody else can renew your certificate. --passphrase-file/--passphrase-env decrypt the old key and, with --encrypt-key, encrypt the new one.';
  static override examples = ['<%= config.bin %> renew 4F3A0B...', '<%= config.bin %> renew 4f3a0b... --key-type rsa-3072 --json'];
  static override args = {serial: Args.string({description: 'The serial to renew, in hex (either case).', required: true})};
  static override flags = {
    ...storeFlags,
    'key-type': Flags.string({summary: 'The new key\'s type (default: the old one\'s).', options: ['ecdsa-p256', 'rsa-3072', 'ed25519']}),
    'encrypt-key': Flags.boolean({summary: 'Encrypt the new private key (default: as the old one).', allowNo: true}),
    'passphrase-file': passphraseFileFlag,
    'passphrase-env': passphraseEnvFlag,
  };
  static override configFlags = storeConfigFlags;

  async run(): Promise<RequestResult | ServerRequestResult> {
    const {parseSerialArg} = await import('../store/pki.js');
    const settings = settingsOf(this.ctx);
    const {usesServer} = await import('../core/backend.js');
    const renew = usesServer(this.ctx, settings) ? (await import('../core/server-ops.js')).renewViaServer : (await import('../core/request.js')).renewCertificate;
    const f = this.flags;
    return renew(this.ctx, settings, {
      serial: parseSerialArg(this.args.serial),
      keyType: f['key-type'] as RequestResult['keyType'] | undefined,
      encrypt: f['encrypt-key'],
      passphraseFile: f['passphrase-file'],
      passphraseEnv: f['passphrase-env'],
    });
  }

  protected override renderResult(r: RequestResult | ServerRequestResult, out: ResultWriter): void {
    renderRequest(this.ctx, r, out);
  }
}
