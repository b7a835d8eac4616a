import {Args, Flags} from '../command/definitions.js';
import {BclCommand} from '../command/base.js';
import {BclError, usageError} from '../errors.js';
import type {ResultWriter} from '../output/result.js';
import type {CheckOutcome, InstallOutcome} from '../distribution/installer.js';
import {describeCheck, describeOutcome} from '../distribution/render.js';

export interface BclUpdateResult {
  tools: {tool: string; ok: boolean; outcome?: InstallOutcome; check?: CheckOutcome; error?: {code: string; message: string}}[];
}

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
    const [{configuredRoots, updaterIo, updateSettings}, installer, {installedTools, ToolInstall}, {runningCopy}, {toBclError}] = await Promise.all([
      import('../distribution/client.js'),
      import('../distribution/installer.js'),
      import('../distribution/layout.js'),
      import('../distribution/mode.js'),
      import('../errors.js'),
    ]);
    const copy = runningCopy(this.config.root);
    const settings = updateSettings(this.ctx);
    const roots = copy.kind === 'installed' ? {...copy.roots, bin: settings.binDir ?? `${copy.roots.data}/bin`} : configuredRoots(this.ctx);
    const named = this.argv.filter((a) => !a.startsWith('-'));
    if (this.flags.background) named.splice(0, named.length, 'bcl');
    const installed = installedTools(roots);
    const tools = named.length > 0 ? named : installed;
    if (this.flags.rollback) {
      if (tools.length !== 1 || named.length !== 1) throw usageError('--rollback needs exactly one tool name', {hint: 'e.g. bcl update --rollback svctl'});
      const outcome = await installer.rollbackTool({roots, ui: this.ctx.ui}, tools[0]!);
      return {tools: [{tool: tools[0]!, ok: true, outcome}]};
    }
    if (tools.length === 0) {
      this.ctx.ui.info(`no tool is installed in ${roots.tools}; install one with: bcl install <tool>`);
      return {tools: []};
    }
    const io = updaterIo(this.ctx, roots, copy.kind === 'installed' ? copy.versionDir : undefined);
    const results: BclUpdateResult['tools'] = [];
    let firstFailure: ReturnType<typeof toBclError> | undefined;
    for (const tool of tools) {
      const install = new ToolInstall(roots, tool);
      const channel = install.readState().channel ?? settings.channel;
      try {
        if (!installed.includes(tool)) throw usageError(`${tool} is not installed in ${roots.tools}`, {hint: `Install it with: bcl install ${tool}`});
        if (this.flags.check || this.flags.background) {
          results.push({tool, ok: true, check: await installer.checkTool(io, tool, channel, install.currentVersion() ?? null)});
        } else {
          const outcome = await installer.installTool(io, {tool, channel, channelExplicit: false, force: false, allowDowngrade: this.flags['allow-downgrade']});
          this.ctx.ui.success(describeOutcome(outcome));
          results.push({tool, ok: true, outcome});
        }
      } catch (error) {
        const e = toBclError(error);
        firstFailure ??= e;
        this.ctx.ui.warn(`${tool}: ${e.message}`);
        results.push({tool, ok: false, error: {code: e.code, message: e.message}});
      }
    }
    if (firstFailure) {
      if (results.length === 1) throw firstFailure;
      const failed = results.filter((r) => !r.ok).map((r) => r.tool);
      throw new BclError('update.some_failed', `${failed.length} of ${results.length} tools could not be updated: ${failed.join(', ')}`, firstFailure.exitCode, {
        ...(firstFailure.hint ? {hint: firstFailure.hint} : {}),
        details: {tools: results},
      });
    }
    return {tools: results};
  }

  protected override renderResult(result: BclUpdateResult, out: ResultWriter): void {
    if (this.flags.background) return;
    if (result.tools.length === 0) return out.text('nothing installed');
    out.text(result.tools.map((t) => (t.check ? describeCheck(t.check) : t.outcome ? describeOutcome(t.outcome) : `${t.tool}: ${t.error?.message}`)).join('\n'));
  }
}
