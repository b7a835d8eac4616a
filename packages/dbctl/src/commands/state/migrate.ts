import {Flags} from '@bcl/core';
import type {ResultWriter} from '@bcl/core';
import {AdminCommand} from '../../admin/command.js';
import {lockFlags, specFlags} from '../../terraform/flags.js';
import type {MigrateResult} from '../../terraform/state.js';

export default class StateMigrate extends AdminCommand<typeof StateMigrate> {
  static override summary = "Move the instance's Terraform state to the backend dbctl.backend now names (e.g. from local to pg).";
  static override description = `Set dbctl.backend to the new backend first; --to names it again, as a check. The state is copied from the backend the work directory was last initialised with (terraform init -migrate-state), under the locks of both; every resource must arrive, and the old local state file is renamed to <file>.migrated-to-<type> rather than deleted.`;
  static override examples = ['<%= config.bin %> state migrate -f db.yaml --to pg', '<%= config.bin %> state migrate -f db.yaml --env prod --to pg --json'];
  static override flags = {
    ...specFlags,
    ...lockFlags,
    to: Flags.string({summary: 'The backend to move to (must be dbctl.backend.type).', options: ['local', 'gcs', 's3', 'pg'], required: true}),
  };

  async run(): Promise<MigrateResult> {
    const {migrateState} = await import('../../terraform/state.js');
    return migrateState({ctx: this.ctx, settings: this.settings(), specFile: this.flags.file, env: this.flags.env, lockTimeout: this.flags['lock-timeout']}, this.flags.to, this.auditLog());
  }

  protected override renderResult(result: MigrateResult, out: ResultWriter): void {
    out.text(result.migrated ? `${result.instance}: moved ${result.resources} resources from ${result.from} to ${result.state}${result.keptAside ? ` (old state kept as ${result.keptAside})` : ''}` : `${result.instance}: already in ${result.state} (${result.resources} resources)`);
  }
}
