/**
 * Rate limits shared by every replica: @fastify/rate-limit's counters kept in PostgreSQL (an
 * unlogged table; one upsert counts the requests that arrived together), so a client spreading requests over replicas
 * gets the same limit as one that hits a single replica. Per address on every API route (the
 * plugin's own hook), per identity on sign-ins and certificate operations (`perIdentity`).
 */
import rateLimit, {type FastifyRateLimitStore} from '@fastify/rate-limit';
import type DataLoader from 'dataloader';
import {type ApiApp, HttpError} from '@bcl/http-api';
import {type Kysely, sql} from '@bcl/postgres';
import type {FastifyRequest} from 'fastify';
import {batchPerTurn} from './batch.js';
import type {PkiDb} from './db/schema.js';

/**
 * One window's counter per key: reset when the window has passed. The increments that arrive
 * together (requests read in one turn of the event loop) go to the database as one statement,
 * a key counted as often as it was asked for: one round trip for many requests under load.
 */
export function postgresRateLimitStore(db: Kysely<PkiDb>) {
  const loaders = new Map<number, DataLoader<string, {current: number; ttl: number}>>();
  const loaderFor = (timeWindow: number) => {
    let loader = loaders.get(timeWindow);
    if (!loader) loaders.set(timeWindow, (loader = batchPerTurn((keys: readonly string[]) => incrementAll(db, keys, timeWindow))));
    return loader;
  };
  return class PostgresRateLimitStore implements FastifyRateLimitStore {
    /** The plugin passes its options first, a route's (with `routeInfo`) to child(): a route with a limit of its own counts apart. */
    readonly routePrefix: string;
    constructor(routePrefix?: unknown) {
      this.routePrefix = typeof routePrefix === 'string' ? routePrefix : '';
    }

    incr(key: string, callback: (error: Error | null, result?: {current: number; ttl: number}) => void, timeWindow: number): void {
      loaderFor(timeWindow).load(`${this.routePrefix}${key}`).then((result) => callback(null, result), (error: Error) => callback(error));
    }

    child(routeOptions: unknown): FastifyRateLimitStore {
      // The plugin passes the route's merged limit options, the route itself under routeInfo.
      const url = (routeOptions as {routeInfo?: {url?: string}}).routeInfo?.url;
      return new PostgresRateLimitStore(url ? `${url}:` : '');
    }
  };
}

/** Counts every key as often as it appears, in one upsert; each occurrence gets its own place in the count. */
async function incrementAll(db: Kysely<PkiDb>, keys: readonly string[], timeWindow: number): Promise<{current: number; ttl: number}[]> {
  const {rows} = await sql<{key: string; count: number; added: number; ttl: number}>`
    with asked as (select key, count(*)::int as n from unnest(${[...keys]}::text[]) as key group by key),
    counted as (
      -- In key order: two replicas counting the same keys lock their rows in the same order (no deadlock).
      insert into rate_limits as r (key, window_start, count) select key, now(), n from asked order by key
      on conflict (key) do update set
        count = case when r.window_start + ${timeWindow} * interval '1 millisecond' <= now() then excluded.count else r.count + excluded.count end,
        window_start = case when r.window_start + ${timeWindow} * interval '1 millisecond' <= now() then now() else r.window_start end
      returning key, count, greatest(0, ceil(extract(epoch from (window_start + ${timeWindow} * interval '1 millisecond' - now())) * 1000))::int as ttl)
    select counted.key, counted.count, asked.n as added, counted.ttl from counted join asked using (key)`.execute(db);
  // The n occurrences of a key take the last n places of its count, in the order they were asked.
  const next = new Map(rows.map((r) => [r.key, {current: r.count - r.added + 1, ttl: r.ttl}]));
  return keys.map((key) => {
    const at = next.get(key)!;
    next.set(key, {...at, current: at.current + 1});
    return at;
  });
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
    store: postgresRateLimitStore(db) as never,
    keyGenerator: (request) => `address:${request.ip}`,
    // A database hiccup must not turn into refusals of everyone.
    skipOnError: true,
    errorResponseBuilder: (_request, context) => tooMany('from this address', context.ttl),
    onExceeded: (request, key) => onLimited(request, `address:${key}`),
  });
  // (createRateLimit counts in the plugin's store, the one above.)
  const perIdentity = app.createRateLimit({
    max: limits.perIdentity.max,
    timeWindow: limits.perIdentity.windowMs,
    keyGenerator: (request) => `identity:${(request as FastifyRequest & {rateLimitIdentity?: string}).rateLimitIdentity ?? request.ip}`,
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
