import {BclCommand, type ResultWriter, usageError} from '@bcl/core';
import {Flags} from '@bcl/core';
import {passphraseFlags, serverFlag} from '../flags.js';

export interface RevokeResult {
  revoked: string[];
  alreadyRevoked: string[];
  krlVersion: number;
}

export default class Revoke extends BclCommand<typeof Revoke> {
  static override summary = 'Revoke SSH certificates (access-rule admins): one by serial, or everything of one person.';
  static override description =
    'The revoked certificates go into the KRL cssh-authz publishes (GET /v1/krl); hosts refuse them once they fetch it, and the principals command refuses them at once. To also stop someone from getting new certificates, revoke their PKI certificate (pkictl revoke) or remove them from the access rules.';
  static override examples = ['<%= config.bin %> revoke --serial 1234567890 --reason "key compromise"', '<%= config.bin %> revoke --key-id ann@example.com --reason "laptop lost"'];
  static override flags = {
    serial: Flags.string({summary: 'The serial of one certificate (decimal, as ssh-keygen -L shows it).', exclusive: ['key-id']}),
    'key-id': Flags.string({summary: "A certificate's key id, or a person's email: every valid certificate of theirs."}),
    reason: Flags.string({summary: 'Why, for the audit log.'}),
    server: serverFlag,
    ...passphraseFlags,
  };
  static override configFlags = {server: 'csshctl.server'};

  async run(): Promise<RevokeResult> {
    if (!this.flags.serial && !this.flags['key-id']) throw usageError('give --serial <n> or --key-id <key id or email>');
    const {runtimeSettings} = await import('../core/settings.js');
    const {authzClient} = await import('../core/session.js');
    const settings = runtimeSettings(this.ctx);
    const {client} = await authzClient(this.ctx, settings, {identity: 'required', passphrase: {file: this.flags['passphrase-file'], env: this.flags['passphrase-env']}});
    return client.revoke({
      ...(this.flags.serial ? {serial: this.flags.serial} : {}),
      ...(this.flags['key-id'] ? {keyId: this.flags['key-id']} : {}),
      ...(this.flags.reason ? {reason: this.flags.reason} : {}),
    });
  }

  protected override renderResult(result: RevokeResult, out: ResultWriter): void {
    out.text(
      result.revoked.length === 0
        ? `Nothing newly revoked${result.alreadyRevoked.length > 0 ? ` (already revoked: ${result.alreadyRevoked.join(', ')})` : ''}.`
        : `Revoked ${result.revoked.length} certificate(s): ${result.revoked.join(', ')} (KRL version ${result.krlVersion}). Hosts refuse them once they fetch the KRL.`,
    );
  }
}
