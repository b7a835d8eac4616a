import {BclCommand, type ResultWriter} from '@bcl/core';
import type {CertificateView} from '../core/certificates.js';
import {formatRemaining} from '../render.js';

export interface StatusResult {
  server: string | null;
  identity: {description: string; email: string | null; serial: string | null; notAfter: string | null; certificate: string | null; chain: string | null} | null;
  identityProblem: string | null;
  certificates: CertificateView[];
}

export default class Status extends BclCommand<typeof Status> {
  // Changes nothing: still runs on an installed version below its channel's minimumVersion.
  static override allowedBelowMinimumVersion = true;
  static override summary = 'Show your SSH certificates, their principals and remaining validity, and the PKI certificate in use.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json'];

  async run(): Promise<StatusResult> {
    const {runtimeSettings} = await import('../core/settings.js');
    const {CertificateStore} = await import('../core/store.js');
    const {viewOf} = await import('../core/certificates.js');
    const {loadClientIdentity} = await import('../core/identity.js');
    const settings = runtimeSettings(this.ctx);
    const now = this.ctx.now();
    const certificates = new CertificateStore(`${this.ctx.paths.data}/csshctl`).list().map((s) => viewOf(s, now));
    let identity: StatusResult['identity'] = null;
    let identityProblem: string | null = null;
    try {
      // Never prompts: an encrypted key is reported as such, not unlocked.
      const id = await loadClientIdentity({
        settings,
        env: this.ctx.env,
        now,
        passphrase: async () => {
          throw Object.assign(new Error('encrypted'), {name: 'BclError', code: 'csshctl.no_passphrase'});
        },
        secret: (s) => this.ctx.redactor.add(s),
      });
      identity = {
        description: id.description,
        email: id.email ?? null,
        serial: id.serial ?? null,
        notAfter: id.notAfter?.toISOString() ?? null,
        certificate: id.certPath ?? null,
        chain: id.chainPath ?? null,
      };
    } catch (error) {
      identityProblem = (error as {code?: string}).code === 'csshctl.no_passphrase' ? 'the PKI key is encrypted (not unlocked by status)' : (error as Error).message;
    }
    return {server: settings.server ?? null, identity, identityProblem, certificates};
  }

  protected override renderResult(result: StatusResult, out: ResultWriter): void {
    out.text(`server: ${result.server ?? '(not configured: csshctl.server)'}`);
    out.text(`PKI certificate: ${result.identity ? `${result.identity.description}, valid until ${result.identity.notAfter ?? '?'}` : result.identityProblem}`);
    out.table(
      result.certificates,
      [
        {header: 'SLOT', get: (c) => c.slot},
        {header: 'SERIAL', get: (c) => c.serial},
        {header: 'PRINCIPALS', get: (c) => c.principals.join(',')},
        {header: 'VALID UNTIL', get: (c) => c.validBefore},
        {header: 'REMAINING', get: (c) => (c.state === 'valid' ? formatRemaining(c.remainingSeconds) : c.state)},
        {header: 'HOST', get: (c) => c.host ?? '-'},
      ],
      'no SSH certificates yet: csshctl cert gets one',
    );
  }
}
