import {BclCommand} from '@bcl/core';
import {Args, Flags} from '@bcl/core';
import {passphraseFlags, serverFlag, totpFlags} from '../flags.js';

export interface SshResult {
  destination: string;
  user: string;
  hostname: string;
  /** Whether a still-valid certificate was reused. */
  reused: boolean;
  certificate: string;
  serial: string;
  exitCode: number;
}

export default class Ssh extends BclCommand<typeof Ssh> {
  static override summary = 'Log in with ssh using a short-lived certificate (reused while valid, else a new one).';
  static override description =
    "Runs the system ssh with the certificate (IdentityFile, CertificateFile, IdentitiesOnly=yes), on your terminal; its exit code is csshctl's. Options for ssh and the remote command go after --. The login (user@, -l, or ssh_config's User) is the principal asked for; the host is the one ssh resolves (ssh -G).";
  static override examples = [
    '<%= config.bin %> ssh deploy@web1.example.com',
    '<%= config.bin %> ssh deploy@web1.example.com -- uptime',
    '<%= config.bin %> ssh web1 -- -p 2222 -L 8080:localhost:80 -N',
  ];
  static override strict = false;
  static override args = {destination: Args.string({required: true, description: '[user@]host, as for ssh'})};
  static override flags = {
    ttl: Flags.string({summary: 'Lifetime of a new certificate (default: csshctl.ttl).'}),
    renew: Flags.boolean({summary: 'Get a new certificate even if a valid one exists.'}),
    server: serverFlag,
    ...passphraseFlags,
    ...totpFlags,
  };
  static override configFlags = {server: 'csshctl.server'};

  async run(): Promise<SshResult> {
    const {runtimeSettings} = await import('../core/settings.js');
    const {parseTtlFlag} = await import('../core/ttl.js');
    const {splitSshArgs, resolveDestination, sshArgs, runSsh} = await import('../core/ssh.js');
    const {CertificateStore} = await import('../core/store.js');
    const settings = runtimeSettings(this.ctx);
    const destination = this.args.destination;
    const {options, command} = await this.passthrough(splitSshArgs);
    const target = await resolveDestination(this.ctx.runner, settings.ssh, options, destination);
    const store = new CertificateStore(`${this.ctx.paths.data}/csshctl`);
    const slotName = CertificateStore.slotName(target.hostname);
    const {chooseReusable} = await import('../core/reuse.js');
    const decision = this.flags.renew
      ? {slot: undefined, passedOver: ['--renew']}
      : chooseReusable(store, this.ctx.now(), {slots: [slotName, 'default'], principal: target.user, server: settings.server, renewBeforeSeconds: settings.renewBeforeSeconds});
    for (const why of decision.passedOver) this.ctx.ui.debug(`not reusing ${why}`);
    let slot = decision.slot;
    const reused = slot !== undefined;
    if (!slot) {
      const {authzClient, totpCodeSource} = await import('../core/session.js');
      const {obtainCertificate} = await import('../core/certificates.js');
      const {client} = await authzClient(this.ctx, settings, {identity: 'required', passphrase: {file: this.flags['passphrase-file'], env: this.flags['passphrase-env']}});
      ({slot} = await obtainCertificate(
        {client, store, ui: this.ctx.ui, now: this.ctx.now, totp: totpCodeSource(this.ctx, this.flags['totp-code'])},
        {
          slot: slotName,
          principals: [target.user],
          host: target.hostname,
          ttlSeconds: this.flags.ttl === undefined ? settings.ttlSeconds : parseTtlFlag(this.flags.ttl),
          ...(settings.sshKey ? {sshKey: settings.sshKey} : {}),
        },
      ));
      this.ctx.ui.info(`csshctl: new certificate ${slot.meta.serial} for ${target.user}, valid until ${slot.meta.validBefore}`);
    } else this.ctx.ui.debug(`reusing certificate ${slot.meta.serial} (${slot.name})`);
    const exitCode = await runSsh(this.ctx.runner, settings.ssh, sshArgs(slot.keyPath, slot.certPath, options, destination, command));
    return {destination, user: target.user, hostname: target.hostname, reused, certificate: slot.certPath, serial: slot.meta.serial, exitCode};
  }

  /** What follows the destination: words before `--` are the remote command; after `--`, ssh options then the command. */
  private async passthrough(split: typeof import('../core/ssh.js').splitSshArgs): Promise<{options: string[]; command: string[]}> {
    const {argv: positional} = await this.parse(Ssh);
    const dd = this.argv.indexOf('--');
    const after = dd === -1 ? [] : this.argv.slice(dd + 1);
    const before = (positional as string[]).slice(1, positional.length - after.length);
    const rest = split(after);
    return {options: rest.options, command: [...before, ...rest.command]};
  }

  protected override renderResult(): void {
    // stdout belongs to the remote session.
  }
}
