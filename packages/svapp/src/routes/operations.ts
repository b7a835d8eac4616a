import {ExitCode} from '@bcl/core/errors';
import {type Decision, approve, describeIdentity, isWaitingForApproval, membership, reject} from '@bcl/deploy-policy';
import {type ApiApp, sendEventStream} from '@bcl/http-api';
import type {IdentityHook} from '@bcl/mtls/fastify';
import type {FastifyReply, FastifyRequest} from 'fastify';
import {z} from 'zod';
import type {Identity, OperationKind} from '../api.js';
import {refusal} from '../authz.js';
import {callerOf, clientOf, type SvappContext} from '../context.js';
import {toHttpError} from '../errors.js';
import type {CatalogCopies} from '../operations/execute.js';
import {followEvents} from '../operations/follow.js';
import {type NewEvent, operationLease, type OperationRow, operationView, requestHash, retriedOperation} from '../operations/store.js';
import {acquireLease} from '@bcl/postgres';
import {type CheckedService, checkNamedService, checkSpecService, refusalOf} from './claims.js';
import {buildRequestSchema, deployRequestSchema, emptyBody, eventsDescription, operationId, operationListSchema, operationSchema, rejectRequestSchema, rollbackRequestSchema} from './schemas.js';

/** Wraps a handler so core errors become their HTTP answers (status, code, exit code). */
export function handle<R extends FastifyRequest, T>(fn: (request: R, reply: FastifyReply) => Promise<T>): (request: R, reply: FastifyReply) => Promise<T> {
  return async (request, reply) => {
    try {
      return await fn(request, reply);
    } catch (error) {
      throw toHttpError(error);
    }
  };
}

const at = (ctx: SvappContext) => ctx.now().toISOString();

