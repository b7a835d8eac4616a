import type {ServerTarget} from './target.js';
import type {DatabaseAdmin} from './types.js';

/** The engine's admin client for a server (its driver is loaded only now). */
export async function openAdmin(server: ServerTarget): Promise<DatabaseAdmin> {
  if (server.engine === 'postgres') return new (await import('./postgres.js')).PostgresAdmin(server);
  return new (await import('./mysql.js')).MysqlAdmin(server);
}
