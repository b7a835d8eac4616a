import {Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {CaInitResult} from '../../core/ca.js';
import {passphraseEnvFlag, passphraseFileFlag, settingsOf} from '../../flags.js';

export default class CaInit extends BclCommand<typeof CaInit> {
  static override summary = 'Create the CA (root, optionally an intermediate) and the Git store.';
  static override description =
    'The CA key is written encrypted (PKCS#8, AES-256) to --ca-key, outside the store; with --intermediate the root key goes to --root-key (keep it offline), the intermediate signs, and the root\'s CRL is published as crl/root.pem. A local store path that does not exist becomes a bare repository; a git URL must point to an empty repository. The root\'s fingerprint is pinned in your configuration (pkictl.caFingerprint); publish it for requesters.';
  static override examples = [
    '<%= config.bin %> ca init --store /srv/git/pki.git --name "Example Corp CA" --ca-key ~/ca.key --email-domain example.com',
    '<%= config.bin %> ca init --store git@git.example.com:it/pki.git --name "Example CA" --intermediate --root-key /media/offline/root.key --ca-key ~/ca.key --passphrase-file pass.txt',
  ];
  static override flags = {
    store: Flags.string({summary: 'The PKI store: a path or git URL (default: pkictl.store).'}),
    name: Flags.string({summary: 'The CA name (the root certificate\'s common name).', required: true}),
    'key-type': Flags.string({summary: 'The CA key type.', options: ['ecdsa-p256', 'rsa-3072'], default: 'ecdsa-p256'}),
    'ca-key': Flags.string({summary: 'Where to write the encrypted key of the signing CA.', required: true}),
    intermediate: Flags.boolean({summary: 'Also create an intermediate CA that signs certificates; the root key goes to --root-key.', dependsOn: ['root-key']}),
    'root-key': Flags.string({summary: 'With --intermediate: where to write the encrypted root key.', dependsOn: ['intermediate']}),
    'email-domain': Flags.string({summary: 'Allowed requester email domain in the initial policy (repeatable).', multiple: true}),
    policy: Flags.string({summary: 'The initial policy file (validated; default: the standard one). An intermediate is limited to its names and points at its revocation URLs.'}),
    'root-days': Flags.integer({summary: 'Root CA lifetime in days.', default: 3650, min: 1}),
    'intermediate-days': Flags.integer({summary: 'Intermediate CA lifetime in days.', default: 1825, min: 1}),
    'passphrase-file': passphraseFileFlag,
    'passphrase-env': passphraseEnvFlag,
  };
  static override configFlags = {store: 'pkictl.store'};

  async run(): Promise<CaInitResult> {
    const {caInit} = await import('../../core/ca.js');
    const f = this.flags;
    return caInit(this.ctx, settingsOf(this.ctx), {
      name: f.name,
      keyType: f['key-type'] as 'ecdsa-p256' | 'rsa-3072',
      caKeyFile: f['ca-key'],
      rootKeyFile: f.intermediate ? f['root-key'] : undefined,
      emailDomains: f['email-domain'] ?? [],
      policyFile: f.policy,
      rootDays: f['root-days'],
      intermediateDays: f['intermediate-days'],
      passphraseFile: f['passphrase-file'],
      passphraseEnv: f['passphrase-env'],
    });
  }

  protected override renderResult(r: CaInitResult, out: ResultWriter): void {
    out.keyValue({
      store: r.store,
      root: `${r.root.subject} (serial ${r.root.serial}, until ${r.root.notAfter})`,
      ...(r.intermediate ? {intermediate: `${r.intermediate.subject} (serial ${r.intermediate.serial}, until ${r.intermediate.notAfter})`} : {}),
      'CA key': r.caKey,
      ...(r.rootKey ? {'root key': `${r.rootKey} (keep it offline)`} : {}),
      'root fingerprint': `SHA-256 ${r.caFingerprint} (publish it: requesters pin it)`,
      policy: `${r.policy} (change it with pkictl ca policy --set <file>)`,
    });
  }
}
