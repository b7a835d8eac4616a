import {Flags} from '@bcl/core';
import type {ResultWriter} from '@bcl/core';
import {AdminCommand, serverFlags} from '../../admin/command.js';
import type {AccessRow} from '../../admin/types.js';

export default class AccessList extends AdminCommand<typeof AccessList> {
  // Changes nothing: still runs on an installed version below its channel's minimumVersion.
  static override allowedBelowMinimumVersion = true;
  static override summary = 'Who can do what: roles, memberships, database, schema, table and default privileges, read from the catalogs.';
  static override description = 'Owners appear with the privileges ownership implies; PUBLIC appears as a user. With --user, privileges held through group roles are listed too, with the group in VIA.';
  static override examples = ['<%= config.bin %> access list --database shop', '<%= config.bin %> access list --user reporting --json'];
  static override flags = {
    ...serverFlags,
    database: Flags.string({char: 'd', summary: 'Only this database.'}),
    user: Flags.string({char: 'u', summary: 'Only this user (including what it holds through its group roles).'}),
  };

  async run(): Promise<AccessRow[]> {
    const filter = {database: this.flags.database, user: this.flags.user};
    return this.runOperation({
      operation: 'access.list',
      target: filter,
      names: [
        {value: filter.database, kind: 'database', from: '--database'},
        {value: filter.user, kind: 'role', from: '--user'},
      ],
      body: (admin) => admin.listAccess(filter),
    });
  }

  protected override renderResult(rows: AccessRow[], out: ResultWriter): void {
    const mysql = rows.some((r) => r.host !== undefined);
    out.table(rows, [
      {header: 'user', get: (r) => (mysql && r.host ? `${r.user}@${r.host}` : r.user)},
      {header: 'database', get: (r) => r.database ?? '*'},
      ...(mysql ? [] : [{header: 'schema', get: (r: AccessRow) => r.schema ?? ''}]),
      {header: 'object', get: (r) => r.object},
      {header: 'privileges', get: (r) => r.privileges.join(',')},
      ...(rows.some((r) => r.via) ? [{header: 'via', get: (r: AccessRow) => r.via ?? ''}] : []),
    ]);
  }
}
