import {Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {RequestResult} from '../core/request.js';
import type {ServerRequestResult} from '../core/server-ops.js';
import {renderRequest} from '../render.js';
import {emailFlag, passphraseEnvFlag, passphraseFileFlag, settingsOf, storeConfigFlags, storeFlags, takeCertProfile} from '../flags.js';

export default class Request extends BclCommand<typeof Request> {
  static override summary = 'Request a certificate: a new key made here, a CSR sent to the PKI server (issued at once) or the store.';
  static override description =
    'The private key is generated on this machine and stays in $XDG_DATA_HOME/bcl/pkictl/credentials/<id>/ (0600); only the CSR goes out. With a PKI server (pkictl.server, after `pkictl login`) a standard profile\'s certificate comes back at once and is written beside the key; privileged profiles wait for an admin. With a Git store the request is one commit; a CA admin approves it; then `pkictl fetch` writes the certificate beside the key.';
  static override examples = [
    '<%= config.bin %> request',
    '<%= config.bin %> request --profile vpn --key-type rsa-3072',
    '<%= config.bin %> request --profile server --dns build.internal.example.com --email ci@example.com',
  ];
  static override flags = {
    ...storeFlags,
    email: emailFlag,
    name: Flags.string({summary: 'The certificate\'s common name (default: pkictl.name, else your email).'}),
    profile: Flags.string({summary: 'The certificate profile from the store\'s policy (default: pkictl.profile, client). Here --profile is the certificate profile; select a configuration profile with BCL_PROFILE.'}),
    'key-type': Flags.string({summary: 'The key type (default: pkictl.keyType, ecdsa-p256).', options: ['ecdsa-p256', 'rsa-3072', 'ed25519']}),
    days: Flags.integer({summary: 'Ask for this lifetime in days (capped by the profile\'s maximum).', min: 1}),
    dns: Flags.string({summary: 'A DNS name for the certificate (server profiles; repeatable).', multiple: true}),
    ip: Flags.string({summary: 'An IP address for the certificate (server profiles; repeatable).', multiple: true}),
    'encrypt-key': Flags.boolean({summary: 'Encrypt the private key with a passphrase (default: pkictl.encryptKeys).', allowNo: true}),
    'passphrase-file': passphraseFileFlag,
    'passphrase-env': passphraseEnvFlag,
  };
  static override configFlags = {...storeConfigFlags, email: 'pkictl.email', name: 'pkictl.name', 'key-type': 'pkictl.keyType'};

  private certProfile: string | undefined;

  protected override async init(): Promise<void> {
    this.certProfile = takeCertProfile(this.argv);
    await super.init();
  }

  async run(): Promise<RequestResult | ServerRequestResult> {
    const settings = settingsOf(this.ctx);
    const f = this.flags;
    const {usesServer} = await import('../core/backend.js');
    const request = usesServer(this.ctx, settings) ? (await import('../core/server-ops.js')).requestViaServer : (await import('../core/request.js')).requestCertificate;
    return request(this.ctx, settings, {
      profile: this.certProfile ?? settings.profile,
      keyType: settings.keyType,
      name: settings.name,
      lifetimeDays: f.days,
      dns: f.dns ?? [],
      ip: f.ip ?? [],
      encrypt: f['encrypt-key'] ?? settings.encryptKeys,
      passphraseFile: f['passphrase-file'],
      passphraseEnv: f['passphrase-env'],
    });
  }

  protected override renderResult(r: RequestResult | ServerRequestResult, out: ResultWriter): void {
    renderRequest(this.ctx, r, out);
  }
}
