import {Args, Flags} from '../../command/definitions.js';
import {stringify} from 'yaml';
import {BclCommand} from '../../command/base.js';
import {parseKey} from '../../config/edit.js';
import {isKnownNamespace, KNOWN_NAMESPACES} from '../../config/namespace.js';
import {invalidInput} from '../../errors.js';
import type {Origin} from '../../config/resolve.js';
import type {ResultWriter} from '../../output/result.js';

export interface ConfigGetResult {
  key: string;
  value: unknown;
  /** Where the effective value comes from; null when the key is unset. */
  origin: Origin | null;
  overridden: {value: unknown; origin: Origin}[];
}

export default class ConfigGet extends BclCommand<typeof ConfigGet> {
  static override summary = 'Show the effective value of a configuration key.';
  static override allowedBelowMinimumVersion = true;
  static override description = 'A key is <namespace>.<path>, e.g. svctl.clusters.prod.context. A section prints all of its keys.';
  static override examples = ['<%= config.bin %> config get bcl.update.channel --show-origin', '<%= config.bin %> config get svctl --json'];
  static override args = {key: Args.string({description: 'The key, as <namespace>.<path>.', required: true})};
  static override flags = {'show-origin': Flags.boolean({summary: 'Also show the file, variable or flag the value comes from.'})};

  async run(): Promise<ConfigGetResult> {
    const key = this.args.key;
    if (key.includes('.')) parseKey(key, await this.configNamespaces());
    else if (!isKnownNamespace(key)) {
      throw invalidInput('config.unknown_key', `${key}: unknown namespace (expected one of: ${KNOWN_NAMESPACES.join(', ')})`, {details: {key}});
    }
    const entry = this.ctx.config.entry(key);
    const value = this.ctx.config.get(key);
    return {key, value: value ?? null, origin: entry?.origin ?? null, overridden: entry?.overridden ?? []};
  }

  protected override renderResult(result: ConfigGetResult, out: ResultWriter): void {
    if (result.value === null) return;
    const text = typeof result.value === 'object' ? stringify(result.value).trimEnd() : String(result.value);
    if (!this.flags['show-origin']) return out.text(text);
    const origin = result.origin?.label ?? 'various (see config list --show-origin)';
    out.text(`${text}\t${out.paint('dim', `(${origin})`)}`);
    for (const o of result.overridden) out.text(out.paint('dim', `  overrides ${JSON.stringify(o.value)} from ${o.origin.label}`));
  }
}
