// How a BCL server is put together from the shared pieces (the sketch the server packages
// follow): buildServer(deps) on createApp, mutual TLS identities, protocol negotiation, typed
// PostgreSQL with migrations, audited writes, and a resumable event stream across replicas.
import {type ApiApp, conflict, createApp, notFound, protocolInfo, protocolInfoSchema, type ProtocolPolicy, sendEventStream, type StreamEvent, useProtocol, warningsField} from '@bcl/http-api';
import {auditMigration, grantAuditAccess, PostgresAuditLog} from '@bcl/audit';
import {type Generated, type Kysely, listen, notify, sql} from '@bcl/postgres';
import {z} from 'zod';
import type {TlsMaterial} from '../../src/index.js';
import {useClientCertificates} from '../../src/fastify.js';

/** The typed schema (what Kysely checks queries against). */
export interface NotesDb {
  notes: {id: string; text: string; owner: string; created_at: Generated<Date>};
  note_events: {note_id: string; seq: number; type: string; data: unknown};
}

/** Numbered migrations, never edited once released. */
export const migrations = {
  '0001-notes': {
    async up(db: Kysely<any>) {
      await sql`create table notes (id text primary key, text text not null, owner text not null, created_at timestamptz not null default now())`.execute(db);
      await sql`create table note_events (note_id text not null references notes, seq int not null, type text not null, data jsonb not null, primary key (note_id, seq))`.execute(db);
    },
  },
  '0002-audit': auditMigration(),
};

/** What the application role may do (run by the migrating owner). */
export async function grantApp(owner: Kysely<any>, role: string): Promise<void> {
  await grantAuditAccess(owner, role);
  const {grantTables} = await import('@bcl/postgres');
  await grantTables(owner, role, {notes: ['SELECT', 'INSERT'], note_events: ['SELECT', 'INSERT']});
}

export interface NotesDeps {
  db: Kysely<NotesDb>;
  /** For LISTEN (a connection of its own). */
  databaseUrl: string;
  tls: TlsMaterial;
  policy: ProtocolPolicy;
  audit: PostgresAuditLog;
  log?: {write(line: string): unknown};
}

const note = z.object({id: z.string(), text: z.string(), owner: z.string(), warnings: warningsField});

export async function buildServer(deps: NotesDeps): Promise<ApiApp & {stopListening(): Promise<void>}> {
  const app = await createApp({title: 'notes', version: '1.0.0', https: deps.tls.serverOptions, log: deps.log ? {stream: deps.log} : false});
  useProtocol(app, deps.policy);
  // Refusals are audited too, before the 401/403 goes out.
  const {requireIdentity} = useClientCertificates(app, {
    onRefused: async (request, refusal) => void (await deps.audit.record(deps.db, {event: 'request.refused', route: request.url.split('?')[0], code: refusal.code, subject: refusal.subject ?? null})),
  });

  // Another replica's events arrive by NOTIFY; each stream re-reads the table when woken.
  const wakers = new Set<() => void>();
  const listener = await listen(deps.databaseUrl, 'note_events', () => wakers.forEach((w) => w()));

  app.get('/v1/info', {config: {protocol: false}, schema: {response: {200: protocolInfoSchema.extend({version: z.string()})}}}, async () => ({version: '1.0.0', ...protocolInfo(deps.policy)}));

  app.put(
    '/v1/notes/:id',
    {onRequest: requireIdentity('person'), schema: {params: z.strictObject({id: z.string().regex(/^[a-z0-9-]{1,64}$/)}), body: z.strictObject({text: z.string().min(1).max(1000)}), response: {200: note, 201: note}}},
    async (request, reply) => {
      const who = request.identity!.name;
      const result = await deps.audit.transaction(deps.db, async (trx, audit) => {
        const existing = await trx.selectFrom('notes').selectAll().where('id', '=', request.params.id).executeTakeFirst();
        // The client chose the id: the same request again is the same note, not a second one.
        if (existing) {
          if (existing.text !== request.body.text || existing.owner !== who) throw conflict('note_exists', `note ${request.params.id} exists with other content`);
          return {created: false, note: existing};
        }
        const created = await trx.insertInto('notes').values({id: request.params.id, text: request.body.text, owner: who}).returningAll().executeTakeFirstOrThrow();
        await trx.insertInto('note_events').values([{note_id: created.id, seq: 1, type: 'created', data: JSON.stringify({by: who})}, {note_id: created.id, seq: 2, type: 'result', data: JSON.stringify({ok: true})}]).execute();
        await notify(trx, 'note_events', created.id);
        await audit({event: 'note.created', actor: who, note: created.id, client: request.negotiated?.client?.version ?? null});
        return {created: true, note: created};
      });
      return reply.code(result.created ? 201 : 200).send({id: result.note.id, text: result.note.text, owner: result.note.owner});
    },
  );

  app.get('/v1/notes/:id/events', {onRequest: requireIdentity('person'), schema: {params: z.strictObject({id: z.string()})}}, async (request, reply) => {
    const exists = await deps.db.selectFrom('notes').select('id').where('id', '=', request.params.id).executeTakeFirst();
    if (!exists) throw notFound('no_such_note', `no note ${request.params.id}`);
    await sendEventStream(request, reply, {
      isTerminal: (e) => e.type === 'result',
      events: async function* (after, signal): AsyncGenerator<StreamEvent> {
        let seen = after;
        while (!signal.aborted) {
          const rows = await deps.db.selectFrom('note_events').selectAll().where('note_id', '=', request.params.id).where('seq', '>', seen).orderBy('seq').execute();
          for (const row of rows) {
            seen = row.seq;
            yield {seq: row.seq, type: row.type, data: row.data};
          }
          // Poll as well as listen: a notification sent while LISTEN was reconnecting is lost.
          await new Promise<void>((resolve) => {
            const wake = () => (wakers.delete(wake), clearTimeout(timer), resolve());
            const timer = setTimeout(wake, 1000);
            wakers.add(wake);
            signal.addEventListener('abort', wake, {once: true});
          });
        }
      },
    });
  });

  return Object.assign(app, {stopListening: () => listener.close()});
}

