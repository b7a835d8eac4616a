import {randomUUID} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {BclError, type CommandContext, ExitCode, invalidInput} from '@bcl/core';
import type {DeployResult, RevisionRecord, RollbackResult, ServiceDeployResult, ServiceDiff, ServiceStatus} from '@bcl/deploy-core/deploy';
import type {EndEvent, OperationView} from '@bcl/svapp/api';
import {loadSpecs} from '../cli/inputs.js';
import {SvappClient} from './client.js';
import {followOperation} from './follow.js';
import {serverSettings} from './settings.js';

/** The flags every command that talks to svapp takes. */
export interface RemoteFlags {
  warningsAsErrors: boolean;
  cancelOnInterrupt?: boolean;
}

/** svctl's client of svapp for this command (server mode). */
export async function openClient(ctx: CommandContext, flags: RemoteFlags): Promise<SvappClient> {
  const settings = serverSettings(ctx);
  if (!settings) {
    throw invalidInput('svctl.server_not_configured', 'this command needs svapp, and svctl.server is not set', {
      hint: 'Point svctl at svapp: bcl config set svctl.server "{url: https://svapp.example.com}" (and .ca if its certificate is from a private CA).',
    });
  }
  return SvappClient.open(ctx, settings, {warningsAsErrors: flags.warningsAsErrors});
}

function reconnectMs(ctx: CommandContext): number {
  return Number(ctx.config.get('svctl.reconnectSeconds') ?? 60) * 1000;
}

/** Follows an operation and turns its end into the command's result, or its error (the failure report first). */
export async function finishOperation<T>(ctx: CommandContext, client: SvappClient, op: Pick<OperationView, 'id' | 'kind'>, flags: RemoteFlags): Promise<T> {
  const end = await followOperation(ctx, client, op, {cancelOnInterrupt: flags.cancelOnInterrupt ?? false, reconnectMs: reconnectMs(ctx)});
  return verdict<T>(ctx, end);
}

/** The command's result for a succeeded operation; for the rest, the report a person reads and the error. */
export async function verdict<T>(ctx: CommandContext, end: EndEvent): Promise<T> {
  if (end.state === 'succeeded') return end.result as T;
  const error = end.error ?? {code: 'svctl.operation_failed', message: `the operation ended ${end.state}`, exitCode: ExitCode.failed};
  const services = (error.details as {services?: ServiceDeployResult[]} | undefined)?.services;
  if (Array.isArray(services) && services.length > 0) {
    const {reportFailures} = await import('../deploy/report.js');
    reportFailures(ctx.ui, services);
  }
  throw new BclError(error.code, error.message, error.exitCode as ExitCode, {...(error.hint ? {hint: error.hint} : {}), ...(error.details !== undefined ? {details: error.details} : {})});
}

/** The spec texts a deploy or diff sends, with the tag each deploys (the commit by default, as in direct mode). */
async function specPayload(ctx: CommandContext, args: readonly string[], options: {imageTag?: string | undefined; allowDirty: boolean}) {
  const {assertImageTag} = await import('@bcl/deploy-core/render');
  const {deployCommits} = await import('@bcl/deploy-core/spec');
  if (options.imageTag !== undefined) assertImageTag(options.imageTag);
  const specs = loadSpecs(ctx.cwd, args);
  const commits = await deployCommits(specs, options);
  return specs.map((s, i) => {
    const {imageTag, gitSha} = commits[i]!;
    return {spec: readFileSync(s.path, 'utf8'), file: s.path, imageTag, ...(gitSha ? {gitSha} : {}), name: s.spec.name, image: `${s.spec.image}:${imageTag}`};
  });
}

