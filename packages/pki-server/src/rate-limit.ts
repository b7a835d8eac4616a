/**
 * Rate limits shared by every replica: @fastify/rate-limit's counters kept in PostgreSQL (an
 * unlogged table, one upsert per counted request), so a client spreading requests over replicas
 * gets the same limit as one that hits a single replica. Per address on every API route (the
 * plugin's own hook), per identity on sign-ins and certificate operations (`perIdentity`).
 */
import rateLimit, {type FastifyRateLimitStore} from '@fastify/rate-limit';
import {type ApiApp, HttpError} from '@bcl/http-api';
import {type Kysely, sql} from '@bcl/postgres';
import type {FastifyRequest} from 'fastify';
import type {PkiDb} from './db/schema.js';

/** One window's counter per key: reset when the window has passed. */
export function postgresRateLimitStore(db: Kysely<PkiDb>, prefix: string) {
  return class PostgresRateLimitStore implements FastifyRateLimitStore {
    constructor(readonly routePrefix = '') {}

    incr(key: string, callback: (error: Error | null, result?: {current: number; ttl: number}) => void, timeWindow: number): void {
      const fullKey = `${prefix}${this.routePrefix}${key}`;
      sql<{count: number; ttl: number}>`
        insert into rate_limits as r (key, window_start, count) values (${fullKey}, now(), 1)
        on conflict (key) do update set
          count = case when r.window_start + ${timeWindow} * interval '1 millisecond' <= now() then 1 else r.count + 1 end,
          window_start = case when r.window_start + ${timeWindow} * interval '1 millisecond' <= now() then now() else r.window_start end
        returning count, greatest(0, ceil(extract(epoch from (window_start + ${timeWindow} * interval '1 millisecond' - now())) * 1000))::int as ttl`
        .execute(db)
        .then((r) => callback(null, {current: r.rows[0]!.count, ttl: r.rows[0]!.ttl}), (error: Error) => callback(error));
    }

    child(routeOptions: {path?: string; url?: string}): FastifyRateLimitStore {
      return new PostgresRateLimitStore(`${routeOptions.path ?? routeOptions.url ?? ''}:`);
    }
  };
}

export interface RateLimits {
  perAddress: {max: number; windowMs: number};
  perIdentity: {max: number; windowMs: number};
}

function tooMany(what: string, ttlMs: number): HttpError {
  const seconds = Math.max(1, Math.ceil(ttlMs / 1000));
  return new HttpError(429, 'rate_limited', `too many requests ${what}; try again in ${seconds} s`, {headers: {'retry-after': String(seconds)}, hint: 'Wait a moment: the limit is per person and per address, across all servers.'});
}

/**
 * Registers the per-address limit on every route registered afterwards (routes opt out with
 * `config: {rateLimit: false}`: CRL, OCSP and CA downloads that relying parties fetch), and
 * returns the per-identity check a route calls once it knows who is asking.
 */
export async function useRateLimits(app: ApiApp, db: Kysely<PkiDb>, limits: RateLimits, onLimited: (request: FastifyRequest, key: string) => void): Promise<(request: FastifyRequest, identity: string) => Promise<void>> {
  await app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    max: limits.perAddress.max,
    timeWindow: limits.perAddress.windowMs,
    store: postgresRateLimitStore(db, 'address:') as never,
    keyGenerator: (request) => request.ip,
    // A database hiccup must not turn into refusals of everyone.
    skipOnError: true,
    errorResponseBuilder: (_request, context) => tooMany('from this address', context.ttl),
    onExceeded: (request, key) => onLimited(request, `address:${key}`),
  });
  const perIdentity = app.createRateLimit({
    max: limits.perIdentity.max,
    timeWindow: limits.perIdentity.windowMs,
    store: postgresRateLimitStore(db, 'identity:') as never,
    keyGenerator: (request) => (request as FastifyRequest & {rateLimitIdentity?: string}).rateLimitIdentity ?? request.ip,
    skipOnError: true,
  });
  return async (request, identity) => {
    (request as FastifyRequest & {rateLimitIdentity?: string}).rateLimitIdentity = identity;
    const result = await perIdentity(request);
    if (!result.isAllowed && result.isExceeded) {
      onLimited(request, `identity:${identity}`);
      throw tooMany(`for ${identity}`, result.ttl);
    }
  };
}

/** Drops counters whose window ended long ago (any replica, now and then). */
export async function pruneRateLimits(db: Kysely<PkiDb>): Promise<void> {
  await sql`delete from rate_limits where window_start < now() - interval '1 day'`.execute(db);
}
