import {Args, Flags} from '@bcl/core';
import {AdminCommand, serverFlags} from '../admin/command.js';
import {namesOf} from '../admin/names.js';

export interface RevokeResult {
  user: string;
  databases: string[];
  schemas: Record<string, string[]>;
}

export default class Revoke extends AdminCommand<typeof Revoke> {
  static override summary = "Remove a user's access to databases (or to some schemas of them).";
  static override description = 'Privileges on the database, its schemas, tables and sequences, and default privileges for future tables, are all removed in one transaction (PostgreSQL).';
  static override examples = ['<%= config.bin %> revoke reporting --database shop', '<%= config.bin %> revoke etl --database shop --schema staging'];
  static override args = {user: Args.string({description: 'The user (role) name.', required: true})};
  static override flags = {
    ...serverFlags,
    database: Flags.string({char: 'd', summary: 'A database to remove access to (repeatable).', multiple: true, required: true}),
    schema: Flags.string({char: 's', summary: 'PostgreSQL: only these schemas (repeatable); the database itself stays reachable.', multiple: true}),
  };

  async run(): Promise<RevokeResult> {
    const user = this.args.user;
    const databases = this.flags.database;
    return this.runOperation({
      operation: 'revoke',
      target: {user, databases, schemas: this.flags.schema},
      names: [{value: user, kind: 'role', from: '<user>'}, ...namesOf(databases, 'database', '--database'), ...namesOf(this.flags.schema, 'schema', '--schema')],
      body: async (admin) => {
        const schemas: Record<string, string[]> = {};
        for (const database of databases) schemas[database] = (await admin.revokeAccess(user, database, this.flags.schema)).schemas;
        return {user, databases, schemas};
      },
    });
  }
}
