import {BclCommand, type ResultWriter} from '@bcl/core';
import type {LogoutResult} from '../core/login.js';
import {serverFlag, settingsOf} from '../flags.js';

export default class Logout extends BclCommand<typeof Logout> {
  static override summary = 'Sign out of the PKI server: the session ends there and its token is deleted here.';
  static override flags = {server: serverFlag};
  static override configFlags = {server: 'pkictl.server'};

  async run(): Promise<LogoutResult> {
    const {logout} = await import('../core/login.js');
    return logout(this.ctx, settingsOf(this.ctx));
  }

  protected override renderResult(r: LogoutResult, out: ResultWriter): void {
    out.keyValue({server: r.server, 'signed out': r.signedOut ? 'yes' : 'no session was open'});
  }
}
