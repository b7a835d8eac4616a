import {Args} from '@bcl/core';
import {BclError, isBclError, type ResultWriter} from '@bcl/core';
import {AdminCommand, serverFlags} from '../../admin/command.js';
import {passwordFlags} from '../../admin/flags.js';

export interface PasswordRotateResult {
  user: string;
  /** Rotation does not change access: null. */
  profile: null;
  databases: string[];
  password?: string;
  passwordFile?: string;
  secret?: string;
}

export default class PasswordRotate extends AdminCommand<typeof PasswordRotate> {
  static override summary = "Give a user a new generated password; the old one stops working at once.";
  static override description =
    'The new password is written where you say (--password-file, --to-secret, --show-password) before the server changes, so it cannot be lost. PostgreSQL receives only its SCRAM verifier, MariaDB only its hash.';
  static override examples = ['<%= config.bin %> password rotate app --to-secret shop/db-app', '<%= config.bin %> password rotate reporting --password-file ./reporting.pw'];
  static override args = {user: Args.string({description: 'The user (role) name.', required: true})};
  static override flags = {...serverFlags, ...passwordFlags};

  async run(): Promise<PasswordRotateResult> {
    const user = this.args.user;
    const sinks = {showPassword: this.flags['show-password'], passwordFile: this.flags['password-file'], toSecret: this.flags['to-secret']};
    const {requireSink, deliverPassword} = await import('../../admin/credentials.js');
    const {generatePassword} = await import('../../admin/password.js');
    requireSink(sinks);
    return this.runOperation({operation: 'password.rotate', target: {user}, names: [{value: user, kind: 'role', from: '<user>'}], body: async (admin, server) => {
      if (!(await admin.userExists(user))) {
        const {invalidInput} = await import('@bcl/core');
        throw invalidInput('dbctl.unknown_user', `user "${user}" does not exist on ${server.label}`, {details: {user}});
      }
      const password = generatePassword();
      // Redacted everywhere, except in the result when the user asked to see it.
      if (!sinks.showPassword) this.ctx.redactor.add(password);
      const delivered = await deliverPassword(user, password, sinks, server, server.database, async () => (await import('../../secrets/kubernetes.js')).kubernetesSecrets());
      try {
        await admin.setPassword(user, password);
      } catch (error) {
        // The destinations already hold the new password; the server still has the old one.
        const where = [delivered.passwordFile, delivered.secret].filter(Boolean).join(' and ');
        if (where && isBclError(error)) {
          throw new BclError(error.code, `${error.message}; ${where} now hold(s) a password that was not applied (the old one still works)`, error.exitCode, {hint: error.hint, details: error.details, cause: error});
        }
        throw error;
      }
      const rows = await admin.listAccess({user});
      const databases = [...new Set(rows.filter((r) => r.object === 'database' && r.database !== null).map((r) => r.database!))].sort();
      return {user, profile: null, databases, ...delivered};
    }});
  }

  protected override renderResult(result: PasswordRotateResult, out: ResultWriter): void {
    out.keyValue({
      user: result.user,
      rotated: 'yes',
      ...(result.passwordFile ? {'password file': result.passwordFile} : {}),
      ...(result.secret ? {'password secret': result.secret} : {}),
      ...(result.password ? {password: result.password} : {}),
    });
  }
}
