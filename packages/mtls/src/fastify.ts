// The Fastify side of client certificates: `@bcl/mtls/fastify` (kept out of the main entry so
// a server without Fastify never loads it).
import type {TLSSocket} from 'node:tls';
import {type ApiApp, HttpError} from '@bcl/http-api';
import type {FastifyRequest} from 'fastify';
import {checkPeer, type IdentityKind, type IdentityOptions, type PeerCheck, type PeerIdentity, type Refusal} from './peer.js';

export interface ClientCertificateOptions extends Omit<IdentityOptions, 'kinds'> {
  /** Called for every refused request before the 401/403 is sent (audit it). */
  onRefused?: (request: FastifyRequest, refusal: Refusal) => void | Promise<void>;
  /** The realm in WWW-Authenticate (default: the app's title is not known here, so "bcl"). */
  realm?: string;
}

/** A route hook: use it as the route's `onRequest`, so a refused caller is answered before its body is read. */
export type IdentityHook = (request: FastifyRequest) => Promise<void>;

/**
 * Checks the client certificate of every request once (request.peer), names the caller in the
 * request log line, and lets routes demand an identity with `{onRequest: requireIdentity(...)}`.
 * Routes without it (public ones: CA, CRL, info) still see `request.peer`.
 */
export function useClientCertificates(app: ApiApp, options: ClientCertificateOptions = {}): {requireIdentity: (...kinds: IdentityKind[]) => IdentityHook} {
  app.decorateRequest('peer', undefined);
  app.addHook('onRequest', async (request) => {
    const socket = request.raw.socket as TLSSocket;
    if (typeof socket.getPeerCertificate !== 'function') {
      request.peer = {ok: false, status: 401, code: 'no_client_certificate', reason: 'the connection is not TLS, so it carries no client certificate'};
      return;
    }
    const peer = checkPeer(socket, {...options, kinds: ['person', 'ci', 'host']});
    request.peer = peer;
    if (peer.ok) request.identityForLog = `${peer.identity.kind}:${peer.identity.name}`;
  });
  const requireIdentity =
    (...kinds: IdentityKind[]): IdentityHook =>
    async (request) => {
      const socket = request.raw.socket as TLSSocket;
      const peer: PeerCheck = typeof socket.getPeerCertificate === 'function' ? checkPeer(socket, {...options, kinds: kinds.length ? kinds : ['person', 'ci', 'host']}) : request.peer!;
      if (peer.ok) {
        request.identity = peer.identity;
        return;
      }
      await options.onRefused?.(request, peer);
      throw new HttpError(peer.status, peer.code, peer.reason, {
        ...(peer.subject ? {details: {subject: peer.subject, x509Serial: peer.x509Serial}} : {}),
        ...(peer.status === 401 ? {headers: {'www-authenticate': `MutualTLS realm="${options.realm ?? 'bcl'}"`}, hint: 'use the client certificate pkictl issued you (csshctl, svctl and pkictl do when configured)'} : {}),
      });
    };
  return {requireIdentity};
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The client-certificate check of this request's connection (set by useClientCertificates). */
    peer?: PeerCheck;
    /** The verified caller (set by requireIdentity). */
    identity?: PeerIdentity;
  }
}
