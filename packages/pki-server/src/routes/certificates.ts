/**
 * Requests and certificates: POST /v1/requests issues at once for standard profiles; renewals,
 * revocations, and the views of one's own certificates (an admin sees everyone's).
 */
import type {ApiApp} from '@bcl/http-api';
import {normalizeSerial} from '@bcl/pki-local';
import {z} from 'zod';
import {
  certificateSchema,
  certificateStatusSchema,
  certificateSummarySchema,
  newRequestSchema,
  rejectSchema,
  renewSchema,
  requestOutcomeSchema,
  requestViewSchema,
  revokedSchema,
  revokeSchema,
  serialSchema,
} from '../api.js';
import type {RouteContext} from '../server.js';

const serialParams = z.strictObject({serial: serialSchema});
const idParams = z.strictObject({id: z.string().regex(/^[a-z0-9][a-z0-9-]{3,63}$/, {error: 'expected a request id'})});
const serialOf = (text: string) => normalizeSerial(text)!;

export function certificateRoutes(app: ApiApp, ctx: RouteContext): void {
  const signedIn = {onRequest: [ctx.signedIn]};
  const limited = {onRequest: [ctx.signedIn, ctx.identityLimit]};

  app.post(
    '/v1/requests',
    {
      ...limited,
      schema: {
        tags: ['certificates'],
        summary: 'Request a certificate for yourself: issued at once (201) for standard profiles, else waiting for an admin (202)',
        body: newRequestSchema,
        response: {201: requestOutcomeSchema, 202: requestOutcomeSchema},
      },
    },
    async (request, reply) => {
      const {status, outcome} = await ctx.registration.submit(ctx.caller(request), request.body, request.ip);
      return reply.code(status).send(outcome);
    },
  );

  app.get(
    '/v1/requests',
    {...signedIn, schema: {tags: ['certificates'], summary: 'Requests: yours, or everyone\'s for an admin', querystring: z.strictObject({status: z.enum(['pending', 'issued', 'rejected', 'all']).default('pending')}), response: {200: z.object({requests: z.array(requestViewSchema)})}}},
    async (request) => ({requests: await ctx.registration.listRequests(ctx.caller(request), request.query.status)}),
  );

  app.get('/v1/requests/:id', {...signedIn, schema: {tags: ['certificates'], summary: 'One request, with its certificate once issued', params: idParams, response: {200: requestOutcomeSchema}}}, async (request) =>
    ctx.registration.getRequest(ctx.caller(request), request.params.id),
  );

  app.post('/v1/requests/:id/approve', {...signedIn, schema: {tags: ['admin'], summary: 'Approve a waiting request and issue its certificate (admin)', params: idParams, response: {200: requestOutcomeSchema}}}, async (request) =>
    ctx.registration.approve(ctx.caller(request), request.params.id, request.ip),
  );

  app.post(
    '/v1/requests/:id/reject',
    {...signedIn, schema: {tags: ['admin'], summary: 'Reject a waiting request, with a reason the requester sees (admin)', params: idParams, body: rejectSchema, response: {200: z.object({request: requestViewSchema})}}},
    async (request) => ({request: await ctx.registration.reject(ctx.caller(request), request.params.id, request.body.reason, request.ip)}),
  );

  app.get(
    '/v1/certificates',
    {
      ...signedIn,
      schema: {
        tags: ['certificates'],
        summary: 'Certificates: yours, or everyone\'s for an admin',
        querystring: z.strictObject({status: certificateStatusSchema.optional(), email: z.string().max(320).optional()}),
        response: {200: z.object({certificates: z.array(certificateSummarySchema)})},
      },
    },
    async (request) => ({certificates: await ctx.registration.listCertificates(ctx.caller(request), request.query)}),
  );

  app.get('/v1/certificates/:serial', {...signedIn, schema: {tags: ['certificates'], summary: 'One certificate, with its PEM and CA chain', params: serialParams, response: {200: certificateSchema}}}, async (request) =>
    ctx.registration.getCertificate(ctx.caller(request), serialOf(request.params.serial)),
  );

  app.post(
    '/v1/certificates/:serial/renew',
    {
      ...limited,
      schema: {
        tags: ['certificates'],
        summary: 'Renew your valid certificate: a new CSR signed with the old key; the old one is revoked (superseded) once the new one is issued',
        params: serialParams,
        body: renewSchema,
        response: {201: requestOutcomeSchema, 202: requestOutcomeSchema},
      },
    },
    async (request, reply) => {
      const {status, outcome} = await ctx.registration.renew(ctx.caller(request), serialOf(request.params.serial), request.body, request.ip);
      return reply.code(status).send(outcome);
    },
  );

  app.post(
    '/v1/certificates/:serial/revoke',
    {...limited, schema: {tags: ['certificates'], summary: 'Revoke a certificate (yours: a lost device; anyone\'s: admin); the CRL is re-published before the answer', params: serialParams, body: revokeSchema, response: {200: revokedSchema}}},
    async (request) => ctx.registration.revoke(ctx.caller(request), serialOf(request.params.serial), request.body.reason, request.ip),
  );
}
