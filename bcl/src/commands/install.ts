import {Args, Flags} from '../command/definitions.js';
import {BclCommand} from '../command/base.js';
import {invalidInput} from '../errors.js';
import type {ResultWriter} from '../output/result.js';
import type {InstallOutcome} from '../distribution/installer.js';
import {renderOutcome} from '../distribution/render.js';

export interface InstallResult extends InstallOutcome {
  /** Whether the shim directory is on PATH (if not, the hint says what to add). */
  onPath: boolean;
}

export default class Install extends BclCommand<typeof Install> {
  static override summary = 'Install a tool from the release store: signed, checked, switched atomically.';
  static override description = `Reads channels/<channel>/<tool>.json from bcl.update.store, checks its signature against bcl.update.trustedKeys and its expiry, downloads the artifact for this platform checking sha256 and size, unpacks it into $XDG_DATA_HOME/bcl/tools/<tool>/<version>/, checks it starts, then points 'current' at it and writes the shim $XDG_DATA_HOME/bcl/bin/<tool> (or bcl.update.binDir). Afterwards \`<tool> update\` keeps it current.`;
  static override examples = [
    '<%= config.bin %> install svctl',
    '<%= config.bin %> install pkictl --channel beta',
    '<%= config.bin %> install dbctl --version 1.4.2',
  ];
  static override args = {
    tool: Args.string({description: 'The tool: bcl, svctl, dbctl, pkictl, csshctl...', required: true}),
  };
  static override flags = {
    channel: Flags.string({summary: 'The channel to install from and follow (default: bcl.update.channel).'}),
    version: Flags.string({summary: 'Install exactly this version.'}),
    force: Flags.boolean({summary: 'Reinstall even if this version is already installed.'}),
    'allow-downgrade': Flags.boolean({summary: "Accept a channel that offers a version lower than the highest installed from it."}),
  };
  static override allowedBelowMinimumVersion = true;

  async run(): Promise<InstallResult> {
    const [{configuredRoots, installRequest, updaterIo, updateSettings}, {installTool}, {ToolInstall}] = await Promise.all([
      import('../distribution/client.js'),
      import('../distribution/installer.js'),
      import('../distribution/layout.js'),
    ]);
    const tool = this.args.tool;
    if (!/^[a-z][a-z0-9-]*$/.test(tool)) throw invalidInput('update.tool', `"${tool}" is not a tool name`, {hint: 'Tool names are lowercase, e.g. svctl.'});
    const roots = configuredRoots(this.ctx);
    const request = installRequest(tool, this.flags, new ToolInstall(roots, tool).readState().channel, updateSettings(this.ctx));
    const outcome = await installTool(updaterIo(this.ctx, roots), request);
    const dirs = (this.ctx.env.PATH ?? '').split(':');
    const onPath = dirs.includes(roots.bin);
    if (!onPath) this.ctx.ui.warn(`${roots.bin} is not on your PATH: add it (e.g. export PATH="${roots.bin}:$PATH" in your shell profile) to run ${tool}`);
    return {...outcome, onPath};
  }

  protected override renderResult(result: InstallResult, out: ResultWriter): void {
    renderOutcome(result, out);
    out.text(out.paint('dim', `run it as ${result.tool} (shim ${result.shim})`));
  }
}
