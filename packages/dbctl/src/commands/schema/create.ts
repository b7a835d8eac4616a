import {Args, Flags} from '@bcl/core';
import {AdminCommand, serverFlags} from '../../admin/command.js';

export interface SchemaCreateResult {
  database: string;
  schema: string;
  created: boolean;
}

export default class SchemaCreate extends AdminCommand<typeof SchemaCreate> {
  static override summary = 'Create a schema in a PostgreSQL database (nothing happens when it exists).';
  static override examples = ['<%= config.bin %> schema create reporting --database shop --owner app'];
  static override args = {name: Args.string({description: 'The schema name.', required: true})};
  static override flags = {
    ...serverFlags,
    database: Flags.string({char: 'd', summary: 'The database to create it in.', required: true}),
    owner: Flags.string({summary: 'The owning role (default: the connected user).'}),
  };

  async run(): Promise<SchemaCreateResult> {
    const {database, owner} = this.flags;
    const schema = this.args.name;
    return this.runOperation({
      operation: 'schema.create',
      target: {database, schema, owner},
      names: [
        {value: schema, kind: 'schema', from: '<name>'},
        {value: database, kind: 'database', from: '--database'},
        {value: owner, kind: 'role', from: '--owner'},
      ],
      body: async (admin) => {
        const {created} = await admin.createSchema(database, schema, owner);
        if (!created) this.ctx.ui.info(`schema ${schema} already exists in ${database}`);
        return {database, schema, created};
      },
    });
  }
}