export function operationRoutes(app: ApiApp, ctx: SvappContext, requireIdentity: (...kinds: ('person' | 'ci')[]) => IdentityHook): void {
  const auth = requireIdentity('person', 'ci');
  const accepted = {202: operationSchema};

  /** Creates an accepted operation (or answers the one this id already names) and starts it here. */
  const createOperation = async (
    request: FastifyRequest,
    reply: FastifyReply,
    input: {id: string; kind: OperationKind; body: Record<string, unknown>; environment: string | null; decide: () => Promise<CheckedService[]>; warnings?: string[]},
  ) => {
    const who = callerOf(request);
    const hash = requestHash({kind: input.kind, ...input.body});
    // A retried request (same caller, same request) is the operation it created, whatever the policy says by now.
    const existing = await ctx.store.get(input.id);
    if (existing) return reply.code(202).send(operationView(retriedOperation(existing, {kind: input.kind, requestHash: hash, requester: who})));
    const services = await input.decide();
    const decisions = services.map((s) => s.decision);
    const refused = refusalOf(services);
    const client = clientOf(request);
    if (refused) {
      await ctx.audit.record(ctx.db, {event: 'operation.refused', operation: input.id, kind: input.kind, who, environment: input.environment, services: services.map((s) => s.name), client, message: refused.message, decisions, ...(refused.details && (refused.details as {claims?: unknown}).claims ? {claims: (refused.details as {claims: unknown}).claims} : {})});
      throw refused;
    }
    const waiting = decisions.filter((d) => d.outcome === 'approval-required');
    const catalog: CatalogCopies = Object.fromEntries(services.map((s) => [s.name, {file: s.catalogFile, text: s.catalogText}]));
    const events: NewEvent[] = [
      {type: 'accepted', data: {id: input.id, kind: input.kind, environment: input.environment, services: services.map((s) => s.name), requester: who, client: client ? {name: client.name, version: client.version} : null, decisions: decisions.map((d) => d.message), message: `svapp accepted the ${input.kind} of ${services.map((s) => s.name).join(', ')}${input.environment ? ` in ${input.environment}` : ''} (operation ${input.id})`, at: at(ctx)}},
      ...(input.warnings ?? []).map((message) => ({type: 'warning', data: {message, at: at(ctx)}})),
    ];
    if (waiting.length > 0) {
      const groups = [...new Set(waiting.flatMap((d) => d.details.approval?.groups ?? []))];
      events.push({type: 'approval-required', data: {message: waiting.map((d) => d.message).join('; '), groups, approve: `svctl ops approve ${input.id}`, at: at(ctx)}});
    }
    const {op, created} = await ctx.store.create(
      {id: input.id, kind: input.kind, requestHash: hash, request: {...input.body, catalog}, environment: input.environment, services: services.map((s) => s.name), requester: who, client, state: waiting.length > 0 ? 'waiting-approval' : 'queued', decisions},
      events,
      [{event: 'operation.requested', operation: input.id, kind: input.kind, who, environment: input.environment, services: services.map((s) => s.name), client, decisions}],
      waiting.length > 0 ? undefined : ctx.runner.creator,
    );
    if (created && op.state === 'queued') void ctx.runner.tryRun(op.id).catch((error: unknown) => ctx.log.error(`starting ${op.id} failed: ${(error as Error).message}`));
    return reply.code(202).send(operationView(op));
  };

  app.post('/v1/deploys', {onRequest: auth, schema: {summary: 'Deploy services to an environment (an operation; 202 at once, then follow its events)', body: deployRequestSchema, response: accepted}}, handle(async (request, reply) => {
    const {id, ...body} = request.body;
    const warnings: string[] = [];
    return createOperation(request, reply, {
      id,
      kind: 'deploy',
      body,
      environment: body.environment,
      warnings,
      decide: () => Promise.all(body.services.map((s) => checkSpecService(ctx, callerOf(request), 'deploy', body.environment, s, body.breakGlassReason, (m) => warnings.push(m)))),
    });
  }));

  app.post('/v1/rollbacks', {onRequest: auth, schema: {summary: 'Roll services back to an earlier revision (an operation)', body: rollbackRequestSchema, response: accepted}}, handle(async (request, reply) => {
    const {id, ...body} = request.body;
    return createOperation(request, reply, {id, kind: 'rollback', body, environment: body.environment, decide: () => Promise.all(body.services.map((s) => checkNamedService(ctx, callerOf(request), 'rollback', s.name, body.environment, body.breakGlassReason)))});
  }));

  app.post('/v1/builds', {onRequest: auth, schema: {summary: 'Trigger the service\'s Jenkins pipeline and follow the build (an operation)', body: buildRequestSchema, response: accepted}}, handle(async (request, reply) => {
    const {id, ...body} = request.body;
    return createOperation(request, reply, {id, kind: 'build', body, environment: body.environment ?? null, decide: async () => [await checkNamedService(ctx, callerOf(request), 'build', body.service, body.environment)]});
  }));

  /**
   * Who may see an operation whatever the read rules say: its requester (they follow what they
   * asked for) and, when it needs an approval, the members of the approving groups (they are
   * asked to decide on it).
   */
  const concerned = (op: OperationRow, who: Identity): boolean => {
    if (who.kind === op.requester.kind && who.name === op.requester.name) return true;
    if (who.kind !== 'person') return false;
    const groups = op.decisions.flatMap((d) => d.details.approval?.groups ?? []);
    const mine = membership(ctx.policy(), who).groups;
    return groups.some((g) => mine.includes(g));
  };

  /** The operation, once the caller may read every service of it (or is concerned by it). */
  const readable = async (request: FastifyRequest, id: string, what: string): Promise<OperationRow> => {
    const op = await ctx.store.mustGet(id);
    const who = callerOf(request);
    if (concerned(op, who)) return op;
    for (const service of op.services) await ctx.authz.read(who, service, op.environment ?? undefined, what);
    return op;
  };

  app.get('/v1/operations', {
    onRequest: auth,
    schema: {
      summary: 'Operations, newest first (those the caller may read)',
      querystring: z.strictObject({environment: z.string().optional(), service: z.string().optional(), state: z.string().optional(), open: z.enum(['true', 'false']).optional(), limit: z.coerce.number().int().min(1).max(200).default(20)}),
      response: {200: operationListSchema},
    },
  }, handle(async (request) => {
    const who = callerOf(request);
    const ops = await ctx.store.list({...request.query, open: request.query.open === 'true', limit: request.query.limit});
    const memo = new Map<string, boolean>();
    const may = async (service: string, environment: string | null) => {
      const key = `${service}\u0000${environment ?? ''}`;
      if (!memo.has(key)) memo.set(key, ctx.authz.decide(who, 'read', service, await ctx.authz.teamOf(service).catch(() => ''), environment ?? undefined).outcome === 'allowed');
      return memo.get(key)!;
    };
    const shown: OperationRow[] = [];
    for (const op of ops) if (concerned(op, who) || (await Promise.all(op.services.map((s) => may(s, op.environment)))).every(Boolean)) shown.push(op);
    await ctx.audit.record(ctx.db, {event: 'operations.listed', who, filter: request.query, shown: shown.length, hidden: ops.length - shown.length, policy: ctx.policy().source.sha256});
    return {operations: shown.map(operationView), hidden: ops.length - shown.length};
  }));

  app.get('/v1/operations/:id', {onRequest: auth, schema: {summary: 'One operation', params: z.strictObject({id: operationId}), response: {200: operationSchema}}}, handle(async (request) => operationView(await readable(request, request.params.id, 'operation'))));

  app.get('/v1/operations/:id/events', {onRequest: auth, schema: {summary: 'The operation\'s events (server-sent events)', description: eventsDescription, params: z.strictObject({id: operationId})}}, handle(async (request, reply) => {
    const op = await readable(request, request.params.id, 'operation events');
    await sendEventStream(request, reply, {isTerminal: (e) => e.type === 'end', events: (after, signal) => followEvents(ctx.store, ctx.waker, op.id, after, signal)});
  }));

  app.post('/v1/operations/:id/cancel', {onRequest: auth, schema: {summary: 'Cancel an operation (a running deploy stops between objects and records what it applied)', params: z.strictObject({id: operationId}), body: emptyBody, response: {202: operationSchema}}}, handle(async (request, reply) => {
    const who = callerOf(request);
    const op = await ctx.store.mustGet(request.params.id);
    const checked = await Promise.all(op.services.map((s) => checkNamedService(ctx, who, 'cancel', s, op.environment ?? undefined)));
    const decisions = checked.map((c) => c.decision);
    const denied = decisions.find((d) => d.outcome !== 'allowed');
    if (denied) {
      await ctx.audit.record(ctx.db, {event: 'cancel.refused', operation: op.id, who, decisions});
      throw refusal(decisions);
    }
    const updated = await ctx.audit.transaction(ctx.db, async (trx, audit) => {
      await trx.selectFrom('svapp_operations').select('id').where('id', '=', op.id).forUpdate().execute();
      const now = (await ctx.store.get(op.id, trx))!;
      if (['succeeded', 'failed', 'cancelled', 'rejected'].includes(now.state)) return now;
      const by = describeIdentity(who);
      if (now.state === 'waiting-approval') {
        await ctx.store.append(trx, op.id, [{type: 'end', data: {state: 'cancelled', error: {code: 'svctl.cancelled', message: `${by} cancelled the ${now.kind} while it waited for approval; nothing was done`, exitCode: ExitCode.denied}, at: at(ctx)}}]);
        await trx.updateTable('svapp_operations').set({state: 'cancelled', finished_at: ctx.now(), cancel_requested: JSON.stringify({by, at: at(ctx)})}).where('id', '=', op.id).execute();
      } else if (!now.cancelRequested) {
        await ctx.store.append(trx, op.id, [{type: 'cancel-requested', data: {by, message: `${by} asked to cancel it`, at: at(ctx)}}]);
        await trx.updateTable('svapp_operations').set({cancel_requested: JSON.stringify({by, at: at(ctx)})}).where('id', '=', op.id).execute();
      }
      await audit({event: 'operation.cancel-requested', operation: op.id, who, state: now.state, decisions});
      return (await ctx.store.get(op.id, trx))!;
    });
    return reply.code(202).send(operationView(updated));
  }));

  if (ctx.protocol < 2) return;

  app.post('/v1/operations/:id/approve', {onRequest: requireIdentity('person', 'ci'), schema: {summary: 'Approve an operation waiting for approval (protocol 2)', params: z.strictObject({id: operationId}), body: emptyBody, response: {202: operationSchema}}}, handle(async (request, reply) => {
    const who = callerOf(request);
    await ctx.store.mustGet(request.params.id);
    const result = await ctx.audit.transaction(ctx.db, async (trx, audit) => {
      await trx.selectFrom('svapp_operations').select('id').where('id', '=', request.params.id).forUpdate().execute();
      const op = (await ctx.store.get(request.params.id, trx))!;
      const policy = ctx.policy();
      const now = ctx.now();
      const decided: Decision[] = [];
      for (const d of op.decisions) {
        if (!isWaitingForApproval(d)) {
          if (op.state !== 'waiting-approval') return {refused: {code: 'not-waiting', message: `${describeIdentity(op.requester)}'s ${op.kind} ${op.id} is not waiting for approval (it is ${op.state})`}, op};
          decided.push(d);
          continue;
        }
        const answer = approve(policy, d, who, now);
        if (!answer.ok) return {refused: {code: answer.code, message: answer.message}, op};
        decided.push(answer.decision);
      }
      if (op.state !== 'waiting-approval') return {refused: {code: 'not-waiting', message: `${describeIdentity(op.requester)}'s ${op.kind} ${op.id} is not waiting for approval (it is ${op.state})`}, op};
      const message = decided.map((d) => d.message).join('; ');
      await ctx.store.append(trx, op.id, [{type: 'approved', data: {by: describeIdentity(who), message, at: now.toISOString()}}]);
      await trx.updateTable('svapp_operations').set({state: 'queued', decisions: JSON.stringify(decided)}).where('id', '=', op.id).execute();
      // The approving replica runs it: its lease is taken with the approval.
      await acquireLease(trx, operationLease(op.id), ctx.runner.creator.replica, ctx.runner.creator.leaseMs);
      await audit({event: 'operation.approved', operation: op.id, who, decisions: decided});
      return {op: (await ctx.store.get(op.id, trx))!};
    });
    if ('refused' in result && result.refused) {
      await ctx.audit.record(ctx.db, {event: 'approval.refused', operation: result.op.id, who, code: result.refused.code, message: result.refused.message});
      throw toHttpError(refusal(result.op.decisions, result.refused.message, `svapp.approval_${result.refused.code.replace(/-/g, '_')}`));
    }
    void ctx.runner.tryRun(result.op.id).catch((error: unknown) => ctx.log.error(`starting ${result.op.id} failed: ${(error as Error).message}`));
    return reply.code(202).send(operationView(result.op));
  }));

  app.post('/v1/operations/:id/reject', {onRequest: auth, schema: {summary: 'Reject (or, as its requester, withdraw) an operation waiting for approval (protocol 2)', params: z.strictObject({id: operationId}), body: rejectRequestSchema.nullish(), response: {202: operationSchema}}}, handle(async (request, reply) => {
    const who = callerOf(request);
    const reason = request.body?.reason;
    await ctx.store.mustGet(request.params.id);
    const result = await ctx.audit.transaction(ctx.db, async (trx, audit) => {
      await trx.selectFrom('svapp_operations').select('id').where('id', '=', request.params.id).forUpdate().execute();
      const op = (await ctx.store.get(request.params.id, trx))!;
      const waiting = op.decisions.find((d) => d.outcome === 'approval-required');
      if (op.state !== 'waiting-approval' || !waiting) return {refused: `${describeIdentity(op.requester)}'s ${op.kind} ${op.id} is not waiting for approval (it is ${op.state})`, op};
      const answer = reject(ctx.policy(), waiting, who);
      if (!answer.ok) return {refused: answer.message, op};
      const withdrawn = answer.message.includes(' withdrew ');
      const message = `${answer.message}${reason ? `: ${reason}` : ''}`;
      await ctx.store.append(trx, op.id, [{type: 'end', data: {state: withdrawn ? 'cancelled' : 'rejected', error: {code: withdrawn ? 'svctl.withdrawn' : 'svctl.rejected', message: `${message}; nothing was done`, exitCode: ExitCode.denied}, at: at(ctx)}}]);
      await trx.updateTable('svapp_operations').set({state: withdrawn ? 'cancelled' : 'rejected', finished_at: ctx.now()}).where('id', '=', op.id).execute();
      await audit({event: withdrawn ? 'operation.withdrawn' : 'operation.rejected', operation: op.id, who, message, decisions: op.decisions});
      return {op: (await ctx.store.get(op.id, trx))!};
    });
    if ('refused' in result && result.refused) {
      await ctx.audit.record(ctx.db, {event: 'rejection.refused', operation: result.op.id, who, message: result.refused});
      throw toHttpError(refusal(result.op.decisions, result.refused, 'svapp.rejection_refused'));
    }
    return reply.code(202).send(operationView(result.op));
  }));
}

export type {Identity};
