import {Args, Flags} from '../../command/definitions.js';
import {BclCommand} from '../../command/base.js';
import {type ConfigEditResult, editConfig} from '../../config/edit.js';
import type {ResultWriter} from '../../output/result.js';

export default class ConfigSet extends BclCommand<typeof ConfigSet> {
  static override summary = 'Set a configuration key in the user file (default) or the project .bcl.yaml.';
  static override description =
    'The value is checked against the key\'s schema before anything is written. Lists take a comma-separated value or a JSON array. With --profile, the key is set in that profile\'s section.';
  static override examples = [
    '<%= config.bin %> config set bcl.update.store https://releases.example.com/bcl',
    '<%= config.bin %> config set svctl.clusters.prod.context prod-eu --project',
  ];
  // Here --profile names the profile section to write, which may not exist yet.
  static override appliesProfile = false;
  static override args = {
    key: Args.string({description: 'The key, as <namespace>.<path>.', required: true}),
    value: Args.string({description: 'The new value.', required: true}),
  };
  static override flags = {
    user: Flags.boolean({summary: 'Write to $XDG_CONFIG_HOME/bcl/config.yaml (the default).', exclusive: ['project']}),
    project: Flags.boolean({summary: 'Write to the nearest .bcl.yaml (created in the working directory when there is none).'}),
  };

  async run(): Promise<ConfigEditResult> {
    const {result} = await editConfig(
      {key: this.args.key, raw: this.args.value, target: this.flags.project ? 'project' : 'user', ...(this.flags.profile ? {profile: this.flags.profile} : {})},
      {namespaces: await this.configNamespaces(), env: this.ctx.env, cwd: this.ctx.cwd, paths: this.ctx.paths},
    );
    if (result.ignoredUntilTrusted) {
      this.ctx.ui.warn(`${result.key} is ignored in this project file until you trust it: bcl config trust ${result.file} (it chooses a program, server, CA, key or trust root)`);
    }
    return result;
  }

  protected override renderResult(result: ConfigEditResult, out: ResultWriter): void {
    out.text(`${result.key} = ${JSON.stringify(result.value)}  ${out.paint('dim', `(${result.file}${result.profile ? `, profile ${result.profile}` : ''})`)}`);
  }
}
