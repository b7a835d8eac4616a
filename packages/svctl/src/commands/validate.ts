import {BclCommand, type ResultWriter} from '@bcl/core';
import {envFlag, specArgs} from '../cli/flags.js';
import {clustersOf, loadSpecs} from '../cli/inputs.js';

export interface ValidateResult {
  specs: {file: string; name: string; team: string; environments: {name: string; namespace: string; cluster: string; objects: number}[]}[];
}

export default class Validate extends BclCommand<typeof Validate> {
  // Changes nothing: still runs on an installed version below its channel's minimumVersion.
  static override allowedBelowMinimumVersion = true;
  static override summary = 'Check service specs: keys, types, and every environment\'s overrides.';
  static override description =
    'Each environment declared in the spec (or only --env) is resolved and rendered, so a problem in an override is found here and not at deploy time. Exits 3 naming the file, line and key path of the first problem.';
  static override examples = ['<%= config.bin %> validate', '<%= config.bin %> validate services/*/service.yaml --json', '<%= config.bin %> validate --env prod'];
  static override strict = false;
  static override args = specArgs;
  static override flags = {env: envFlag};

  async run(): Promise<ValidateResult> {
    const {argv} = await this.parse(Validate);
    const {resolveEnvironment} = await import('@bcl/deploy-core/spec');
    const {renderService} = await import('@bcl/deploy-core/render');
    const clusters = clustersOf(this.ctx);
    const specs = loadSpecs(this.ctx.cwd, argv as string[], this.ctx.validations).map(({path, spec}) => {
      const names = this.flags.env ? [this.flags.env] : Object.keys(spec.environments);
      const environments = names.map((env) => {
        const resolved = resolveEnvironment(spec, env, clusters);
        const rendered = renderService(resolved, {imageTag: 'validate'});
        return {name: env, namespace: resolved.namespace, cluster: resolved.cluster, objects: rendered.objects.length};
      });
      return {file: path, name: spec.name, team: spec.team, environments};
    });
    return {specs};
  }

  protected override renderResult(result: ValidateResult, out: ResultWriter): void {
    for (const s of result.specs) {
      const envs = s.environments.map((e) => `${e.name} (namespace ${e.namespace})`).join(', ');
      out.text(`${out.paint('green', '✓')} ${s.file}: ${s.name} is valid${envs ? `; environments: ${envs}` : ''}`);
    }
  }
}
