/**
 * What relying parties fetch, without signing in, at stable URLs written into every certificate:
 * the CA certificate (/ca.crt DER, /ca.pem the chain), the CRL (/crl DER, /crl.pem) and the OCSP
 * responder (POST /ocsp, GET /ocsp/<base64 request>). Not rate limited per address: a VPN
 * gateway behind one address asks for everyone.
 */
import {type ApiApp, badRequest, unavailable} from '@bcl/http-api';
import type {FastifyReply} from 'fastify';
import {crlPem} from '../crl.js';
import type {RouteContext} from '../server.js';

const open = {config: {rateLimit: false, protocol: false} as never};

export function revocationRoutes(app: ApiApp, ctx: RouteContext): void {
  app.addContentTypeParser('application/ocsp-request', {parseAs: 'buffer', bodyLimit: 16 * 1024}, (_request, body, done) => done(null, body));

  app.get('/ca.crt', {...open, schema: {tags: ['revocation'], summary: 'The issuing CA certificate (DER), the caIssuers URL of every certificate'}}, async (_request, reply: FastifyReply) =>
    reply.type('application/pkix-cert').header('cache-control', 'public, max-age=3600').send(ctx.ca.issuerDer),
  );
  app.get('/ca.pem', {...open, schema: {tags: ['revocation'], summary: 'The CA chain (PEM): issuer first, root last'}}, async (_request, reply: FastifyReply) =>
    reply.type('application/x-pem-file').header('cache-control', 'public, max-age=3600').send(ctx.ca.chainPem),
  );

  const sendCrl = async (reply: FastifyReply, pem: boolean) => {
    const crl = await ctx.crl.latest();
    if (!crl) throw unavailable('no_crl', 'no CRL has been published yet; try again in a moment');
    const maxAge = Math.max(0, Math.min(3600, Math.floor((crl.nextUpdate.getTime() - ctx.now().getTime()) / 1000)));
    return reply
      .type(pem ? 'application/x-pem-file' : 'application/pkix-crl')
      .header('cache-control', `public, max-age=${maxAge}, no-transform`)
      .header('last-modified', crl.thisUpdate.toUTCString())
      .send(pem ? crlPem(crl.der) : crl.der);
  };
  app.get('/crl', {...open, schema: {tags: ['revocation'], summary: 'The current CRL (DER), the cRLDistributionPoints URL of every certificate'}}, async (_request, reply: FastifyReply) => sendCrl(reply, false));
  app.get('/crl.pem', {...open, schema: {tags: ['revocation'], summary: 'The current CRL (PEM)'}}, async (_request, reply: FastifyReply) => sendCrl(reply, true));

  const answer = async (reply: FastifyReply, der: Buffer, cacheable: boolean) => {
    const response = await ctx.ocsp.respond(der);
    const seconds = Math.floor(ctx.ocspValidityMs / 1000);
    return reply
      .type('application/ocsp-response')
      .header('cache-control', cacheable ? `public, max-age=${seconds}, no-transform` : 'no-store')
      .send(response);
  };
  app.post('/ocsp', {...open, schema: {tags: ['revocation'], summary: 'OCSP (RFC 6960): POST an application/ocsp-request'}}, async (request, reply: FastifyReply) => {
    if (!Buffer.isBuffer(request.body)) throw badRequest('invalid_request', 'send the OCSP request as Content-Type: application/ocsp-request');
    // A request with a nonce asks for a fresh answer: caches must not keep it.
    return answer(reply, request.body, false);
  });
  app.get('/ocsp/*', {...open, schema: {tags: ['revocation'], summary: 'OCSP (RFC 5019): GET /ocsp/<base64 of the DER request, URL-encoded>'}}, async (request, reply: FastifyReply) => {
    const encoded = (request.params as {'*': string})['*'];
    let der: Buffer;
    try {
      der = Buffer.from(decodeURIComponent(encoded), 'base64');
    } catch {
      throw badRequest('invalid_request', 'the OCSP request in the URL is not URL-encoded base64');
    }
    return answer(reply, der, true);
  });
}
