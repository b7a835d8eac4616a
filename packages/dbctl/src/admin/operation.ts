import {type AuditSink, audited} from '../audit/record.js';
import {checkNames, type GivenName} from './names.js';
import {type Confirmer, confirmDestructive} from '../safety/confirm.js';
import type {ServerTarget} from './target.js';
import type {DatabaseAdmin} from './types.js';

export interface AdminOperation<R> {
  /** "user.create", "db.drop"... (the audit log's operation). */
  operation: string;
  target: Record<string, unknown>;
  names: GivenName[];
  /** A destructive operation: confirmed (typed name or --yes) after the names are checked and before connecting. */
  destructive?: {what: string; expected: string; yes: boolean};
  body: (admin: DatabaseAdmin, server: ServerTarget) => Promise<R>;
}

/** What an administration operation needs from the outside world. */
export interface AdminIo {
  /** The server from the connection profile or URL (reads its password; does not connect). */
  resolveServer(): Promise<ServerTarget>;
  open(server: ServerTarget): Promise<DatabaseAdmin>;
  confirmer: Confirmer;
  audit: AuditSink;
}

/**
 * Every direct administration command runs through here, in this order: resolve the server, check
 * every name for its engine (exit 3 naming the argument: nothing is sent to a server), confirm a
 * destructive step, connect, check names against the server's exact limits, run, record the outcome
 * in the audit log, close.
 */
export async function runAdminOperation<R>(op: AdminOperation<R>, io: AdminIo): Promise<R> {
  const server = await io.resolveServer();
  checkNames(op.names, server.engine, undefined);
  if (op.destructive) {
    await confirmDestructive(io.confirmer, {
      what: op.destructive.what,
      expected: op.destructive.expected,
      flag: '--yes',
      confirmed: op.destructive.yes,
      code: 'dbctl.not_confirmed',
      nothingDone: 'nothing was changed',
    });
  }
  const admin = await io.open(server);
  try {
    return await audited(io.audit, {as: server.user, operation: op.operation, server: server.label, target: op.target}, async () => {
      if (server.engine === 'mysql' && admin.mysqlServer) checkNames(op.names, server.engine, await admin.mysqlServer());
      return op.body(admin, server);
    });
  } finally {
    await admin.close();
  }
}
