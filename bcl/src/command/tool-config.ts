import {type ConfigListResult, renderConfigList} from '../config/render.js';
import type {ResultWriter} from '../output/result.js';
import {BclCommand} from './base.js';

/** `<tool> config`: the tool's own namespace with the origin of every value. */
export class ToolConfigCommand extends BclCommand<typeof ToolConfigCommand> {
  static override summary = "Show this tool's configuration and where each value comes from.";
  static override allowedBelowMinimumVersion = true;
  static override description = 'Use `bcl config set <key> <value>` to change a value.';
  static override examples = ['<%= config.bin %> config', '<%= config.bin %> config --json'];

  async run(): Promise<ConfigListResult> {
    const config = this.ctx.config;
    const ns = this.config.bin;
    const ignored = config.ignored.filter((i) => i.key.startsWith(`${ns}.`));
    return {files: [...config.files], profile: config.profile ?? null, entries: config.entries(ns), ignored};
  }

  protected override renderResult(result: ConfigListResult, out: ResultWriter): void {
    renderConfigList(result, out, true);
  }
}
