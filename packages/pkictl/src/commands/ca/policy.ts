import {Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import type {CaPolicyResult} from '../../core/ca.js';
import {adminFlags, adminFlagValues, configFlagMap, settingsOf} from '../../flags.js';

export default class CaPolicy extends BclCommand<typeof CaPolicy> {
  static override summary = 'Show the CA policy, or replace it with a validated, signed one (--set).';
  static override description =
    'The policy (ca/policy.yaml) says which profiles exist, their key usages and maximum lifetimes, the allowed email domains, key types and SAN types, and who may approve. It is signed by the CA key: edits that do not go through this command are refused.';
  static override examples = ['<%= config.bin %> ca policy', '<%= config.bin %> ca policy --set policy.yaml --ca-key ~/ca.key'];
  static override flags = {
    ...adminFlags,
    set: Flags.string({summary: 'A policy YAML file to validate, sign and commit (needs --ca-key).'}),
  };
  static override configFlags = configFlagMap;

  async run(): Promise<CaPolicyResult> {
    const {caPolicy} = await import('../../core/ca.js');
    return caPolicy(this.ctx, settingsOf(this.ctx), {setFile: this.flags.set, ...adminFlagValues(this.flags)});
  }

  protected override renderResult(r: CaPolicyResult, out: ResultWriter): void {
    if (r.changed) out.text(`${r.file} updated and signed.`);
    out.keyValue(r.policy as unknown as Record<string, unknown>);
  }
}
