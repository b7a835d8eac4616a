import {BclCommand, type ResultWriter} from '@bcl/core';
import {Flags} from '@bcl/core';
import type {CertificateView} from '../core/certificates.js';
import {passphraseFlags, serverFlag, totpFlags} from '../flags.js';
import {renderCertificate} from '../render.js';

export type CertResult = CertificateView & {warnings: string[]};

export default class Cert extends BclCommand<typeof Cert> {
  static override summary = 'Get a short-lived SSH certificate from cssh-authz with your PKI certificate.';
  static override description =
    'Generates a new Ed25519 key (or certifies csshctl.sshKey), asks cssh-authz over mutual TLS for a certificate, and stores key and certificate under $XDG_DATA_HOME/bcl/csshctl/ (mode 0600). Without --principal you get every principal the access rules allow you (on --host, when given).';
  static override examples = [
    '<%= config.bin %> cert',
    '<%= config.bin %> cert --principal deploy --ttl 30m --host web1.example.com',
    '<%= config.bin %> cert --json',
  ];
  static override flags = {
    principal: Flags.string({char: 'p', summary: 'A login to be certified for (repeatable; default: all you may have).', multiple: true}),
    ttl: Flags.string({summary: 'Lifetime, e.g. 30m or 8h (default: csshctl.ttl); the access rules may shorten it.'}),
    host: Flags.string({summary: 'The host you want to reach: the grants for that host decide.'}),
    server: serverFlag,
    ...passphraseFlags,
    ...totpFlags,
  };
  static override configFlags = {server: 'csshctl.server'};

  async run(): Promise<CertResult> {
    const {runtimeSettings} = await import('../core/settings.js');
    const {parseTtlFlag} = await import('../core/ttl.js');
    const {authzClient, totpCodeSource} = await import('../core/session.js');
    const {obtainCertificate, viewOf} = await import('../core/certificates.js');
    const {CertificateStore} = await import('../core/store.js');
    const settings = runtimeSettings(this.ctx);
    const ttlSeconds = this.flags.ttl === undefined ? settings.ttlSeconds : parseTtlFlag(this.flags.ttl);
    const {client} = await authzClient(this.ctx, settings, {identity: 'required', passphrase: {file: this.flags['passphrase-file'], env: this.flags['passphrase-env']}});
    const store = new CertificateStore(`${this.ctx.paths.data}/csshctl`);
    const {slot, warnings} = await obtainCertificate(
      {client, store, ui: this.ctx.ui, now: this.ctx.now, totp: totpCodeSource(this.ctx, this.flags['totp-code'])},
      {
        slot: CertificateStore.slotName(this.flags.host),
        ttlSeconds,
        ...(this.flags.principal ? {principals: this.flags.principal} : {}),
        ...(this.flags.host ? {host: this.flags.host} : {}),
        ...(settings.sshKey ? {sshKey: settings.sshKey} : {}),
      },
    );
    return {...viewOf(slot, this.ctx.now()), warnings};
  }

  protected override renderResult(result: CertResult, out: ResultWriter): void {
    out.keyValue(renderCertificate(result));
  }
}
