import {Args, Flags} from '../command/definitions.js';
import {BclCommand} from '../command/base.js';
import type {ResultWriter} from '../output/result.js';
import type {UpdaterIo} from '../distribution/installer.js';
import {describeCheck, describeOutcome} from '../distribution/render.js';
import type {BclUpdateResult} from '../distribution/update-all.js';

export type {BclUpdateResult} from '../distribution/update-all.js';

export default class Update extends BclCommand<typeof Update> {
  static override summary = 'Update every installed tool (or the ones named) from the release store.';
  static override description = `Each tool installed with \`bcl install\` is updated from its channel with the same checks as \`<tool> update\` (signature, expiry, rollback protection, sha256 and size, an atomic switch). One tool failing does not stop the others; the exit code is that of the first failure.`;
  static override examples = ['<%= config.bin %> update', '<%= config.bin %> update --check', '<%= config.bin %> update svctl pkictl', '<%= config.bin %> update --rollback svctl'];
  static override strict = false;
  static override args = {
    tool: Args.string({description: 'Tools to update (default: every installed tool).'}),
  };
  static override flags = {
    check: Flags.boolean({summary: 'Only say which tools have a newer version.'}),
    rollback: Flags.boolean({summary: 'Switch the named tool back to its previous version.'}),
    'allow-downgrade': Flags.boolean({summary: "Accept channels that offer a version lower than the highest installed from them."}),
    background: Flags.boolean({hidden: true, summary: 'The daily background check of bcl itself.'}),
  };
  static override allowedBelowMinimumVersion = true;

  async run(): Promise<BclUpdateResult> {
    const [{configuredRoots, updaterIo, updateSettings}, installer, {installedTools, ToolInstall}, {runningCopy}, {updateAll}] = await Promise.all([
      import('../distribution/client.js'),
      import('../distribution/installer.js'),
      import('../distribution/layout.js'),
      import('../distribution/mode.js'),
      import('../distribution/update-all.js'),
    ]);
    const copy = runningCopy(this.config.root);
    const settings = updateSettings(this.ctx);
    const roots = copy.kind === 'installed' ? {...copy.roots, bin: settings.binDir ?? `${copy.roots.data}/bin`} : configuredRoots(this.ctx);
    // The store and keys are checked once there is a tool to read from the store.
    let updater: UpdaterIo | undefined;
    const io = () => (updater ??= updaterIo(this.ctx, roots, copy.kind === 'installed' ? copy.versionDir : undefined));
    return updateAll(
      {named: this.argv.filter((a) => !a.startsWith('-')), check: this.flags.check, rollback: this.flags.rollback, allowDowngrade: this.flags['allow-downgrade'], background: this.flags.background},
      {
        toolsDir: roots.tools,
        installed: () => installedTools(roots),
        prepare: () => void io(),
        recordedChannel: (tool) => new ToolInstall(roots, tool).readState().channel,
        defaultChannel: settings.channel,
        currentVersion: (tool) => new ToolInstall(roots, tool).currentVersion() ?? null,
        check: (tool, channel, current) => installer.checkTool(io(), tool, channel, current),
        install: (request) => installer.installTool(io(), request),
        rollback: (tool) => installer.rollbackTool({roots, ui: this.ctx.ui}, tool),
        ui: this.ctx.ui,
      },
    );
  }

  protected override renderResult(result: BclUpdateResult, out: ResultWriter): void {
    if (this.flags.background) return;
    if (result.tools.length === 0) return out.text('nothing installed');
    out.text(result.tools.map((t) => (t.check ? describeCheck(t.check) : t.outcome ? describeOutcome(t.outcome) : `${t.tool}: ${t.error?.message}`)).join('\n'));
  }
}