export async function remoteDeploy(ctx: CommandContext, input: {args: readonly string[]; environment: string; imageTag?: string | undefined; allowDirty: boolean; timeoutMs: number; rollback: boolean; breakGlass?: string | undefined} & RemoteFlags): Promise<DeployResult> {
  const services = await specPayload(ctx, input.args, {imageTag: input.imageTag, allowDirty: input.allowDirty});
  const client = await openClient(ctx, input);
  try {
    if (input.breakGlass !== undefined) await client.require('break-glass', '--break-glass');
    ctx.ui.step(`Deploying ${services.length === 1 ? `${services[0]!.name} (${services[0]!.image})` : `${services.length} services`} to ${input.environment}`);
    const op = await client.request<OperationView>('POST', '/v1/deploys', {
      id: randomUUID(),
      environment: input.environment,
      services: services.map(({name: _n, image: _i, ...s}) => s),
      timeoutMs: input.timeoutMs,
      rollback: input.rollback,
      ...(input.breakGlass !== undefined ? {breakGlassReason: input.breakGlass} : {}),
    });
    const result = await finishOperation<DeployResult>(ctx, client, op, input);
    // Marks each deploy on the service's dashboards when svctl.grafana is set, as in direct mode.
    const {annotateDeploy} = await import('../observability/annotate.js');
    for (const s of result.services.filter((x) => x.outcome === 'succeeded')) await annotateDeploy(ctx, {service: s.service, environment: input.environment, image: s.image, revision: s.revision});
    return result;
  } finally {
    await client.close();
  }
}

export async function remoteRollback(ctx: CommandContext, input: {args: readonly string[]; environment: string; to?: number | undefined; timeoutMs: number; breakGlass?: string | undefined} & RemoteFlags): Promise<RollbackResult> {
  const names = loadSpecs(ctx.cwd, input.args).map((s) => s.spec.name);
  const client = await openClient(ctx, input);
  try {
    if (input.breakGlass !== undefined) await client.require('break-glass', '--break-glass');
    ctx.ui.step(`Rolling back ${names.join(', ')} in ${input.environment}`);
    const op = await client.request<OperationView>('POST', '/v1/rollbacks', {
      id: randomUUID(),
      environment: input.environment,
      services: names.map((name) => ({name})),
      ...(input.to !== undefined ? {to: input.to} : {}),
      timeoutMs: input.timeoutMs,
      ...(input.breakGlass !== undefined ? {breakGlassReason: input.breakGlass} : {}),
    });
    return await finishOperation<RollbackResult>(ctx, client, op, input);
  } finally {
    await client.close();
  }
}

export async function remoteStatus(ctx: CommandContext, input: {args: readonly string[]; environment: string} & RemoteFlags): Promise<{environment: string; services: ServiceStatus[]}> {
  const names = loadSpecs(ctx.cwd, input.args).map((s) => s.spec.name);
  const client = await openClient(ctx, input);
  try {
    const q = `environment=${encodeURIComponent(input.environment)}`;
    const services = await Promise.all(names.map((n) => client.request<ServiceStatus & {warnings?: unknown}>('GET', `/v1/services/${n}/status?${q}`).then(({warnings: _w, ...s}) => s as ServiceStatus)));
    return {environment: input.environment, services};
  } finally {
    await client.close();
  }
}

export async function remoteHistory(ctx: CommandContext, input: {args: readonly string[]; environment: string; limit?: number | undefined} & RemoteFlags): Promise<{environment: string; services: {service: string; namespace: string; revisions: RevisionRecord[]}[]}> {
  const names = loadSpecs(ctx.cwd, input.args).map((s) => s.spec.name);
  const client = await openClient(ctx, input);
  try {
    const services = [];
    for (const n of names) {
      const h = await client.request<{service: string; namespace: string; revisions: RevisionRecord[]}>('GET', `/v1/services/${n}/history?environment=${encodeURIComponent(input.environment)}`);
      const revisions = [...h.revisions].reverse();
      services.push({service: h.service, namespace: h.namespace, revisions: input.limit ? revisions.slice(0, input.limit) : revisions});
    }
    return {environment: input.environment, services};
  } finally {
    await client.close();
  }
}

export async function remoteDiff(ctx: CommandContext, input: {args: readonly string[]; environment: string; imageTag?: string | undefined} & RemoteFlags): Promise<{environment: string; changed: boolean; services: ServiceDiff[]}> {
  const services = await specPayload(ctx, input.args, {imageTag: input.imageTag, allowDirty: true});
  const client = await openClient(ctx, input);
  try {
    const {warnings: _w, ...result} = await client.request<{environment: string; changed: boolean; services: ServiceDiff[]; warnings?: unknown}>('POST', '/v1/diffs', {environment: input.environment, services: services.map(({name: _n, image: _i, ...s}) => s)});
    return result;
  } finally {
    await client.close();
  }
}
