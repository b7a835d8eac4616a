import {Args} from '@bcl/core';
import type {ResultWriter} from '@bcl/core';
import {AdminCommand, serverFlags} from '../../admin/command.js';
import {accessFlags, passwordFlags} from '../../admin/flags.js';
import {namesOf} from '../../admin/names.js';
import type {UserCreateResult} from '../../admin/user-create.js';
import type {AccessProfile} from '../../spec/schema.js';

export type {UserCreateResult} from '../../admin/user-create.js';

export default class UserCreate extends AdminCommand<typeof UserCreate> {
  static override summary = 'Create a login user with an access profile on one or more databases.';
  static override description = `Profiles are least-privilege grants: readonly reads tables (also tables created later), readwrite also changes rows, owner also creates objects. The password comes from the system's CSPRNG and goes only where you say: --password-file, --to-secret or --show-password.
When the user exists, its access is set to the profile and its password is left unchanged (dbctl password rotate sets a new one).`;
  static override examples = [
    '<%= config.bin %> user create reporting --profile readonly --database shop --password-file ./reporting.pw',
    '<%= config.bin %> user create app --profile owner --database shop --to-secret shop/db-app',
    '<%= config.bin %> user create etl --profile readwrite --database shop --schema staging --show-password --json',
  ];
  static override appliesProfile = false;
  static override args = {name: Args.string({description: 'The user (role) name.', required: true})};
  static override flags = {...serverFlags, ...accessFlags, ...passwordFlags};

  async run(): Promise<UserCreateResult> {
    const user = this.args.name;
    const profile = this.flags.profile as AccessProfile;
    const databases = this.flags.database;
    const schemas = this.flags.schema;
    const sinks = {showPassword: this.flags['show-password'], passwordFile: this.flags['password-file'], toSecret: this.flags['to-secret']};
    const {deliverPassword} = await import('../../admin/credentials.js');
    const {generatePassword} = await import('../../admin/password.js');
    const {createUserWithProfile} = await import('../../admin/user-create.js');
    const secrets = async () => (await import('../../secrets/kubernetes.js')).kubernetesSecrets();
    return this.runOperation({
      operation: 'user.create',
      target: {user, profile, databases, schemas},
      names: [{value: user, kind: 'role', from: '<name>'}, ...namesOf(databases, 'database', '--database'), ...namesOf(schemas, 'schema', '--schema')],
      body: (admin, server) =>
        createUserWithProfile(admin, server, {user, profile, databases, schemas, sinks}, {
          generatePassword,
          deliver: (u, password, target, database) => deliverPassword(u, password, sinks, target, database, secrets),
          redact: (secret) => this.ctx.redactor.add(secret),
          warn: (message) => this.ctx.ui.warn(message),
        }),
    });
  }

  protected override renderResult(result: UserCreateResult, out: ResultWriter): void {
    out.keyValue({
      user: result.user,
      profile: result.profile,
      databases: result.databases.map((d) => (result.schemas[d]?.length ? `${d} (${result.schemas[d]!.join(', ')})` : d)).join(', '),
      created: result.created ? 'yes' : 'no (existed; password unchanged)',
      ...(result.passwordFile ? {'password file': result.passwordFile} : {}),
      ...(result.secret ? {'password secret': result.secret} : {}),
      ...(result.password ? {password: result.password} : {}),
    });
  }
}
