// @bcl/http-api: the shared HTTP server set-up (Fastify + zod + OpenAPI) for BCL's servers.
export {createApp, type ApiApp, type AppOptions, type LogOptions} from './app.js';
export {HttpError, isHttpError, errorEnvelopeSchema, badRequest, unauthenticated, forbidden, notFound, conflict, preconditionFailed, tooManyRequests, unavailable, type ErrorEnvelope, type HttpErrorOptions} from './errors.js';
export {openApiDocument, assertOpenApiCompatible} from './openapi.js';
export {checkOpenApi, stableJson, UPDATE_ENV, ALLOW_BREAKING_ENV, type OpenApiCheck} from './openapi-check.js';
export {compareOpenApi, type ApiChange} from './openapi-diff.js';
export {
  negotiate,
  useProtocol,
  protocolInfo,
  protocolInfoSchema,
  warningSchema,
  warningsField,
  CLIENT_HEADER,
  PROTOCOL_HEADER,
  PROTOCOL_RESPONSE_HEADER,
  type ProtocolPolicy,
  type Deprecation,
  type ClientInfo,
  type Negotiated,
  type ApiWarning,
} from './protocol.js';
export {sendEventStream, endEventStreams, lastEventId, formatEvent, EventLog, type StreamEvent, type EventStreamOptions, type EventStreamResult} from './sse.js';
export {parseEventStream, type ReceivedEvent} from './sse-client.js';
export {protocolHeaders, warningTexts} from './protocol-client.js';
export {lenientObjectPaths} from './strict.js';
