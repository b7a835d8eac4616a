import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';
import {BclCommand} from '../command/base.js';
import {type DoctorCheck, type DoctorContribution, endpointCheck, programCheck} from '../doctor/checks.js';
import {conflict} from '../errors.js';
import type {ResultWriter} from '../output/result.js';
import {hostToolRoots, readPackageJson} from '../tools.js';

export interface DoctorResult {
  ok: boolean;
  checks: DoctorCheck[];
}

export default class Doctor extends BclCommand<typeof Doctor> {
  static override summary = 'Check the toolchain, the configuration and the reachability of configured endpoints.';
  static override allowedBelowMinimumVersion = true;
  static override description =
    'Each installed tool adds its own checks (clusters, Jenkins, terraform...). Exits 0 when nothing failed (warnings allowed), 6 when a check failed, 3 when the configuration is invalid.';
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json'];

  async run(): Promise<DoctorResult> {
    const ctx = this.ctx;
    const major = Number(process.versions.node.split('.')[0]);
    const checks: DoctorCheck[] = [
      {
        name: 'node',
        status: major >= 22 ? 'ok' : 'fail',
        message: `${process.version} (${process.platform}-${process.arch})`,
        ...(major >= 22 ? {} : {hint: 'BCL needs Node >= 22; ./scripts/bootstrap installs it.'}),
      },
      {name: 'config', status: 'ok', message: ctx.config.files.length > 0 ? `valid: ${ctx.config.files.map((f) => f.path).join(', ')}` : 'valid (defaults only)'},
      await programCheck(ctx, {name: 'git', command: 'git', args: ['--version'], purpose: 'by pkictl stores and svctl deploys'}),
    ];
    const store = ctx.config.get('bcl.update.store');
    if (typeof store === 'string' && /^https?:\/\//.test(store)) {
      checks.push(await endpointCheck(ctx, 'bcl.update.store', store));
    } else if (typeof store === 'string') {
      checks.push({name: 'bcl.update.store', status: existsSync(store) ? 'ok' : 'fail', message: existsSync(store) ? store : `${store} does not exist`});
    }
    for (const [tool, root] of Object.entries(hostToolRoots(pathToFileURL(join(this.config.root, 'bin', 'run.js')).href, ctx.env))) {
      const pjson = readPackageJson(root) as {bcl?: {doctor?: string}};
      if (!pjson.bcl?.doctor) continue;
      const mod = (await this.importModule(root, pjson.bcl.doctor)) as {default: DoctorContribution};
      try {
        checks.push(...(await mod.default(ctx)));
      } catch (error) {
        checks.push({name: tool, status: 'fail', message: `its checks failed: ${(error as Error).message}`});
      }
    }
    const ok = checks.every((c) => c.status !== 'fail');
    if (!ok) {
      const failed = checks.filter((c) => c.status === 'fail');
      this.renderResult({ok, checks}, null);
      throw conflict('doctor.failed', `${failed.length} check(s) failed: ${failed.map((c) => c.name).join(', ')}`, {details: {checks}});
    }
    return {ok, checks};
  }

  protected override renderResult(result: DoctorResult, out: ResultWriter | null): void {
    const ui = this.ctx.ui;
    const mark = {ok: ui.paint('green', '✓'), warn: ui.paint('yellow', '!'), fail: ui.paint('red', '✗')};
    const lines = result.checks.map((c) => `${mark[c.status]} ${c.name}: ${c.message}${c.hint && c.status !== 'ok' ? `\n    ${ui.paint('dim', c.hint)}` : ''}`);
    if (out) out.text(lines.join('\n'));
    else if (!this.ctx.json) ui.line(lines.join('\n'));
  }
}
