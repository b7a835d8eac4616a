import {BclCommand, type ResultWriter} from '@bcl/core';
import {Args, Flags} from '@bcl/core';
import {serverFlag} from '../flags.js';

/** How long sshd may wait for an answer (documented in docs/cssh/csshctl.md). */
export const PRINCIPALS_DEADLINE_MS = 5000;

export interface PrincipalsResult {
  login: string;
  host: string;
  principals: string[];
  /** The lines for sshd: authorized_keys options, then the principal. */
  lines: string[];
}

export default class Principals extends BclCommand<typeof Principals> {
  // Changes nothing: still runs on an installed version below its channel's minimumVersion (sshd's AuthorizedPrincipalsCommand must keep working on any installed version).
  static override allowedBelowMinimumVersion = true;
  static override summary = "sshd's AuthorizedPrincipalsCommand: the principals the access rules accept for a login on this host.";
  static override description =
    'Prints one line per accepted principal, with the restrictions of the grant (authorized_keys options), as sshd expects. It fails closed: on any error it prints nothing and exits non-zero, so sshd refuses the login. `cssh-authz host-setup` prints the sshd_config lines that call it.';
  static override examples = ['<%= config.bin %> principals deploy --host web1.example.com', 'AuthorizedPrincipalsCommand /usr/local/bin/csshctl principals %u --host web1.example.com --key-id %i --serial %s'];
  static override args = {login: Args.string({required: true, description: 'The unix login (sshd: %u).'})};
  static override flags = {
    host: Flags.string({summary: "This host's name in the access rules.", required: true}),
    'key-id': Flags.string({summary: "The certificate's key id (sshd: %i): only its owner's grants count."}),
    serial: Flags.string({summary: "The certificate's serial (sshd: %s): a revoked one gets nothing."}),
    server: serverFlag,
  };
  static override configFlags = {server: 'csshctl.server'};

  async run(): Promise<PrincipalsResult> {
    const {runtimeSettings} = await import('../core/settings.js');
    const {authzClient} = await import('../core/session.js');
    const {withinDeadline} = await import('../core/deadline.js');
    const settings = runtimeSettings(this.ctx);
    // sshd holds the login while this runs: one overall deadline for connect, TLS, a retry and
    // its backoff; past it the command fails closed (no output, exit 5).
    const answer = await withinDeadline(PRINCIPALS_DEADLINE_MS, `asking ${settings.server ?? 'cssh-authz'} for the principals of ${this.args.login}`, async (signal) => {
      // The host's PKI certificate is used when configured. The client's own deadline (which
      // covers its retries) lies past the command's, so this one bound decides and names itself.
      const {client} = await authzClient(this.ctx, settings, {identity: 'optional', timeoutMs: PRINCIPALS_DEADLINE_MS + 1000, retries: 1, signal});
      return client.principals({
        user: this.args.login,
        host: this.flags.host,
        ...(this.flags['key-id'] ? {keyId: this.flags['key-id']} : {}),
        ...(this.flags.serial ? {serial: this.flags.serial} : {}),
      });
    });
    return {login: this.args.login, host: this.flags.host, principals: answer.principals, lines: answer.lines};
  }

  protected override renderResult(result: PrincipalsResult, out: ResultWriter): void {
    if (result.lines.length > 0) out.text(result.lines.join('\n'));
  }
}
