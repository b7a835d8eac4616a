import {Args, Flags} from '../../command/definitions.js';
import {BclCommand} from '../../command/base.js';
import {findProjectFile, readConfigFile} from '../../config/files.js';
import {contentHash, readTrustRecords, recordTrust, valuesNeedingTrust} from '../../config/trust.js';
import {invalidInput} from '../../errors.js';
import type {ResultWriter} from '../../output/result.js';

export interface ConfigTrustResult {
  file: string;
  sha256: string;
  /** The values that now count: keys that choose a program, server, CA, key or trust root. */
  enabled: {key: string; value: unknown}[];
}

export interface TrustedFilesResult {
  files: {file: string; sha256: string; trustedAt: string; state: 'trusted' | 'changed' | 'missing'}[];
}

export default class ConfigTrust extends BclCommand<typeof ConfigTrust> {
  static override summary = 'Trust a project .bcl.yaml, so it may choose programs, servers, CAs, keys and trust roots.';
  static override description =
    'A .bcl.yaml arrives with git clone, so by default it may set only preferences; keys that name a program, a server, a CA, a key or a trust root are ignored with a warning. Trusting records the file\'s exact content (SHA-256): when the file changes, it is untrusted again. Default: the nearest .bcl.yaml up from the current directory.';
  static override examples = ['<%= config.bin %> config trust', '<%= config.bin %> config trust ./.bcl.yaml --json', '<%= config.bin %> config trust --list'];
  static override allowedBelowMinimumVersion = true;
  static override warnsIgnoredConfig = false;
  static override args = {file: Args.string({description: 'The project file (default: the nearest .bcl.yaml).'})};
  static override flags = {list: Flags.boolean({summary: 'List the trusted files and whether each is unchanged.'})};

  async run(): Promise<ConfigTrustResult | TrustedFilesResult> {
    const {paths, cwd} = this.ctx;
    if (this.flags.list) {
      return {
        files: readTrustRecords(paths).map((r) => {
          const file = readConfigFile(r.file, 'project');
          const state = !file ? 'missing' : contentHash(file.text) === r.sha256 ? 'trusted' : 'changed';
          return {...r, state};
        }),
      };
    }
    const target = this.args.file ?? findProjectFile(cwd);
    if (!target) {
      throw invalidInput('config.no_project_file', `no .bcl.yaml in ${cwd} or any directory above it`, {hint: 'Pass the file to trust: bcl config trust <file>.'});
    }
    const file = readConfigFile(target, 'project', true)!;
    const record = await recordTrust(paths, file.path, file.text);
    return {file: record.file, sha256: record.sha256, enabled: valuesNeedingTrust(file, await this.configNamespaces())};
  }

  protected override renderResult(result: ConfigTrustResult | TrustedFilesResult, out: ResultWriter): void {
    if ('files' in result) {
      if (result.files.length === 0) return out.text('(no trusted project files)');
      out.table(result.files, [
        {header: 'file', get: (r) => r.file},
        {header: 'state', get: (r) => r.state},
        {header: 'trusted at', get: (r) => r.trustedAt},
      ]);
      return;
    }
    out.text(`trusted ${result.file}  ${out.paint('dim', `(sha256 ${result.sha256.slice(0, 16)}…)`)}`);
    for (const v of result.enabled) out.text(`  ${v.key} = ${typeof v.value === 'string' ? v.value : JSON.stringify(v.value)}`);
  }
}
