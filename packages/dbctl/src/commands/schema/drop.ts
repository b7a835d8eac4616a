import {Args, Flags} from '@bcl/core';
import {AdminCommand, serverFlags} from '../../admin/command.js';

export interface SchemaDropResult {
  database: string;
  schema: string;
  dropped: boolean;
}

export default class SchemaDrop extends AdminCommand<typeof SchemaDrop> {
  static override summary = 'Drop a schema of a PostgreSQL database (asks to type its name; --yes in CI).';
  static override description = 'A schema that holds tables is refused unless --cascade is given.';
  static override examples = ['<%= config.bin %> schema drop reporting --database shop --yes'];
  static override args = {name: Args.string({description: 'The schema name.', required: true})};
  static override flags = {
    ...serverFlags,
    database: Flags.string({char: 'd', summary: 'The database holding the schema.', required: true}),
    cascade: Flags.boolean({summary: 'Also drop the tables and other objects in it.'}),
    yes: Flags.boolean({char: 'y', summary: 'Confirm without a prompt (required when not interactive).'}),
  };

  async run(): Promise<SchemaDropResult> {
    const {database, cascade, yes} = this.flags;
    const schema = this.args.name;
    return this.runOperation({
      operation: 'schema.drop',
      target: {database, schema, cascade},
      names: [
        {value: schema, kind: 'schema', from: '<name>'},
        {value: database, kind: 'database', from: '--database'},
      ],
      destructive: {what: `Dropping schema ${schema} of ${database}`, expected: schema, yes},
      body: async (admin) => {
        const {dropped} = await admin.dropSchema(database, schema, cascade);
        if (!dropped) this.ctx.ui.info(`schema ${schema} does not exist in ${database}`);
        return {database, schema, dropped};
      },
    });
  }
}
