import {Args} from '@bcl/core';
import {AdminCommand, serverFlags} from '../admin/command.js';
import {accessFlags} from '../admin/flags.js';
import {namesOf} from '../admin/names.js';
import type {AccessProfile} from '../spec/schema.js';

export interface GrantResult {
  user: string;
  profile: AccessProfile;
  databases: string[];
  schemas: Record<string, string[]>;
}

export default class Grant extends AdminCommand<typeof Grant> {
  static override summary = "Set a user's access on databases to an access profile.";
  static override description =
    "The user's previous privileges on those databases (and schemas) are replaced by exactly what the profile grants, in one transaction (PostgreSQL), including default privileges for tables created later.";
  static override examples = ['<%= config.bin %> grant reporting --profile readonly --database shop', '<%= config.bin %> grant etl --profile readwrite --database shop --schema staging'];
  static override appliesProfile = false;
  static override args = {user: Args.string({description: 'The user (role) name.', required: true})};
  static override flags = {...serverFlags, ...accessFlags};

  async run(): Promise<GrantResult> {
    const user = this.args.user;
    const profile = this.flags.profile as AccessProfile;
    const databases = this.flags.database;
    return this.runOperation({
      operation: 'grant',
      target: {user, profile, databases, schemas: this.flags.schema},
      names: [{value: user, kind: 'role', from: '<user>'}, ...namesOf(databases, 'database', '--database'), ...namesOf(this.flags.schema, 'schema', '--schema')],
      body: async (admin) => {
        const schemas: Record<string, string[]> = {};
        for (const database of databases) schemas[database] = (await admin.applyProfile(user, profile, database, this.flags.schema)).schemas;
        return {user, profile, databases, schemas};
      },
    });
  }
}
