import {Args, Flags} from '../../command/definitions.js';
import {BclCommand} from '../../command/base.js';
import type {ResultWriter} from '../../output/result.js';
import {type ConfigListResult, renderConfigList} from '../../config/render.js';

export type {ConfigListResult};

export default class ConfigList extends BclCommand<typeof ConfigList> {
  static override summary = 'List every configuration value, optionally with where it comes from.';
  static override allowedBelowMinimumVersion = true;
  static override description =
    'Layers, lowest first: defaults, /etc/bcl/config.yaml, $XDG_CONFIG_HOME/bcl/config.yaml, the nearest .bcl.yaml, --config, the selected profile, BCL_<NAMESPACE>_<KEY> variables, flags. With --show-origin, values a higher layer overrides are shown too, and values an untrusted project file may not set are shown as ignored.';
  static override examples = ['<%= config.bin %> config list --show-origin', '<%= config.bin %> config list svctl --json'];
  static override args = {prefix: Args.string({description: 'Only keys under this prefix (e.g. svctl or bcl.update).'})};
  static override flags = {'show-origin': Flags.boolean({summary: 'Show the origin of each value and the values it overrides.'})};

  async run(): Promise<ConfigListResult> {
    const config = this.ctx.config;
    const prefix = this.args.prefix;
    const ignored = config.ignored.filter((i) => !prefix || i.key === prefix || i.key.startsWith(`${prefix}.`));
    return {files: [...config.files], profile: config.profile ?? null, entries: config.entries(prefix), ignored};
  }

  protected override renderResult(result: ConfigListResult, out: ResultWriter): void {
    renderConfigList(result, out, this.flags['show-origin']);
  }
}
