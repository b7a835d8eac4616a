import type {FastifyReply, FastifyRequest} from 'fastify';
import semver from 'semver';
import * as z from 'zod';
import type {ApiApp} from './app.js';
import {badRequest, HttpError} from './errors.js';

import {CLIENT_HEADER, PROTOCOL_HEADER, PROTOCOL_RESPONSE_HEADER} from './protocol-client.js';

export {CLIENT_HEADER, PROTOCOL_HEADER, PROTOCOL_RESPONSE_HEADER};

export interface Deprecation {
  /** Clients below this version are deprecated (semver). */
  clientBelow?: string;
  /** Clients whose highest protocol is below this are deprecated. */
  protocolBelow?: number;
  /** When support ends (ISO 8601 date or date-time); becomes the Sunset header. */
  sunset?: string;
  /** When it was deprecated (ISO 8601); becomes the Deprecation header (default: when the server started, so the header does not change from one answer to the next). */
  since?: string;
  message: string;
}

export interface ProtocolPolicy {
  /** The server's name in messages: "svapp is too old for this client". */
  server: string;
  /** Protocol versions this server speaks. */
  protocol: {min: number; current: number};
  /** Clients below this version get `client_too_old` and nothing is done (semver). */
  minClientVersion?: string;
  /** The command that upgrades a client, e.g. `svctl update` (given the client's name). */
  upgradeCommand: (clientName: string) => string;
  deprecations?: Deprecation[];
  /** Whether a request without the client headers is refused (default true). */
  requireClientHeaders?: boolean;
}

export interface ClientInfo {
  name: string;
  version: string;
  protocol: {min: number; max: number};
}

export interface Negotiated {
  /** Undefined when the request carried no client headers and they are not required. */
  client: ClientInfo | undefined;
  /** The protocol version of the answer: the highest both sides speak. */
  protocol: number;
  warnings: ApiWarning[];
  /** The deprecations that apply to this client (they make the warnings and headers). */
  deprecations: Deprecation[];
}

export interface ApiWarning {
  code: 'deprecated';
  message: string;
  sunset?: string;
}

export const warningSchema = z.object({code: z.string(), message: z.string(), sunset: z.string().optional()}).meta({id: 'Warning'});
/** Add to a response schema: `warnings: warningsField` (deprecations the client should print). */
export const warningsField = z.array(warningSchema).optional().describe('Deprecation notices for this client; print them once, on stderr');

/** The protocol part of GET /v1/info. */
export const protocolInfoSchema = z.object({
  protocol: z.object({min: z.number().int(), current: z.number().int()}),
  minClientVersion: z.string().nullable(),
  deprecations: z.array(z.object({clientBelow: z.string().optional(), protocolBelow: z.number().int().optional(), sunset: z.string().optional(), message: z.string()})),
});

export function protocolInfo(policy: ProtocolPolicy): z.output<typeof protocolInfoSchema> {
  return {
    protocol: {...policy.protocol},
    minClientVersion: policy.minClientVersion ?? null,
    deprecations: (policy.deprecations ?? []).map((d) => ({
      ...(d.clientBelow ? {clientBelow: d.clientBelow} : {}),
      ...(d.protocolBelow !== undefined ? {protocolBelow: d.protocolBelow} : {}),
      ...(d.sunset ? {sunset: d.sunset} : {}),
      message: d.message,
    })),
  };
}

const CLIENT = /^([a-z][a-z0-9-]{0,40})\/(\S{1,64})$/;
const RANGE = /^(\d{1,4})(?:-(\d{1,4}))?$/;

/**
 * Decides how to answer a client, from its headers and the server's policy, before anything is
 * done: too old (version below minClientVersion, or no protocol in common from below) is
 * `client_too_old` with the upgrade command; a client newer than the server is `server_too_old`;
 * otherwise the highest common protocol and the deprecation warnings that apply.
 */
