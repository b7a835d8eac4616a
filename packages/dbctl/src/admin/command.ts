import {Flags} from '@bcl/core';
import {BclCommand, type CommandClass} from '@bcl/core';
import dbctlNamespace, {type DbctlSettings} from '../config.js';
import {AuditLog, defaultAuditFile} from '../audit/log.js';
import type {Confirmer} from '../safety/confirm.js';
import type {AdminOperation} from './operation.js';
import type {ServerTarget} from './target.js';

/** Flags of every command that talks to a server directly. */
export const serverFlags = {
  connection: Flags.string({char: 'c', summary: 'Connection profile (dbctl.connections.<name>; default: dbctl.defaultConnection).', helpGroup: 'SERVER'}),
  url: Flags.string({summary: 'A connection URL instead of a profile: postgres://user@host:5432/db or mysql://user@host:3306.', helpGroup: 'SERVER'}),
};

/**
 * The base of dbctl's commands: settings, the audit log, the confirmer, and the I/O that
 * administration operations run with (src/admin/operation.ts holds their order and rules).
 */
export abstract class AdminCommand<T extends CommandClass> extends BclCommand<T> {
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
    return new AuditLog(this.settings().auditLog ?? defaultAuditFile(this.ctx.paths.state), this.ctx.env);
  }

  protected confirmer(): Confirmer {
    return {interactive: this.ctx.interactive, typeToConfirm: (o) => this.ctx.prompt.typeToConfirm(o)};
  }

  /** Runs an administration operation on the server of --connection/--url (see runAdminOperation). */
  protected async runOperation<R>(op: AdminOperation<R>): Promise<R> {
    const {runAdminOperation} = await import('./operation.js');
    const {openAdmin} = await import('./open.js');
    return runAdminOperation(op, {resolveServer: () => this.resolveServer(), open: openAdmin, confirmer: this.confirmer(), audit: this.auditLog()});
  }
}
