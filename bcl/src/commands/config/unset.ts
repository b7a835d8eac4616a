import {Args, Flags} from '../../command/definitions.js';
import {BclCommand} from '../../command/base.js';
import {type ConfigEditResult, editConfig} from '../../config/edit.js';
import type {ResultWriter} from '../../output/result.js';

export default class ConfigUnset extends BclCommand<typeof ConfigUnset> {
  static override summary = 'Remove a configuration key from the user file (default) or the project .bcl.yaml.';
  // Here --profile names the profile section to write, which may not exist yet.
  static override appliesProfile = false;
  static override args = {key: Args.string({description: 'The key, as <namespace>.<path>.', required: true})};
  static override flags = {
    user: Flags.boolean({summary: 'Edit $XDG_CONFIG_HOME/bcl/config.yaml (the default).', exclusive: ['project']}),
    project: Flags.boolean({summary: 'Edit the nearest .bcl.yaml.'}),
  };

  async run(): Promise<ConfigEditResult> {
    const {result} = await editConfig(
      {key: this.args.key, target: this.flags.project ? 'project' : 'user', ...(this.flags.profile ? {profile: this.flags.profile} : {})},
      {namespaces: await this.configNamespaces(), env: this.ctx.env, cwd: this.ctx.cwd, paths: this.ctx.paths},
    );
    return result;
  }

  protected override renderResult(result: ConfigEditResult, out: ResultWriter): void {
    out.text(`removed ${result.key}  ${out.paint('dim', `(${result.file})`)}`);
  }
}
