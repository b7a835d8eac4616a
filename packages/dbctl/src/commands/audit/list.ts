import {Flags} from '@bcl/core';
import type {ResultWriter} from '@bcl/core';
import {AdminCommand} from '../../admin/command.js';
import type {AuditEntry} from '../../audit/log.js';

export default class AuditList extends AdminCommand<typeof AuditList> {
  // Changes nothing: still runs on an installed version below its channel's minimumVersion.
  static override allowedBelowMinimumVersion = true;
  static override summary = 'Show the audit log of administrative operations run from this machine (newest last).';
  static override description = 'The log is append-only JSON lines at $XDG_STATE_HOME/bcl/dbctl/audit.log (dbctl.auditLog to move it); it never holds a password.';
  static override examples = ['<%= config.bin %> audit list --limit 20', '<%= config.bin %> audit list --operation user.create --json'];
  static override flags = {
    operation: Flags.string({summary: 'Only this operation (user.create, grant, provision...).'}),
    limit: Flags.integer({summary: 'Only the last N entries.', min: 1}),
  };

  async run(): Promise<AuditEntry[]> {
    let entries = this.auditLog().read();
    if (this.flags.operation) entries = entries.filter((e) => e.operation === this.flags.operation);
    if (this.flags.limit) entries = entries.slice(-this.flags.limit);
    return entries;
  }

  protected override renderResult(entries: AuditEntry[], out: ResultWriter): void {
    out.table(entries, [
      {header: 'time', get: (e) => e.time},
      {header: 'actor', get: (e) => e.actor},
      {header: 'operation', get: (e) => e.operation},
      {header: 'server', get: (e) => e.server},
      {header: 'target', get: (e) => Object.entries(e.target).filter(([, v]) => v !== undefined && v !== false).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : v}`).join(' ')},
      {header: 'outcome', get: (e) => (e.outcome === 'ok' ? 'ok' : `failed (${e.error})`)},
    ], '(no entries)');
  }
}
