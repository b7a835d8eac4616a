import {BclCommand, Flags, type ResultWriter} from '@bcl/core';
import type {KubeconfigResult} from '../core/kubeconfig.js';
import {emailFlag, settingsOf} from '../flags.js';

export default class Kubeconfig extends BclCommand<typeof Kubeconfig> {
  static override summary = 'Write a kubeconfig user and context that sign in to a cluster with your PKI client certificate.';
  static override description =
    'The cluster\'s API server must trust the PKI CA as its client CA (--client-ca-file); it then knows you by your email (the certificate\'s CN). The entry points at the certificate and key in pkictl\'s credential directory (nothing is copied); run it again after `pkictl renew`. The kubeconfig is --kubeconfig, else the first file of $KUBECONFIG, else ~/.kube/config; its other entries are kept, and it is written with mode 0600.';
  static override examples = [
    '<%= config.bin %> kubeconfig --cluster prod-eu',
    '<%= config.bin %> kubeconfig --cluster dev --server https://dev.k8s.example.com:6443 --certificate-authority dev-ca.pem --use',
  ];
  static override flags = {
    cluster: Flags.string({summary: 'The cluster (its name in the kubeconfig).', required: true}),
    kubeconfig: Flags.string({summary: 'The kubeconfig file to change (default: $KUBECONFIG, else ~/.kube/config).'}),
    serial: Flags.string({summary: 'Use this certificate (default: your valid client certificate that expires last).'}),
    server: Flags.string({summary: 'For a cluster not in the kubeconfig yet: its API server URL.'}),
    'certificate-authority': Flags.string({summary: 'For a new cluster: the CA file of its API server.', dependsOn: ['server']}),
    context: Flags.string({summary: 'The context\'s name (default: <email>@<cluster>).'}),
    use: Flags.boolean({summary: 'Also make it the current context.'}),
    email: emailFlag,
  };
  static override configFlags = {email: 'pkictl.email'};

  async run(): Promise<KubeconfigResult> {
    const {parseSerialArg} = await import('../store/pki.js');
    const {kubeconfig} = await import('../core/kubeconfig.js');
    const f = this.flags;
    return kubeconfig(this.ctx, settingsOf(this.ctx), {
      cluster: f.cluster,
      kubeconfig: f.kubeconfig,
      serial: f.serial ? parseSerialArg(f.serial, '--serial') : undefined,
      server: f.server,
      certificateAuthority: f['certificate-authority'],
      context: f.context,
      use: f.use,
    });
  }

  protected override renderResult(r: KubeconfigResult, out: ResultWriter): void {
    out.keyValue({kubeconfig: r.kubeconfig, context: `${r.context}${r.currentContext === r.context ? ' (current)' : ''}`, user: r.user, certificate: `${r.serial} (${r.email}, until ${r.notAfter})`});
    if (r.currentContext !== r.context) this.ctx.ui.info(`Use it with \`kubectl --context ${r.context} ...\` or \`kubectl config use-context ${r.context}\`.`);
  }
}