export function negotiate(policy: ProtocolPolicy, headers: Record<string, string | string[] | undefined>): Negotiated {
  const clientHeader = one(headers[CLIENT_HEADER]);
  const rangeHeader = one(headers[PROTOCOL_HEADER]);
  if (clientHeader === undefined && rangeHeader === undefined && policy.requireClientHeaders === false) {
    return {client: undefined, protocol: policy.protocol.current, warnings: [], deprecations: []};
  }
  const hint = `send "${CLIENT_HEADER}: <name>/<version>" and "${PROTOCOL_HEADER}: <min>-<max>" (the BCL clients do)`;
  const m = CLIENT.exec(clientHeader ?? '');
  if (!m || !semver.valid(m[2]!)) {
    throw badRequest('client_headers_missing', clientHeader === undefined ? `the request has no ${CLIENT_HEADER} header` : `the ${CLIENT_HEADER} header must be <name>/<semver>, got ${JSON.stringify(clientHeader)}`, {hint});
  }
  const r = RANGE.exec(rangeHeader ?? '');
  const range = r ? {min: Number(r[1]), max: Number(r[2] ?? r[1])} : undefined;
  if (!range || range.min > range.max) {
    throw badRequest('client_headers_missing', rangeHeader === undefined ? `the request has no ${PROTOCOL_HEADER} header` : `the ${PROTOCOL_HEADER} header must be <min>-<max>, got ${JSON.stringify(rangeHeader)}`, {hint});
  }
  const client: ClientInfo = {name: m[1]!, version: m[2]!, protocol: range};
  const upgrade = policy.upgradeCommand(client.name);
  const server = policy.protocol;
  if (policy.minClientVersion && semver.lt(client.version, policy.minClientVersion)) {
    throw clientTooOld(policy, client, `${client.name} ${client.version} is too old for this ${policy.server}: the oldest supported version is ${policy.minClientVersion}`, upgrade);
  }
  if (range.max < server.min) {
    throw clientTooOld(policy, client, `${client.name} ${client.version} speaks protocol ${fmt(range)}, and this ${policy.server} needs at least ${server.min}`, upgrade);
  }
  if (range.min > server.current) {
    throw new HttpError(400, 'server_too_old', `this ${policy.server} speaks protocol ${server.min}-${server.current}; ${client.name} ${client.version} needs at least ${range.min}: ${policy.server} is too old for this client`, {
      hint: `use a ${client.name} release that supports protocol ${server.current}, or ask for ${policy.server} to be upgraded`,
      details: {serverProtocol: server, clientProtocol: range},
    });
  }
  const deprecations = (policy.deprecations ?? []).filter((d) => (d.clientBelow && semver.lt(client.version, d.clientBelow)) || (d.protocolBelow !== undefined && range.max < d.protocolBelow));
  const warnings: ApiWarning[] = deprecations.map((d) => ({code: 'deprecated', message: `${d.message} (upgrade: ${upgrade})`, ...(d.sunset ? {sunset: d.sunset} : {})}));
  return {client, protocol: Math.min(range.max, server.current), warnings, deprecations};
}

function clientTooOld(policy: ProtocolPolicy, client: ClientInfo, message: string, upgrade: string): HttpError {
  return new HttpError(400, 'client_too_old', message, {
    hint: `upgrade with: ${upgrade}`,
    details: {clientVersion: client.version, minClientVersion: policy.minClientVersion ?? null, clientProtocol: client.protocol, serverProtocol: policy.protocol, upgradeCommand: upgrade},
  });
}

/**
 * Negotiates on every route (except those with `config: {protocol: false}`, like GET /v1/info)
 * before validation and the handler run, so a refused client changes nothing. Sets
 * `request.negotiated`, the Bcl-Protocol response header and, for deprecated clients, the
 * `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and `Warning: 299` headers plus a `warnings`
 * field in JSON object answers.
 */
export function useProtocol(app: ApiApp, policy: ProtocolPolicy, options: {now?: () => Date} = {}): void {
  const now = options.now ?? (() => new Date());
  const started = now().getTime();
  app.decorateRequest('negotiated', undefined);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if ((request.routeOptions.config as {protocol?: boolean} | undefined)?.protocol === false || request.routeOptions.url === undefined) return;
    const result = negotiate(policy, request.headers);
    request.negotiated = result;
    reply.header(PROTOCOL_RESPONSE_HEADER, String(result.protocol));
    if (result.warnings.length === 0) return;
    const applicable = result.deprecations;
    const since = applicable.map((d) => (d.since ? Date.parse(d.since) : started)).sort((a, b) => a - b)[0]!;
    reply.header('deprecation', `@${Math.floor(since / 1000)}`);
    const sunsets = applicable.flatMap((d) => (d.sunset ? [Date.parse(d.sunset)] : [])).sort((a, b) => a - b);
    if (sunsets.length > 0) reply.header('sunset', new Date(sunsets[0]!).toUTCString());
    reply.header('warning', result.warnings.map((w) => `299 ${policy.server} ${JSON.stringify(asciiOnly(w.message))}`).join(', '));
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const warnings = request.negotiated?.warnings;
    if (!warnings?.length || typeof payload !== 'string' || !String(reply.getHeader('content-type') ?? '').startsWith('application/json')) return payload;
    try {
      const body = JSON.parse(payload) as unknown;
      if (!body || typeof body !== 'object' || Array.isArray(body)) return payload;
      const existing = (body as {warnings?: unknown}).warnings;
      return JSON.stringify({...body, warnings: [...(Array.isArray(existing) ? existing : []), ...warnings]});
    } catch {
      return payload;
    }
  });
}

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function fmt(range: {min: number; max: number}): string {
  return range.min === range.max ? String(range.min) : `${range.min}-${range.max}`;
}

/** Header values must be visible ASCII. */
function asciiOnly(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The protocol decision for this request (set by useProtocol). */
    negotiated?: Negotiated;
  }
}
