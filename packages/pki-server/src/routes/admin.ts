/** Admin-only: the migration from a Git store, the status of CRL, OCSP and policy, and the audit trail. */
import {type ApiApp, forbidden} from '@bcl/http-api';
import {type Kysely, sql} from '@bcl/postgres';
import {z} from 'zod';
import {adminStatusSchema, auditEntriesSchema, importResultSchema, importSchema} from '../api.js';
import type {PkiDb} from '../db/schema.js';
import {importStore} from '../migration.js';
import {crlStatus} from '../registration.js';
import type {RouteContext} from '../server.js';

export function adminRoutes(app: ApiApp, ctx: RouteContext): void {
  const admin = {
    onRequest: [
      ctx.signedIn,
      async (request: Parameters<RouteContext['signedIn']>[0]) => {
        if (!request.caller?.admin) throw forbidden('not_admin', `${request.caller?.email ?? 'you'} is not a PKI admin`);
      },
    ],
  };

  app.post(
    '/v1/admin/import',
    {...admin, schema: {tags: ['admin'], summary: "Import a pkictl Git store's policy and inventory (pkictl migrate)", body: importSchema, response: {200: importResultSchema}}},
    async (request) => importStore(ctx, ctx.caller(request), request.body, request.ip),
  );

  app.get('/v1/admin/status', {...admin, schema: {tags: ['admin'], summary: 'CRL, OCSP responder, policy and inventory counts', response: {200: adminStatusSchema}}}, async () => {
    const crl = await ctx.crl.latest();
    const policy = await ctx.policies.current();
    const counts = await inventoryCounts(ctx.db, ctx.ca.issuerId);
    return {
      crl: crl ? crlStatus(crl) : null,
      ocsp: ctx.ocsp.status(),
      policy: {version: policy.version, sha256: policy.sha256, setAt: policy.setAt.toISOString(), setBy: policy.setBy, source: policy.source},
      counts,
    };
  });

  app.get(
    '/v1/admin/audit',
    {
      ...admin,
      schema: {
        tags: ['admin'],
        summary: 'The audit trail, oldest first after a sequence number (hash-chained entries)',
        querystring: z.strictObject({after: z.coerce.number().int().nonnegative().default(0), limit: z.coerce.number().int().min(1).max(1000).default(100), event: z.string().max(64).optional()}),
        response: {200: auditEntriesSchema},
      },
    },
    async (request) => {
      const {after, limit, event} = request.query;
      // Ordered by the column, not by the text alias (which would sort 1, 10, 11, ..., 2 and page wrongly).
      const rows = await sql<{seq: string; line: string}>`select seq::text as seq, line from audit_log where seq > ${after} ${event ? sql`and event = ${event}` : sql``} order by audit_log.seq limit ${limit + 1}`.execute(ctx.db);
      const entries = rows.rows.slice(0, limit).map((r) => JSON.parse(r.line) as Record<string, unknown>);
      return {entries, next: rows.rows.length > limit ? Number(rows.rows[limit - 1]!.seq) : null};
    },
  );
}

async function inventoryCounts(db: Kysely<PkiDb>, issuer: string) {
  const {rows} = await sql<{valid: number; revoked: number; expired: number; pending: number}>`select
      count(*) filter (where status = 'valid' and not_after > now() and email is not null)::int as valid,
      count(*) filter (where status = 'revoked')::int as revoked,
      count(*) filter (where status = 'valid' and not_after <= now())::int as expired,
      (select count(*) from requests where status = 'pending')::int as pending
    from certificates where issuer = ${issuer}`.execute(db);
  return rows[0]!;
}
