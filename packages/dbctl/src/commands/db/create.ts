import {Args, Flags} from '@bcl/core';
import {AdminCommand, serverFlags} from '../../admin/command.js';

export interface DbCreateResult {
  database: string;
  created: boolean;
  server: string;
}

export default class DbCreate extends AdminCommand<typeof DbCreate> {
  static override summary = 'Create a database (nothing happens when it exists).';
  static override description =
    'On PostgreSQL, PUBLIC loses CONNECT and TEMPORARY on the new database: only roles granted access (dbctl user create, dbctl grant) can use it.';
  static override examples = ['<%= config.bin %> db create shop --connection prod-pg', '<%= config.bin %> db create shop --owner app --url postgres://admin@127.0.0.1:5432/postgres'];
  static override args = {name: Args.string({description: 'The database name.', required: true})};
  static override flags = {...serverFlags, owner: Flags.string({summary: 'The owning role (PostgreSQL; default: the connected user).'})};

  async run(): Promise<DbCreateResult> {
    const name = this.args.name;
    return this.runOperation({
      operation: 'db.create',
      target: {database: name, owner: this.flags.owner},
      names: [
        {value: name, kind: 'database', from: '<name>'},
        {value: this.flags.owner, kind: 'role', from: '--owner'},
      ],
      body: async (admin, server) => {
        const {created} = await admin.createDatabase(name, this.flags.owner);
        if (!created) this.ctx.ui.info(`database ${name} already exists on ${server.label}`);
        return {database: name, created, server: server.label};
      },
    });
  }
}
