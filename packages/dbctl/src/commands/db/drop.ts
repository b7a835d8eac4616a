import {Args, Flags} from '@bcl/core';
import {AdminCommand, serverFlags} from '../../admin/command.js';

export interface DbDropResult {
  database: string;
  dropped: boolean;
  server: string;
}

export default class DbDrop extends AdminCommand<typeof DbDrop> {
  static override summary = 'Drop a database and everything in it (asks to type its name; --yes in CI).';
  static override examples = ['<%= config.bin %> db drop scratch --connection dev-pg', '<%= config.bin %> db drop scratch --yes --force'];
  static override args = {name: Args.string({description: 'The database name.', required: true})};
  static override flags = {
    ...serverFlags,
    yes: Flags.boolean({char: 'y', summary: 'Confirm without a prompt (required when not interactive).'}),
    force: Flags.boolean({summary: 'PostgreSQL: terminate the sessions connected to it.'}),
  };

  async run(): Promise<DbDropResult> {
    const name = this.args.name;
    return this.runOperation({
      operation: 'db.drop',
      target: {database: name},
      names: [{value: name, kind: 'database', from: '<name>'}],
      destructive: {what: `Dropping database ${name} deletes all its data`, expected: name, yes: this.flags.yes},
      body: async (admin, server) => {
        const {dropped} = await admin.dropDatabase(name, this.flags.force);
        if (!dropped) this.ctx.ui.info(`database ${name} does not exist on ${server.label}`);
        return {database: name, dropped, server: server.label};
      },
    });
  }
}
