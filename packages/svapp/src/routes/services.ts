import type {ApiApp} from '@bcl/http-api';
import type {IdentityHook} from '@bcl/mtls/fastify';
import {z} from 'zod';
import {callerOf, type SvappContext} from '../context.js';
import {handle} from './operations.js';
import {refusalOf} from './claims.js';
import {checkSpecService} from './claims.js';
import {buildsResponseSchema, diffRequestSchema, diffResponseSchema, historyResponseSchema, statusResponseSchema} from './schemas.js';
import {SVAPP_CLUSTERS} from '../engine.js';

const serviceParams = z.strictObject({service: z.string().min(1).max(64)});

/** Reads of one service in one environment: what runs, its history, what a deploy would change, its builds. */
export function serviceRoutes(app: ApiApp, ctx: SvappContext, requireIdentity: (...kinds: ('person' | 'ci')[]) => IdentityHook): void {
  const auth = requireIdentity('person', 'ci');
  const environmentSpec = async (service: string, environment: string) => {
    const {resolveEnvironment} = await import('@bcl/deploy-core/spec');
    return resolveEnvironment((await ctx.catalog.get(service)).spec, environment, ctx.engine.clusters, SVAPP_CLUSTERS);
  };

  app.get('/v1/services/:service/status', {onRequest: auth, schema: {summary: 'What runs now: revision, image, replicas, pods and their problems, the last deploy', params: serviceParams, querystring: z.strictObject({environment: z.string().min(1)}), response: {200: statusResponseSchema}}}, handle(async (request) => {
    await ctx.authz.read(callerOf(request), request.params.service, request.query.environment, 'status');
    return (await ctx.engine.status(await environmentSpec(request.params.service, request.query.environment))) as never;
  }));

  app.get('/v1/services/:service/history', {onRequest: auth, schema: {summary: 'The deploys and rollbacks of the service in the environment (oldest first)', params: serviceParams, querystring: z.strictObject({environment: z.string().min(1)}), response: {200: historyResponseSchema}}}, handle(async (request) => {
    await ctx.authz.read(callerOf(request), request.params.service, request.query.environment, 'history');
    const spec = await environmentSpec(request.params.service, request.query.environment);
    return {service: spec.name, environment: spec.environment, namespace: spec.namespace, revisions: (await ctx.engine.history(spec)) as never};
  }));

  app.post('/v1/diffs', {onRequest: auth, schema: {summary: 'What a deploy would change (a server-side dry run; nothing changes)', body: diffRequestSchema, response: {200: diffResponseSchema}}}, handle(async (request) => {
    const who = callerOf(request);
    const checked = await Promise.all(request.body.services.map((s) => checkSpecService(ctx, who, 'read', request.body.environment, s, undefined, () => undefined)));
    const approvalOnly = checked.find((c) => c.decision.outcome === 'approval-required');
    const refused = refusalOf(checked) ?? (approvalOnly ? refusalOf([{...approvalOnly, decision: {...approvalOnly.decision, outcome: 'denied'}}]) : undefined);
    await ctx.audit.record(ctx.db, {event: refused ? 'read.refused' : 'read.allowed', what: 'diff', decisions: checked.map((c) => c.decision)});
    if (refused) throw refused;
    const services = [];
    for (const c of checked) services.push(await ctx.engine.diff(c.target!));
    return {environment: request.body.environment, changed: services.some((s) => s.changes.some((c) => c.action !== 'unchanged')), services: services as never};
  }));

  app.get('/v1/services/:service/builds', {onRequest: auth, schema: {summary: 'The service\'s recent Jenkins builds', params: serviceParams, querystring: z.strictObject({limit: z.coerce.number().int().min(1).max(100).default(10), jenkins: z.string().min(1).optional()}), response: {200: buildsResponseSchema}}}, handle(async (request) => {
    await ctx.authz.read(callerOf(request), request.params.service, undefined, 'builds');
    return ctx.engine.builds((await ctx.catalog.get(request.params.service)).spec, request.query.jenkins, request.query.limit);
  }));
}
