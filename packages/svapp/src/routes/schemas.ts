import {warningsField} from '@bcl/http-api';
import {z} from 'zod';
import {EVENT_TYPES, OPERATION_ID} from '../api.js';

// The request and response schemas of svapp's API: Fastify validates with them and the OpenAPI
// document (openapi.json, checked for incompatible changes) is generated from them. Requests are
// strict (an unknown field is a 400 naming it); responses declare what clients may rely on and
// let the deploy core's further fields through.

const serviceName = z.string().regex(/^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/, 'a service name (lower-case letters, digits and "-")');
const environmentName = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'an environment name');
const imageTag = z.string().min(1).max(128);
const timeoutMs = z.number().int().min(1000).max(3_600_000);
// Not trimmed or required here: a blank break-glass reason is the policy's to refuse, with its own message.
const reason = z.string().max(500);
export const operationId = z.string().regex(OPERATION_ID, 'an operation id: 8-64 lower-case letters, digits and "-" (svctl uses a UUID)');

export const identitySchema = z.object({kind: z.enum(['person', 'ci']), name: z.string()}).meta({id: 'Identity'});

export const deployServiceSchema = z.strictObject({
  spec: z.string().min(1).max(256 * 1024).describe('The text of service.yaml as the client read it'),
  file: z.string().min(1).max(4096).describe('Where the client read it (for messages)'),
  imageTag,
  gitSha: z.string().regex(/^[0-9a-f]{7,64}$/).optional(),
});

export const deployRequestSchema = z.strictObject({
  id: operationId,
  environment: environmentName,
  services: z.array(deployServiceSchema).min(1).max(100),
  timeoutMs: timeoutMs.optional(),
  rollback: z.boolean().optional(),
  breakGlassReason: reason.optional().describe('Protocol 2: why a freeze is broken (audited)'),
});

export const rollbackRequestSchema = z.strictObject({
  id: operationId,
  environment: environmentName,
  services: z.array(z.strictObject({name: serviceName})).min(1).max(100),
  to: z.number().int().min(1).optional(),
  timeoutMs: timeoutMs.optional(),
  breakGlassReason: reason.optional(),
});

export const buildRequestSchema = z.strictObject({
  id: operationId,
  service: serviceName,
  gitSha: z.string().min(1).max(200),
  imageTag,
  environment: environmentName.optional(),
  jenkins: z.string().min(1).max(100).optional(),
  follow: z.boolean().optional(),
});

export const diffRequestSchema = z.strictObject({
  environment: environmentName,
  services: z.array(deployServiceSchema).min(1).max(100),
});

export const canIRequestSchema = z.strictObject({
  action: z.enum(['deploy', 'rollback', 'cancel', 'read', 'build']),
  service: serviceName,
  environment: environmentName.optional(),
  as: z.string().min(1).max(320).optional().describe('Ask for another identity: an email, or ci:<name> (admins only)'),
  breakGlassReason: reason.optional(),
});

export const rejectRequestSchema = z.strictObject({reason: reason.optional()});
export const emptyBody = z.strictObject({}).nullish();

export const operationSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['deploy', 'rollback', 'build']),
    state: z.enum(['waiting-approval', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'rejected']),
    environment: z.string().nullable(),
    services: z.array(z.string()),
    requester: identitySchema,
    client: z.object({name: z.string(), version: z.string()}).nullable(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    runner: z.string().nullable(),
    attempts: z.number().int(),
    eventsUrl: z.string(),
    waitingFor: z.object({message: z.string(), groups: z.array(z.string())}).optional(),
    warnings: warningsField,
  })
  .meta({id: 'Operation'});

export const operationListSchema = z.object({operations: z.array(operationSchema.omit({warnings: true})), hidden: z.number().int(), warnings: warningsField});

