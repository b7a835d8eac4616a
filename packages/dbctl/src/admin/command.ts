import {type Command, Flags} from '@oclif/core';
import {BclCommand, conflict, isBclError} from '@bcl/core';
import dbctlNamespace, {type DbctlSettings} from '../config.js';
import {AuditLog, defaultAuditFile} from '../audit/log.js';
import type {ServerTarget} from './target.js';
import type {DatabaseAdmin} from './types.js';

/** Flags of every command that talks to a server directly. */
export const serverFlags = {
  connection: Flags.string({char: 'c', summary: 'Connection profile (dbctl.connections.<name>; default: dbctl.defaultConnection).', helpGroup: 'SERVER'}),
  url: Flags.string({summary: 'A connection URL instead of a profile: postgres://user@host:5432/db or mysql://user@host:3306.', helpGroup: 'SERVER'}),
};

/**
 * The base of dbctl's administration commands: resolves the server, opens the engine's client,
 * runs the operation, writes the audit log entry (ok or failed), and closes the connection.
 */
export abstract class AdminCommand<T extends typeof Command> extends BclCommand<T> {
  protected settings(): DbctlSettings {
    return this.ctx.config.namespace(dbctlNamespace) as DbctlSettings;
  }

  protected async resolveServer(): Promise<ServerTarget> {
    const flags = this.flags as unknown as {connection?: string; url?: string};
    const {resolveTarget} = await import('./target.js');
    return resolveTarget({
      settings: this.settings(),
      connection: flags.connection,
      url: flags.url,
      env: this.ctx.env,
      redactor: this.ctx.redactor,
      secrets: async () => (await import('../secrets/kubernetes.js')).kubernetesSecrets(),
    });
  }

  protected auditLog(): AuditLog {
    return new AuditLog(this.settings().auditLog ?? defaultAuditFile(this.ctx.paths.state));
  }

  /** Runs `body` with an admin client for the server, and records the operation in the audit log. */
  protected async withAdmin<R>(operation: string, target: Record<string, unknown>, body: (admin: DatabaseAdmin, server: ServerTarget) => Promise<R>): Promise<R> {
    const server = await this.resolveServer();
    const {openAdmin} = await import('./open.js');
    const admin = await openAdmin(server);
    const audit = this.auditLog();
    try {
      const result = await body(admin, server);
      audit.append({as: server.user, operation, server: server.label, target, outcome: 'ok'}, this.ctx.env);
      return result;
    } catch (error) {
      audit.append({as: server.user, operation, server: server.label, target, outcome: 'failed', error: isBclError(error) ? error.code : 'unexpected'}, this.ctx.env);
      throw error;
    } finally {
      await admin.close();
    }
  }

  /** A destructive step: the person types the name, or CI passes --yes; otherwise exit 2/6. */
  protected async confirmDestructive(what: string, name: string, yes: boolean): Promise<void> {
    if (yes) return;
    if (!this.ctx.interactive) {
      throw conflict('dbctl.not_confirmed', `${what} is destructive and was not confirmed`, {
        hint: 'Pass --yes to confirm in a non-interactive run.',
        details: {flag: '--yes'},
      });
    }
    const ok = await this.ctx.prompt.typeToConfirm({message: `${what}.`, expected: name, flag: '--yes'});
    if (!ok) throw conflict('dbctl.not_confirmed', `${what}: the name typed did not match; nothing was changed`);
  }
}
