import {BclCommand, type ResultWriter} from '@bcl/core';
import {Flags} from '@bcl/core';
import {passphraseFlags, serverFlag} from '../../flags.js';

export interface EnrollResult {
  account: string;
  issuer: string;
  /** Shown once: the service keeps it sealed and never shows it again. */
  secret: string;
  otpauthUri: string;
  /** The QR code of otpauthUri, as terminal text. */
  qr: string;
  confirmed: boolean;
}

export default class MfaEnroll extends BclCommand<typeof MfaEnroll> {
  static override summary = 'Enrol an authenticator app for the TOTP second factor some grants require.';
  static override description =
    'cssh-authz makes a new secret and shows it once, as an otpauth:// URI and its QR code: scan it with your authenticator app. On a terminal csshctl then asks for the first code to confirm the enrolment; in scripts confirm it with csshctl mfa confirm --totp-code <code>. Replacing an active enrolment needs a current code of it (--current-code).';
  static override examples = ['<%= config.bin %> mfa enroll', '<%= config.bin %> mfa enroll --json', '<%= config.bin %> mfa enroll --current-code 123456'];
  static override flags = {
    'current-code': Flags.string({summary: 'A current code of the app enrolled now, to replace its secret with a new one.'}),
    server: serverFlag,
    ...passphraseFlags,
  };
  static override configFlags = {server: 'csshctl.server'};

  async run(): Promise<EnrollResult> {
    const {runtimeSettings} = await import('../../core/settings.js');
    const {authzClient} = await import('../../core/session.js');
    const {terminalQr} = await import('../../core/qr.js');
    const settings = runtimeSettings(this.ctx);
    const {client} = await authzClient(this.ctx, settings, {identity: 'required', passphrase: {file: this.flags['passphrase-file'], env: this.flags['passphrase-env']}});
    const shown = await client.enrolTotp(this.flags['current-code'] ? {code: this.flags['current-code']} : {});
    const qr = await terminalQr(shown.otpauthUri);
    const result = {account: shown.account, issuer: shown.issuer, secret: shown.secret, otpauthUri: shown.otpauthUri, qr, confirmed: false};
    if (!this.ctx.interactive || this.ctx.json) return result;
    // On a terminal: show the code to scan first, then ask for the app's first code.
    this.ctx.ui.write(`${qr}\n${shown.otpauthUri}\nSecret (to type in instead): ${shown.secret}\n\n`);
    const code = (await this.ctx.prompt.text({message: 'The code your app shows now:', flag: '--totp-code of csshctl mfa confirm'})).trim();
    await client.confirmTotp(code);
    return {...result, confirmed: true};
  }

  protected override renderResult(result: EnrollResult, out: ResultWriter): void {
    if (result.confirmed) {
      out.text(`TOTP enrolment of ${result.account} confirmed: grants that require mfa: totp now ask for a code.`);
      return;
    }
    out.text(`${result.qr}\n${result.otpauthUri}\nSecret (shown once): ${result.secret}\n\nScan it with your authenticator app, then confirm: csshctl mfa confirm --totp-code <code>`);
  }
}
