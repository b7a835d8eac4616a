import {Flags} from '@bcl/core';
import {BclCommand, durationFlag, type ResultWriter} from '@bcl/core';
import {breakGlassFlag, envFlag, followFlags, imageTagFlag, serverFlags, specArgs} from '../cli/flags.js';
import {clustersOf, environmentOf, loadSpecs} from '../cli/inputs.js';
import type {DeployResult} from '@bcl/deploy-core/deploy';
import {renderSummary} from '../deploy/summary.js';

export type {DeployResult} from '@bcl/deploy-core/deploy';

export default class Deploy extends BclCommand<typeof Deploy> {
  static override summary = 'Deploy services to an environment and wait until they run, rolling back on failure.';
  static override description = `Server-side applies the rendered manifests (field manager svctl) in dependency order, prunes what svctl applied before and no longer renders, and watches the rollout. A crash loop, a missing image, a bad container config or a stalled rollout fails within seconds with the pods' reasons and last log lines; the previous good revision is then re-applied and waited for (unless --no-rollback). Each deploy is recorded in the service's history; a lease keeps two deploys of the same service and environment apart.

With svctl.server set, the deploy runs in svapp (with its own cluster credentials, under its deploy policy) and svctl follows its events; it goes on if svctl stops. Ctrl-C then asks whether to cancel it or detach (non-interactive: detach, unless --cancel-on-interrupt); \`svctl ops attach <id>\` follows it again.

Exit codes: 0 deployed; 3 invalid spec or flag; 4 refused by svapp's deploy policy (nothing applied); 5 cluster or svapp unreachable; 6 another deploy holds the lease, the checkout is dirty, an object of the same name is not svctl's, or svctl and svapp are too far apart in version; 7 the rollout failed (rolled back or not); 130 interrupted or detached (what was applied is recorded and the lease released).`;
  static override examples = [
    '<%= config.bin %> deploy --env staging',
    '<%= config.bin %> deploy --env prod --image-tag 1.4.2 --timeout 10m',
    '<%= config.bin %> deploy --env staging services/*/service.yaml --json',
  ];
  static override strict = false;
  static override args = specArgs;
  static override flags = {
    env: envFlag,
    'image-tag': imageTagFlag,
    timeout: durationFlag({summary: 'How long to wait for the rollout before failing it.', default: 300_000, defaultHelp: async () => '5m', helpValue: '<duration>'}),
    rollback: Flags.boolean({summary: 'Roll back to the previous good revision when the rollout fails (--no-rollback: leave it).', default: true, allowNo: true}),
    'allow-dirty': Flags.boolean({summary: 'Deploy from a checkout with uncommitted changes.'}),
    'break-glass': breakGlassFlag,
    ...serverFlags,
    ...followFlags,
  };
  static override configFlags = {env: 'svctl.defaultEnv'};

  async run(): Promise<DeployResult> {
    const {argv} = await this.parse(Deploy);
    // A closed progress pipe (`svctl deploy | head`) must not kill a deploy half-way.
    process.stderr.on('error', () => undefined);
    const {describeMode, serverSettings} = await import('../remote/settings.js');
    this.ctx.ui.debug(describeMode(this.ctx));
    if (serverSettings(this.ctx)) {
      const {remoteDeploy} = await import('../remote/commands.js');
      return remoteDeploy(this.ctx, {
        args: argv as string[],
        environment: environmentOf(this.ctx),
        imageTag: this.flags['image-tag'],
        allowDirty: this.flags['allow-dirty'],
        timeoutMs: this.flags.timeout,
        rollback: this.flags.rollback,
        breakGlass: this.flags['break-glass'],
        warningsAsErrors: this.flags['warnings-as-errors'],
        cancelOnInterrupt: this.flags['cancel-on-interrupt'],
      });
    }
    if (this.flags['break-glass'] !== undefined) this.ctx.ui.warn('--break-glass has no effect in direct mode: freezes are svapp\'s deploy policy (svctl.server)');
    // The Kubernetes client takes a while to load: start now, while specs and git are read.
    const preload = import('@bcl/deploy-core/kube').then((m) => m.preloadClient());
    const environment = environmentOf(this.ctx);
    const specs = loadSpecs(this.ctx.cwd, argv as string[]);
    const {buildTargets} = await import('@bcl/deploy-core/deploy');
    const targets = await buildTargets(specs, {environment, clusters: clustersOf(this.ctx), imageTag: this.flags['image-tag'], allowDirty: this.flags['allow-dirty'], warn: (m) => this.ctx.ui.warn(m)});
    await preload;
    const {deployServices} = await import('@bcl/deploy-core/deploy');
    const {reportFailures} = await import('../deploy/report.js');
    const {runDeploy} = await import('@bcl/deploy-core/deploy');
    const {annotateDeploy} = await import('../observability/annotate.js');
    const {uiSink} = await import('../cli/events.js');
    const ui = this.ctx.ui;
    ui.step(`Deploying ${targets.length === 1 ? `${targets[0]!.spec.name} (${targets[0]!.rendered.image})` : `${targets.length} services`} to ${environment}`);
    return runDeploy(environment, {
      deploy: () => deployServices(targets, {environment, timeoutMs: this.flags.timeout, rollback: this.flags.rollback, signal: this.ctx.signal, events: uiSink(ui), env: this.ctx.env}),
      // Marks each deploy on the service's dashboards when svctl.grafana is set (a problem only warns).
      annotate: async (s) => void (await annotateDeploy(this.ctx, {service: s.service, environment, image: s.image, revision: s.revision})),
      report: (services) => reportFailures(ui, services),
      now: Date.now,
    });
  }

  protected override renderResult(result: DeployResult, out: ResultWriter): void {
    if (result.services.length > 1) {
      out.text(`${out.paint('green', '✓')} ${result.services.length} services deployed to ${result.environment} in ${(result.durationMs / 1000).toFixed(1)}s`);
      return renderSummary(out, result.services);
    }
    for (const s of result.services) {
      out.text(`${out.paint('green', '✓')} ${s.service} revision ${s.revision} (${s.image}) deployed to ${s.environment} in ${(s.durationMs / 1000).toFixed(1)}s${s.pruned.length ? `; pruned ${s.pruned.join(', ')}` : ''}`);
    }
  }
}
