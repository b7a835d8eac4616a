import {Args, Flags} from '@bcl/core';
import {AdminCommand, serverFlags} from '../../admin/command.js';

export interface UserDropResult {
  user: string;
  dropped: boolean;
  /** Objects given to --reassign-to. */
  reassigned: number;
  /** Objects deleted with --drop-owned. */
  droppedObjects: number;
}

export default class UserDrop extends AdminCommand<typeof UserDrop> {
  static override summary = 'Drop a user, safely handling what it owns (asks to type its name; --yes in CI).';
  static override description = `PostgreSQL: a user that owns tables or other objects is refused (exit 6, listing them per database) unless --reassign-to <role> gives them to another role or --drop-owned deletes them. Its privileges and default privileges are removed in every database before the role is dropped.`;
  static override examples = ['<%= config.bin %> user drop app --reassign-to shop_owner --yes', '<%= config.bin %> user drop tmp --drop-owned --yes'];
  static override args = {name: Args.string({description: 'The user (role) name.', required: true})};
  static override flags = {
    ...serverFlags,
    'reassign-to': Flags.string({summary: 'Give the objects the user owns to this role first (PostgreSQL REASSIGN OWNED).'}),
    'drop-owned': Flags.boolean({summary: 'Delete the objects the user owns (PostgreSQL DROP OWNED).'}),
    yes: Flags.boolean({char: 'y', summary: 'Confirm without a prompt (required when not interactive).'}),
  };

  async run(): Promise<UserDropResult> {
    const user = this.args.name;
    const reassignTo = this.flags['reassign-to'];
    return this.runOperation({
      operation: 'user.drop',
      target: {user, reassignTo, dropOwned: this.flags['drop-owned']},
      names: [
        {value: user, kind: 'role', from: '<name>'},
        {value: reassignTo, kind: 'role', from: '--reassign-to'},
      ],
      destructive: {what: `Dropping user ${user}`, expected: user, yes: this.flags.yes},
      body: async (admin, server) => {
        const result = await admin.dropUser(user, {reassignTo, dropOwned: this.flags['drop-owned']});
        if (!result.dropped) this.ctx.ui.info(`user ${user} does not exist on ${server.label}`);
        return {user, ...result};
      },
    });
  }
}
