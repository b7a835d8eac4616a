import {BclCommand, type ResultWriter} from '@bcl/core';
import {Flags} from '@bcl/core';
import {passphraseFlags, serverFlag, totpFlags} from '../flags.js';

export interface AgentAddResult {
  certificate: string;
  serial: string;
  principals: string[];
  lifetimeSeconds: number;
  agent: string;
}

export default class AgentAdd extends BclCommand<typeof AgentAdd> {
  static override summary = "Add your SSH key and certificate to ssh-agent, for as long as the certificate is valid.";
  static override description =
    'Uses the certificate of --host (or the default one from csshctl cert); gets a new one when it has expired. The agent forgets both when the certificate expires (ssh-add -t).';
  static override examples = ['<%= config.bin %> agent-add', '<%= config.bin %> agent-add --host web1.example.com'];
  static override flags = {
    host: Flags.string({summary: 'Use the certificate obtained for this host.'}),
    ttl: Flags.string({summary: 'Lifetime of a new certificate, if one is needed (default: csshctl.ttl).'}),
    server: serverFlag,
    ...passphraseFlags,
    ...totpFlags,
  };
  static override configFlags = {server: 'csshctl.server'};

  async run(): Promise<AgentAddResult> {
    const {conflict} = await import('@bcl/core');
    const {runtimeSettings} = await import('../core/settings.js');
    const {CertificateStore} = await import('../core/store.js');
    const {viewOf, obtainCertificate} = await import('../core/certificates.js');
    const {parseTtlFlag} = await import('../core/ttl.js');
    const agent = this.ctx.env.SSH_AUTH_SOCK;
    if (!agent) {
      throw conflict('csshctl.no_agent', 'no ssh-agent: SSH_AUTH_SOCK is not set', {hint: 'Start one with eval "$(ssh-agent)", or use csshctl ssh, which needs no agent.'});
    }
    const settings = runtimeSettings(this.ctx);
    const store = new CertificateStore(`${this.ctx.paths.data}/csshctl`);
    const name = CertificateStore.slotName(this.flags.host);
    const {chooseReusable} = await import('../core/reuse.js');
    // The agent needs some time to be useful: renew a certificate about to expire.
    let {slot} = chooseReusable(store, this.ctx.now(), {slots: [name], renewBeforeSeconds: settings.renewBeforeSeconds});
    if (!slot) {
      const {authzClient, totpCodeSource} = await import('../core/session.js');
      const {client} = await authzClient(this.ctx, settings, {identity: 'required', passphrase: {file: this.flags['passphrase-file'], env: this.flags['passphrase-env']}});
      ({slot} = await obtainCertificate(
        {client, store, ui: this.ctx.ui, now: this.ctx.now, totp: totpCodeSource(this.ctx, this.flags['totp-code'])},
        {
          slot: name,
          ttlSeconds: this.flags.ttl === undefined ? settings.ttlSeconds : parseTtlFlag(this.flags.ttl),
          ...(this.flags.host ? {host: this.flags.host} : {}),
          ...(settings.sshKey ? {sshKey: settings.sshKey} : {}),
        },
      ));
    }
    const view = viewOf(slot, this.ctx.now());
    // ssh-add loads id and id-cert.pub beside it; -t makes the agent drop both at expiry.
    const res = await this.ctx.runner.run('ssh-add', ['-t', String(view.remainingSeconds), slot.keyPath], {reject: false, timeoutMs: 30_000});
    if (res.exitCode !== 0) {
      const {operationFailed} = await import('@bcl/core');
      throw operationFailed('csshctl.ssh_add_failed', `ssh-add failed: ${res.stderr.trim() || `exit ${res.exitCode}`}`, {hint: `Check that the agent at ${agent} is running (ssh-add -l).`});
    }
    return {certificate: slot.certPath, serial: view.serial, principals: view.principals, lifetimeSeconds: view.remainingSeconds, agent};
  }

  protected override renderResult(result: AgentAddResult, out: ResultWriter): void {
    out.text(`Added certificate ${result.serial} (${result.principals.join(', ')}) to the agent for ${Math.round(result.lifetimeSeconds / 60)} minutes.`);
  }
}