const decisionSchema = z
  .looseObject({
    outcome: z.enum(['allowed', 'denied', 'approval-required']),
    code: z.string(),
    decidedBy: z.looseObject({kind: z.string()}),
    message: z.string(),
    request: z.looseObject({identity: identitySchema, action: z.string(), service: z.string(), team: z.string(), environment: z.string().optional()}),
    at: z.string(),
    policy: z.object({file: z.string(), sha256: z.string()}),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({id: 'Decision'});

export const canIResponseSchema = z.object({
  decision: decisionSchema,
  rules: z.array(z.looseObject({id: z.string(), effect: z.enum(['allow', 'deny']), matched: z.boolean(), role: z.string(), why: z.string()})),
  freezes: z.array(z.looseObject({environment: z.string(), id: z.string(), open: z.boolean(), why: z.string()})),
  /** The explanation as `svctl can-i` prints it. */
  text: z.string(),
  asker: identitySchema,
  warnings: warningsField,
});

const revisionSchema = z.looseObject({
  revision: z.number().int(),
  kind: z.enum(['deploy', 'rollback']),
  image: z.string(),
  imageTag: z.string(),
  who: z.string(),
  startedAt: z.string(),
  outcome: z.string(),
  applied: z.array(z.string()),
});

export const statusResponseSchema = z.looseObject({
  service: z.string(),
  environment: z.string(),
  namespace: z.string(),
  context: z.string(),
  deployed: z.boolean(),
  revision: z.number().int().nullable(),
  image: z.string().nullable(),
  state: z.enum(['available', 'progressing', 'failed', 'not deployed']),
  message: z.string(),
  replicas: z.looseObject({desired: z.number(), updated: z.number(), ready: z.number(), available: z.number()}).nullable(),
  pods: z.array(z.looseObject({name: z.string(), phase: z.string(), ready: z.boolean(), restarts: z.number()})),
  lastDeploy: revisionSchema.nullable(),
  deployInProgress: z.looseObject({holder: z.string()}).nullable(),
  warnings: warningsField,
});

export const historyResponseSchema = z.object({
  service: z.string(),
  environment: z.string(),
  namespace: z.string(),
  /** Oldest first. */
  revisions: z.array(revisionSchema),
  warnings: warningsField,
});

export const diffResponseSchema = z.object({
  environment: z.string(),
  changed: z.boolean(),
  services: z.array(z.looseObject({service: z.string(), environment: z.string(), namespace: z.string(), changes: z.array(z.looseObject({ref: z.string(), action: z.string(), diff: z.string()}))})),
  warnings: warningsField,
});

export const buildsResponseSchema = z.object({
  jenkins: z.string(),
  job: z.string(),
  builds: z.array(z.looseObject({number: z.number().int(), building: z.boolean(), result: z.string().nullable(), durationMs: z.number(), gitSha: z.string().nullable(), imageTag: z.string().nullable(), env: z.string().nullable(), startedAt: z.string(), url: z.string()})),
  warnings: warningsField,
});

export const whoamiSchema = z.object({identity: identitySchema, client: z.object({name: z.string(), version: z.string()}).nullable(), protocol: z.number().int(), warnings: warningsField});

export const infoSchema = z.object({
  server: z.string(),
  version: z.string(),
  protocol: z.object({min: z.number().int(), current: z.number().int()}),
  minClientVersion: z.string().nullable(),
  deprecations: z.array(z.object({clientBelow: z.string().optional(), protocolBelow: z.number().int().optional(), sunset: z.string().optional(), message: z.string()})),
  capabilities: z.array(z.string()),
  replica: z.string(),
});

export const healthSchema = z.object({ok: z.boolean(), replica: z.string(), running: z.number().int(), policy: z.looseObject({sha256: z.string(), loadedAt: z.string(), problem: z.string().nullable()}), tls: z.unknown().optional()});

export const eventsDescription = `Server-sent events of the operation: \`id:\` is the sequence number (resume with Last-Event-ID: exactly the missing events follow), \`event:\` one of ${EVENT_TYPES.join(', ')}; \`data:\` one JSON object with \`at\`. The stream ends after \`end\` (the result or the error); a stream that ends without it was cut. Keepalive comments every 15 s.`;
