import {Args} from '../../command/definitions.js';
import {resolve} from 'node:path';
import {BclCommand} from '../../command/base.js';
import {findProjectFile} from '../../config/files.js';
import {removeTrust} from '../../config/trust.js';
import {invalidInput} from '../../errors.js';
import type {ResultWriter} from '../../output/result.js';

export interface ConfigUntrustResult {
  file: string;
  /** Whether the file was trusted before. */
  removed: boolean;
}

export default class ConfigUntrust extends BclCommand<typeof ConfigUntrust> {
  static override summary = 'Stop trusting a project .bcl.yaml (default: the nearest one).';
  static override examples = ['<%= config.bin %> config untrust', '<%= config.bin %> config untrust ~/src/app/.bcl.yaml'];
  static override allowedBelowMinimumVersion = true;
  static override warnsIgnoredConfig = false;
  static override args = {file: Args.string({description: 'The project file (default: the nearest .bcl.yaml).'})};

  async run(): Promise<ConfigUntrustResult> {
    const target = this.args.file ?? findProjectFile(this.ctx.cwd);
    if (!target) throw invalidInput('config.no_project_file', `no .bcl.yaml in ${this.ctx.cwd} or any directory above it`, {hint: 'Pass the file: bcl config untrust <file>.'});
    const file = resolve(this.ctx.cwd, target);
    return {file, removed: await removeTrust(this.ctx.paths, file)};
  }

  protected override renderResult(result: ConfigUntrustResult, out: ResultWriter): void {
    out.text(result.removed ? `no longer trusted: ${result.file}` : `${result.file} was not trusted`);
  }
}
