import {Flags} from '../command/definitions.js';
import {BclCommand} from '../command/base.js';
import type {ResultWriter} from '../output/result.js';
import type {CheckOutcome, InstallOutcome} from './installer.js';
import {describeCheck, renderOutcome} from './render.js';

export type UpdateResult = InstallOutcome | CheckOutcome;

/**
 * `<tool> update`: one implementation for every tool (each re-exports it as its
 * src/commands/update.ts). A copy installed by `bcl install` updates itself from the signed
 * store; a checkout or an npm install says how to update it instead.
 */
export class UpdateCommand extends BclCommand<typeof UpdateCommand> {
  static override summary = 'Update this tool from the release store, or roll it back.';
  static override description = `Reads the channel manifest from bcl.update.store, checks its signature against bcl.update.trustedKeys and its expiry, refuses a version lower than the highest installed from that channel (unless --version or --allow-downgrade), downloads the artifact checking sha256 and size, unpacks it beside the current version and switches to it atomically. Any failure leaves the current version in place. --rollback switches back to the previous version, which stays installed (bcl.update.keep).`;
  static override examples = [
    '<%= config.bin %> update',
    '<%= config.bin %> update --check',
    '<%= config.bin %> update --channel beta',
    '<%= config.bin %> update --version 1.4.2',
    '<%= config.bin %> update --rollback',
  ];
  static override flags = {
    channel: Flags.string({summary: 'Follow this channel from now on (default: the one installed from, else bcl.update.channel).'}),
    version: Flags.string({summary: 'Install exactly this version (may be lower than the current one).'}),
    rollback: Flags.boolean({summary: 'Switch back to the previous installed version (or to --version).', exclusive: ['channel', 'check', 'allow-downgrade', 'force']}),
    check: Flags.boolean({summary: 'Only say whether a newer version is available.', exclusive: ['version', 'force']}),
    'allow-downgrade': Flags.boolean({summary: "Accept a channel that offers a version lower than the highest installed from it."}),
    force: Flags.boolean({summary: 'Download and reinstall even if the version is already installed.'}),
    background: Flags.boolean({hidden: true, summary: 'The daily background check: update the notice cache, print nothing.'}),
  };
  /** Always allowed, even below the channel's minimum version: it is the way out. */
  static override allowedBelowMinimumVersion = true;

  async run(): Promise<UpdateResult> {
    const [{runningCopy, unmanagedCopy}, {checkVersion, installRequest, updaterIo, updateSettings}, installer, {ToolInstall}] = await Promise.all([
      import('./mode.js'),
      import('./client.js'),
      import('./installer.js'),
      import('./layout.js'),
    ]);
    const tool = this.config.bin;
    const copy = runningCopy(this.config.root);
    if (copy.kind !== 'installed') throw unmanagedCopy(copy, tool, this.config.pjson.name);
    const settings = updateSettings(this.ctx);
    const roots = {...copy.roots, bin: settings.binDir ?? `${copy.roots.data}/bin`};
    if (this.flags.rollback) return installer.rollbackTool({roots, ui: this.ctx.ui}, tool, checkVersion(this.flags.version));
    const io = updaterIo(this.ctx, roots, copy.versionDir);
    const install = new ToolInstall(roots, tool);
    const request = installRequest(tool, this.flags, install.readState().channel, settings);
    if (this.flags.check || this.flags.background) return installer.checkTool(io, tool, request.channel, install.currentVersion() ?? null);
    return installer.installTool(io, request);
  }

  protected override renderResult(result: UpdateResult, out: ResultWriter): void {
    if (this.flags.background) return;
    if ('action' in result) renderOutcome(result, out);
    else out.text(describeCheck(result));
  }
}
