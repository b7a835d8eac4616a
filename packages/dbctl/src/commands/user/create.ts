import {Args} from '@oclif/core';
import type {ResultWriter} from '@bcl/core';
import {AdminCommand, serverFlags} from '../../admin/command.js';
import {accessFlags, passwordFlags} from '../../admin/flags.js';
import type {AccessProfile} from '../../spec/schema.js';

export interface UserCreateResult {
  user: string;
  profile: AccessProfile;
  databases: string[];
  /** PostgreSQL: the schemas the profile was applied to, per database. */
  schemas: Record<string, string[]>;
  /** False when the user existed: its access was set to the profile and its password left alone. */
  created: boolean;
  /** Only with --show-password. */
  password?: string;
  /** When --password-file wrote it. */
  passwordFile?: string;
  /** When --to-secret wrote it: <namespace>/<name>. */
  secret?: string;
}

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
    const {requireSink, deliverPassword} = await import('../../admin/credentials.js');
    const {generatePassword} = await import('../../admin/password.js');
    return this.withAdmin('user.create', {user, profile, databases, schemas}, async (admin, server) => {
      const exists = await admin.userExists(user);
      const applied: Record<string, string[]> = {};
      const applyAll = async () => {
        for (const database of databases) applied[database] = (await admin.applyProfile(user, profile, database, schemas)).schemas;
      };
      if (exists) {
        await applyAll();
        this.ctx.ui.warn(`user ${user} already exists: its access is now the ${profile} profile; its password is unchanged (dbctl password rotate ${user} sets a new one)`);
        return {user, profile, databases, schemas: applied, created: false};
      }
      requireSink(sinks);
      const password = generatePassword();
      // Redacted everywhere, except in the result when the user asked to see it.
      if (!sinks.showPassword) this.ctx.redactor.add(password);
      await admin.createUser(user, password);
      try {
        await applyAll();
        const delivered = await deliverPassword(user, password, sinks, server, databases[0], async () => (await import('../../secrets/kubernetes.js')).kubernetesSecrets());
        return {user, profile, databases, schemas: applied, created: true, ...delivered};
      } catch (error) {
        // Nothing half-made: a user whose grants or password delivery failed is removed again.
        await admin.dropUser(user, {dropOwned: true}).catch(() => undefined);
        throw error;
      }
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
