import {BclCommand, type ResultWriter} from '@bcl/core';
import {specFlags} from '../terraform/flags.js';

export interface ValidateResult {
  file: string;
  name: string;
  engine: string;
  environments: {name: string | null; provider: string; databases: number; roles: number}[];
}

export default class Validate extends BclCommand<typeof Validate> {
  // Changes nothing: still runs on an installed version below its channel's minimumVersion.
  static override allowedBelowMinimumVersion = true;
  static override summary = 'Check a database spec: keys, types, names for the engine, and every environment\'s overrides.';
  static override description =
    'The base spec and each environment declared in it (or only --env) are resolved and checked as plan and provision check them, without reaching a server or running terraform. Exits 3 naming the file, line and key path of every problem.';
  static override examples = ['<%= config.bin %> validate -f db.yaml', '<%= config.bin %> validate -f db.yaml --env prod --json'];
  static override flags = specFlags;

  async run(): Promise<ValidateResult> {
    const {loadSpec} = await import('../spec/load.js');
    const base = loadSpec(this.flags.file, undefined, this.ctx.validations);
    const names = this.flags.env !== undefined ? [this.flags.env] : [undefined, ...base.environments];
    const environments = names.map((env) => {
      const {spec} = env === undefined ? base : loadSpec(this.flags.file, env, this.ctx.validations);
      return {name: env ?? null, provider: spec.provider, databases: spec.databases.length, roles: new Set(spec.access.map((a) => a.role)).size};
    });
    return {file: base.file, name: base.spec.name, engine: base.spec.engine, environments};
  }

  protected override renderResult(result: ValidateResult, out: ResultWriter): void {
    const envs = result.environments.map((e) => `${e.name ?? 'base'} (${e.provider}, ${e.databases} database${e.databases === 1 ? '' : 's'}, ${e.roles} role${e.roles === 1 ? '' : 's'})`);
    out.text(`${out.paint('green', '✓')} ${result.file}: ${result.name} (${result.engine}) is valid: ${envs.join(', ')}`);
  }
}
