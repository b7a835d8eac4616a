import {BclCommand, Flags, type ResultWriter} from '@bcl/core';
import type {LoginResult} from '../core/login.js';
import {caFingerprintFlag, serverFlag, settingsOf} from '../flags.js';

export default class Login extends BclCommand<typeof Login> {
  static override summary = 'Sign in to the PKI server with your company account (opens the browser; --device without one).';
  static override description =
    'Runs the OpenID Connect sign-in of the company\'s identity provider: the authorization code flow with PKCE, answered on a loopback address of this machine (the browser opens; $BROWSER picks which), or with --device the device flow (open the URL shown on any device and enter the code). The server checks the ID token and gives a session, kept in $XDG_DATA_HOME/bcl/pkictl/sessions/ (0600, never printed). The first sign-in to a server pins its CA, as with a Git store.';
  static override examples = ['<%= config.bin %> login', '<%= config.bin %> login --device', '<%= config.bin %> login --server https://pki.example.com'];
  static override flags = {
    server: serverFlag,
    'ca-fingerprint': caFingerprintFlag,
    device: Flags.boolean({summary: 'Sign in with a code on another device (no browser here).'}),
    'no-browser': Flags.boolean({summary: 'Do not open the browser; only print the URL to open.'}),
    timeout: Flags.integer({summary: 'Give up after this many seconds.', default: 300, min: 10}),
  };
  static override configFlags = {server: 'pkictl.server', 'ca-fingerprint': 'pkictl.caFingerprint'};

  async run(): Promise<LoginResult> {
    const {login} = await import('../core/login.js');
    return login(this.ctx, settingsOf(this.ctx), {device: this.flags.device, browser: !this.flags['no-browser'], timeoutSeconds: this.flags.timeout});
  }

  protected override renderResult(r: LoginResult, out: ResultWriter): void {
    out.keyValue({server: r.server, 'signed in as': `${r.email}${r.admin ? ' (PKI admin)' : ''}`, until: r.expiresAt});
  }
}
