import {type Kysely, sql} from 'kysely';
import pg from 'pg';
import {redactSecrets, redactUrl} from './connect.js';

export interface Listener {
  close(): Promise<void>;
}

/**
 * LISTEN on a channel over a connection of its own (a pooled one would be reused by others):
 * how replicas learn at once that another one changed something (a new event, a revocation).
 * Notifications are a wake-up, not the data: read the rows after one arrives, and poll as well,
 * since a notification sent while the connection was down is lost.
 */
export async function listen(url: string, channel: string, onNotify: (payload: string) => void, onError: (message: string) => void = () => undefined): Promise<Listener> {
  const client = new pg.Client({connectionString: url, application_name: 'bcl-listen'});
  client.on('error', (error) => onError(`postgres ${redactUrl(url)}: LISTEN ${channel}: ${redactSecrets(error.message, url)}`));
  client.on('notification', (n) => {
    if (n.channel === channel) onNotify(n.payload ?? '');
  });
  await client.connect();
  await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
  return {close: () => client.end()};
}

/** Sends a notification, within the caller's transaction if it is one (delivered at commit). */
export async function notify(db: Kysely<any>, channel: string, payload = ''): Promise<void> {
  await sql`select pg_notify(${channel}, ${payload})`.execute(db);
}
