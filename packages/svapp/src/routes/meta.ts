import {type Action, canAskAs, explain, formatExplanation, type Identity} from '@bcl/deploy-policy';
import {type ApiApp, forbidden, protocolInfo, type ProtocolPolicy} from '@bcl/http-api';
import type {IdentityHook} from '@bcl/mtls/fastify';
import {z} from 'zod';
import {capabilitiesOf, SERVER_NAME} from '../api.js';
import {callerOf, clientOf, type SvappContext} from '../context.js';
import {handle} from './operations.js';
import {canIRequestSchema, canIResponseSchema, healthSchema, infoSchema, whoamiSchema} from './schemas.js';

/** GET /v1/info and /v1/healthz (no authentication), whoami, and can-i (protocol 2). */
export function metaRoutes(app: ApiApp, ctx: SvappContext, policy: ProtocolPolicy, requireIdentity: (...kinds: ('person' | 'ci')[]) => IdentityHook, health: () => Record<string, unknown>): void {
  app.get('/v1/info', {config: {protocol: false}, schema: {summary: 'Versions, the protocol range, the oldest supported client, deprecations and capabilities', response: {200: infoSchema}}}, async () => ({
    server: SERVER_NAME,
    version: ctx.version,
    ...protocolInfo(policy),
    capabilities: capabilitiesOf(ctx.protocol),
    replica: ctx.replica,
  }));

  app.get('/v1/healthz', {config: {protocol: false}, schema: {summary: 'Whether this replica serves (database, policy, TLS material)', response: {200: healthSchema, 503: healthSchema}}}, async (_request, reply) => {
    let ok = true;
    try {
      await ctx.db.selectFrom('svapp_operations').select('id').limit(1).execute();
    } catch {
      ok = false;
    }
    const status = ctx.policyStatus();
    const body = {ok, replica: ctx.replica, running: ctx.runner.running.length, policy: {sha256: ctx.policy().source.sha256, loadedAt: status?.loadedAt ?? '', problem: status?.lastError?.message ?? null}, ...health()};
    return reply.code(ok ? 200 : 503).send(body);
  });

  // Liveness: the process answers. It does not look at PostgreSQL: a database outage must not restart every replica.
  app.get('/v1/livez', {config: {protocol: false}, schema: {summary: 'Whether this replica\'s process answers (for the liveness probe)', response: {200: z.object({ok: z.boolean(), replica: z.string()})}}}, async () => ({ok: true, replica: ctx.replica}));

  app.get('/v1/whoami', {onRequest: requireIdentity('person', 'ci'), schema: {summary: 'Who the client certificate says the caller is, and the protocol of the answer', response: {200: whoamiSchema}}}, async (request) => {
    const client = clientOf(request);
    return {identity: callerOf(request), client: client ? {name: client.name, version: client.version} : null, protocol: request.negotiated?.protocol ?? ctx.protocol};
  });

  if (ctx.protocol < 2) return;

  app.post('/v1/can-i', {onRequest: requireIdentity('person', 'ci'), schema: {summary: 'What the policy decides for a request, rule by rule (the function enforcement runs; protocol 2)', body: canIRequestSchema, response: {200: canIResponseSchema}}}, handle(async (request) => {
    const asker = callerOf(request);
    const body = request.body;
    const subject: Identity = body.as === undefined ? asker : body.as.startsWith('ci:') ? {kind: 'ci', name: body.as.slice(3)} : {kind: 'person', name: body.as};
    const policyNow = ctx.policy();
    const may = canAskAs(policyNow, asker, subject);
    if (!may.ok) {
      await ctx.audit.record(ctx.db, {event: 'can-i.refused', who: asker, as: subject, message: may.message});
      throw forbidden('svapp.denied', may.message, {hint: 'Ask for yourself (without --as), or ask a member of an admins group.', details: {exitCode: 4}});
    }
    const team = await ctx.authz.teamOf(body.service);
    const explanation = explain(policyNow, {identity: subject, action: body.action as Action, service: body.service, team, environment: body.environment, ...(body.breakGlassReason ? {breakGlassReason: body.breakGlassReason} : {})}, ctx.now());
    await ctx.audit.record(ctx.db, {event: 'can-i', who: asker, decision: explanation.decision});
    return {...explanation, text: formatExplanation(explanation), asker} as never;
  }));
}
