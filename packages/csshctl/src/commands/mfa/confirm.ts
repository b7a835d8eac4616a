import {BclCommand, type ResultWriter} from '@bcl/core';
import {passphraseFlags, serverFlag, totpFlags} from '../../flags.js';

export interface ConfirmResult {
  state: 'active';
  confirmedAt: string;
}

export default class MfaConfirm extends BclCommand<typeof MfaConfirm> {
  static override summary = 'Confirm a TOTP enrolment with the first code of your authenticator app.';
  static override examples = ['<%= config.bin %> mfa confirm --totp-code 123456', 'CSSHCTL_TOTP_CODE=123456 <%= config.bin %> mfa confirm'];
  static override flags = {
    server: serverFlag,
    ...passphraseFlags,
    ...totpFlags,
  };
  static override configFlags = {server: 'csshctl.server'};

  async run(): Promise<ConfirmResult> {
    const {runtimeSettings} = await import('../../core/settings.js');
    const {authzClient, totpCodeSource} = await import('../../core/session.js');
    const settings = runtimeSettings(this.ctx);
    const source = totpCodeSource(this.ctx, this.flags['totp-code']);
    const code = source.given ?? (await this.ctx.prompt.text({message: 'The code your app shows now:', flag: '--totp-code'})).trim();
    const {client} = await authzClient(this.ctx, settings, {identity: 'required', passphrase: {file: this.flags['passphrase-file'], env: this.flags['passphrase-env']}});
    return client.confirmTotp(code);
  }

  protected override renderResult(_result: ConfirmResult, out: ResultWriter): void {
    out.text('TOTP enrolment confirmed: grants that require mfa: totp now ask for a code.');
  }
}
