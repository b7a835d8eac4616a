import {randomUUID} from 'node:crypto';
import type {IncomingMessage, ServerResponse} from 'node:http';
import type {ServerOptions as HttpsServerOptions} from 'node:https';
import fastifySwagger from '@fastify/swagger';
import Fastify, {LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type RawServerDefault} from 'fastify';
import {hasZodFastifySchemaValidationErrors, isResponseSerializationError, jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider} from 'fastify-type-provider-zod';
import type {z} from 'zod';
import {errorEnvelopeSchema, HttpError} from './errors.js';
import {endEventStreams} from './sse.js';
import {lenientObjectPaths} from './strict.js';

/**
 * A Fastify app whose routes take zod schemas (bodies, params, queries, responses). Typed with
 * node:http's request and response, which HTTPS shares, so hooks and helpers typed with plain
 * FastifyRequest fit; with `https`, `app.server` is really an https.Server (setSecureContext).
 */
export type ApiApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

export interface LogOptions {
  /** Where JSON lines go (default: stderr). Anything with `write(line)`. */
  stream?: {write(line: string): unknown};
  level?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
}

export interface AppOptions {
  /** The API's name and version, for the OpenAPI document's `info`. */
  title: string;
  version: string;
  description?: string;
  /** JSON-lines logging (one line per request, errors with stacks); false: none. */
  log?: LogOptions | false;
  /** Largest request body in bytes (default 64 KiB); larger is 413 `body_too_large`. */
  bodyLimit?: number;
  /** TLS (and client-certificate) options: the app then serves HTTPS, e.g. from @bcl/mtls. */
  https?: HttpsServerOptions;
  /** Trust X-Forwarded-* from a proxy in front (default false). */
  trustProxy?: boolean;
  /** Where the OpenAPI document is served (default /v1/openapi.json; false: not served). */
  openapiPath?: string | false;
  /** Connection timeouts (ms). */
  keepAliveTimeout?: number;
  requestTimeout?: number;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const REQUEST_PARTS = ['body', 'querystring', 'params'] as const;

/**
 * The shared server set-up every `buildServer(deps)` starts from: zod validation and response
 * serialization, unknown request fields refused, one error envelope, request ids (X-Request-Id,
 * echoed), one JSON log line per request without headers or query strings, a body size limit,
 * and an OpenAPI 3.1 document generated from the same schemas.
 */
export async function createApp(options: AppOptions): Promise<ApiApp> {
  const log = options.log === false ? false : {
    level: options.log?.level ?? 'info',
    stream: options.log?.stream ?? process.stderr,
    // Nothing below logs headers or bodies; these catch a secret put into a log call by mistake.
    redact: {paths: ['*.password', '*.token', '*.secret', '*.authorization', '*.cookie', '*.headers'], censor: '[redacted]'},
    serializers: {
      req: (req: FastifyRequest) => ({method: req.method, path: pathOf(req.url)}),
      res: (reply: FastifyReply) => ({status: reply.statusCode}),
    },
  };
  const app = Fastify({
    logger: log,
    // One line per request is ours (onResponse), not Fastify's two.
    logController: new LogController({disableRequestLogging: true}),
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    requestIdHeader: false,
    genReqId: (req: {headers: Record<string, string | string[] | undefined>}) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    trustProxy: options.trustProxy ?? false,
    keepAliveTimeout: options.keepAliveTimeout ?? 5000,
    requestTimeout: options.requestTimeout ?? 30_000,
    return503OnClosing: true,
    ...(options.https ? {https: options.https} : {}),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const api = app.withTypeProvider<ZodTypeProvider>() as unknown as ApiApp;

  await app.register(fastifySwagger, {
    openapi: {openapi: '3.1.0', info: {title: options.title, version: options.version, ...(options.description ? {description: options.description} : {})}},
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
    hideUntagged: false,
  });

  // A request schema that would drop unknown fields is a programming error: refuse at start-up.
  app.addHook('onRoute', (route) => {
    const schema = route.schema as Partial<Record<(typeof REQUEST_PARTS)[number], z.ZodType>> | undefined;
    for (const part of REQUEST_PARTS) {
      const s = schema?.[part];
      if (!s || typeof s !== 'object' || !('_zod' in s)) continue;
      const lenient = lenientObjectPaths(s);
      if (lenient.length > 0) {
        throw new Error(`${String(route.method)} ${route.url}: the ${part} schema must refuse unknown fields: use z.strictObject at ${lenient.join(', ')}`);
      }
    }
    // Every route documents the error envelope for its error statuses.
    if (schema && (schema as {response?: Record<string, unknown>}).response) {
      const response = (schema as {response: Record<string, unknown>}).response;
      response['4XX'] ??= errorEnvelopeSchema;
      response['5XX'] ??= errorEnvelopeSchema;
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {method: request.method, path: pathOf(request.url), route: request.routeOptions.url ?? null, status: reply.statusCode, ms: Math.round(reply.elapsedTime), ...(request.identityForLog ? {who: request.identityForLog} : {})},
      'request',
    );
  });

  // Event streams never end by themselves: close them, so app.close() (rolling restarts) does not wait.
  app.addHook('preClose', async () => endEventStreams(app.server));

  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(new HttpError(404, 'not_found', `no such endpoint: ${request.method} ${pathOf(request.url)}`).toEnvelope());
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const mapped = toHttpError(error, request);
    if (mapped.status >= 500) request.log.error({err: error}, `${request.method} ${pathOf(request.url)} failed`);
    void reply.code(mapped.status).headers(mapped.headers).send(mapped.toEnvelope());
  });

  if (options.openapiPath !== false) {
    app.get(options.openapiPath ?? '/v1/openapi.json', {schema: {hide: true}}, async () => app.swagger());
  }
  return api;
}

/** Maps what Fastify and the zod adapter throw to the envelope; anything unknown is a 500. */
function toHttpError(error: FastifyError, request: FastifyRequest): HttpError {
  if (error instanceof HttpError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const part = partName(error.validationContext);
    const issues = error.validation.flatMap((issue) => {
      const base = issue.instancePath.split('/').filter(Boolean).join('.');
      const at = (key?: string) => [part, base, key].filter(Boolean).join('.');
      const keys = (issue.params as {keys?: string[]}).keys;
      if (issue.keyword === 'unrecognized_keys' && keys) return keys.map((k) => ({path: at(k), message: 'unknown field'}));
      return [{path: at(), message: issue.message}];
    });
    const first = issues[0]!;
    return new HttpError(400, 'invalid_request', `${first.path}: ${first.message}`, {details: {issues}});
  }
  if (isResponseSerializationError(error)) {
    return new HttpError(500, 'internal', `internal error (request ${request.id})`);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, 'body_too_large', `the request body is larger than ${request.routeOptions.bodyLimit} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError(415, 'unsupported_media_type', `unsupported Content-Type ${JSON.stringify(request.headers['content-type'] ?? '')}: send application/json`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpError(400, 'invalid_json', 'the body is empty, but Content-Type says application/json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpError(400, 'invalid_json', `the body is not valid JSON: ${error.message}`);
  }
  if (error instanceof SyntaxError && (error as {statusCode?: number}).statusCode === 400) {
    return new HttpError(400, 'invalid_json', `the body is not valid JSON: ${error.message}`);
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return new HttpError(status, 'bad_request', error.message);
  return new HttpError(500, 'internal', `internal error (request ${request.id})`);
}

function partName(context: string | undefined): string {
  return context === 'querystring' ? 'query' : (context ?? 'request');
}

/** The path without its query string, which may carry tokens. */
function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who made the request, for the request log line (set by authentication). */
    identityForLog?: string;
  }
}
