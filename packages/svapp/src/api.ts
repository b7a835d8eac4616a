/**
 * svapp's HTTP API as its clients see it: the protocol versions and what each adds, the request
 * bodies, the operation resource and its events. Types and constants only, no package imports
 * (a test checks): svctl imports this entry and never loads server code.
 */

export const SERVER_NAME = 'svapp';

/**
 * Protocol versions this build speaks. 1: deploys, rollbacks, builds and reads as operations
 * with streamed events. 2: the deploy policy's client side (can-i, approvals, break-glass).
 */
export const PROTOCOL = {min: 1, current: 2} as const;

export type Capability = 'deploy' | 'rollback' | 'status' | 'history' | 'diff' | 'build' | 'builds' | 'operations' | 'cancel' | 'can-i' | 'approvals' | 'break-glass';

/** What each protocol version adds (a server speaking up to N has every capability of 1..N). */
export const CAPABILITIES_BY_PROTOCOL: Readonly<Record<number, readonly Capability[]>> = {
  1: ['deploy', 'rollback', 'status', 'history', 'diff', 'build', 'builds', 'operations', 'cancel'],
  2: ['can-i', 'approvals', 'break-glass'],
};

export function capabilitiesOf(protocol: number): Capability[] {
  return Object.entries(CAPABILITIES_BY_PROTOCOL)
    .filter(([version]) => Number(version) <= protocol)
    .flatMap(([, caps]) => caps);
}

/** The protocol version that brought a capability. */
export function protocolOf(capability: Capability): number {
  for (const [version, caps] of Object.entries(CAPABILITIES_BY_PROTOCOL)) if (caps.includes(capability)) return Number(version);
  return Number.POSITIVE_INFINITY;
}

/** GET /v1/info (no authentication). */
export interface ServerInfo {
  server: string;
  version: string;
  protocol: {min: number; current: number};
  minClientVersion: string | null;
  deprecations: {clientBelow?: string; protocolBelow?: number; sunset?: string; message: string}[];
  capabilities: Capability[];
  replica: string;
}

export type OperationKind = 'deploy' | 'rollback' | 'build';
export type OperationState = 'waiting-approval' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'rejected';
export const FINISHED_STATES: readonly OperationState[] = ['succeeded', 'failed', 'cancelled', 'rejected'];

/** An operation id is chosen by the client (a UUID): the same id again is the same operation. */
export const OPERATION_ID = /^[a-z0-9][a-z0-9-]{7,63}$/;

export interface Identity {
  kind: 'person' | 'ci';
  name: string;
}

/** A service of a deploy: its service.yaml as the client read it, and what to deploy. */
export interface DeployService {
  /** The text of service.yaml (svapp validates it; the team comes from svapp's catalog). */
  spec: string;
  /** Where the client read it, for messages. */
  file: string;
  imageTag: string;
  gitSha?: string;
}

/** POST /v1/deploys */
export interface DeployRequest {
  id: string;
  environment: string;
  services: DeployService[];
  timeoutMs?: number;
  rollback?: boolean;
  /** Protocol 2: the reason for breaking a freeze (it lands in the audit log). */
  breakGlassReason?: string;
}

/** POST /v1/rollbacks */
export interface RollbackRequest {
  id: string;
  environment: string;
  services: {name: string}[];
  to?: number;
  timeoutMs?: number;
  breakGlassReason?: string;
}

/** POST /v1/builds */
export interface BuildRequest {
  id: string;
  service: string;
  gitSha: string;
  imageTag: string;
  environment?: string;
  jenkins?: string;
  follow?: boolean;
}

/** POST /v1/diffs (answered at once: a server-side dry run). */
export interface DiffRequest {
  environment: string;
  services: DeployService[];
}

/** POST /v1/can-i (protocol 2). */
export interface CanIRequest {
  action: 'deploy' | 'rollback' | 'cancel' | 'read' | 'build';
  service: string;
  environment?: string;
  /** Ask for someone else (members of an admins group): an email, or ci:<name>. */
  as?: string;
  breakGlassReason?: string;
}

/** The operation resource (POST answers, GET /v1/operations/:id, ops list). */
export interface OperationView {
  id: string;
  kind: OperationKind;
  state: OperationState;
  environment: string | null;
  services: string[];
  requester: Identity;
  client: {name: string; version: string} | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** The replica running it (or that ran it last). */
  runner: string | null;
  attempts: number;
  /** Where its events stream (server-sent events, resumable with Last-Event-ID). */
  eventsUrl: string;
  /** Protocol 2: why it waits, when it waits for approval. */
  waitingFor?: {message: string; groups: string[]};
}

/** The error of an operation or a refused request, with the exit code svctl uses for it. */
export interface OperationError {
  code: string;
  message: string;
  hint?: string;
  exitCode: number;
  details?: unknown;
}

/** The terminal event of every operation's stream: a stream cut before it is never a success. */
export interface EndEvent {
  state: OperationState;
  result?: unknown;
  error?: OperationError;
  at: string;
}

/**
 * The events of an operation, by `event:` name. The deploy core's own (task-*, warning, notice,
 * log, result) carry its data as it is; every event has `at`, when svapp recorded it.
 */
export const EVENT_TYPES = [
  'accepted',
  'approval-required',
  'approved',
  'started',
  'taken-over',
  'cancel-requested',
  'task-started',
  'task-progress',
  'task-finished',
  'tasks-ended',
  'warning',
  'notice',
  'log',
  'result',
  'end',
] as const;
export const TERMINAL_EVENT = 'end';
