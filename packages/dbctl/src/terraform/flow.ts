import {createHash} from 'node:crypto';
import {accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {delimiter, isAbsolute, join} from 'node:path';
import {type CommandContext, conflict, invalidInput, parseDuration, usageError} from '@bcl/core';
import type {DbctlSettings} from '../config.js';
import {resolveTarget} from '../admin/target.js';
import {loadSpec, type LoadedSpec} from '../spec/load.js';
import {resolveBackend, type StateLocation} from './backend.js';
import {generateConfig, instanceName} from './generate.js';
import {acquireLock, FileLockStore, type LockStore, PgLockStore} from './lock.js';
import {type PlanSummary, renderPlan, type ShowPlan, summarizePlan} from './summary.js';
import {Terraform} from './terraform.js';

export interface PlanResult extends PlanSummary {
  spec: string;
  env: string | null;
  /** The instance (and work directory) name: <name> or <name>-<env>. */
  instance: string;
  provider: 'gcp' | 'aws' | 'local';
  workDir: string;
  planFile: string;
  binary: string;
  /** Where the state lives: "pg: postgres://host:5432/db, schema dbctl_shop", "local: /path". */
  state: string;
}

export interface ProvisionResult extends PlanResult {
  applied: boolean;
}

/** terraform or tofu: dbctl.terraform.binary, else the first of them on PATH. */
export function findTerraform(settings: DbctlSettings, env: Record<string, string | undefined>): string {
  const configured = settings.terraform.binary;
  const names = configured ? [configured] : ['terraform', 'tofu'];
  for (const name of names) {
    if (isAbsolute(name)) {
      if (isExecutable(name)) return name;
      continue;
    }
    for (const dir of (env.PATH ?? '').split(delimiter)) {
      const candidate = join(dir, name);
      if (dir && isExecutable(candidate)) return candidate;
    }
  }
  throw conflict('dbctl.terraform_missing', configured ? `dbctl.terraform.binary: ${configured} is not an executable on PATH` : 'neither terraform nor tofu is on PATH', {
    hint: 'Install Terraform (>= 1.5) or OpenTofu, or set dbctl.terraform.binary to its path.',
  });
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface FlowInput {
  ctx: CommandContext;
  settings: DbctlSettings;
  specFile: string;
  env: string | undefined;
  /** --lock-timeout; default dbctl.terraform.lockTimeout. */
  lockTimeout?: string | undefined;
}

/** An instance: its spec, work directory and state location (nothing written yet). */
export interface Located {
  loaded: LoadedSpec;
  instance: string;
  workDir: string;
  state: StateLocation;
}

/** Everything a plan needs: the located instance, its configuration written and initialised, and a terraform driver. */
export interface Prepared extends Located {
  tf: Terraform;
  binary: string;
}

export function workRoot(input: {ctx: CommandContext; settings: DbctlSettings}): string {
  return input.settings.terraform.workDir ?? join(input.ctx.paths.state, 'dbctl', 'work');
}

/** Resolves the spec, the instance and where its state lives; reads secrets, writes nothing. */
export function locate(input: FlowInput, settings: DbctlSettings = input.settings): Located {
  const loaded = loadSpec(input.specFile, input.env, input.ctx.validations);
  const instance = instanceName(loaded.spec, loaded.env);
  const workDir = join(workRoot(input), instance);
  return {loaded, instance, workDir, state: stateOf(input.ctx, settings, instance, workDir)};
}

export function stateOf(ctx: CommandContext, settings: DbctlSettings, instance: string, workDir: string): StateLocation {
  return resolveBackend({settings, instance, workDir, env: ctx.env, redactor: ctx.redactor, originOf: (key) => ctx.config.entry(key)?.origin});
}

export function lockStoreOf(state: StateLocation): LockStore {
  return state.pg ? new PgLockStore(state.pg.connStr, state.pg.schema) : new FileLockStore(state.lockFile!);
}

export function lockTimeoutOf(input: {settings: DbctlSettings; lockTimeout?: string | undefined}): {text: string; ms: number} {
  const text = input.lockTimeout ?? input.settings.terraform.lockTimeout;
  const ms = /^\d+[smh]$/.test(text) ? parseDuration(text) : undefined;
  if (ms === undefined) throw invalidInput('dbctl.invalid_flag', `--lock-timeout: expected a duration such as 0s, 30s or 5m, got "${text}"`, {details: {flag: '--lock-timeout'}});
  return {text, ms};
}

/**
 * Runs `body` holding dbctl's lock on the instance (see lock.ts): a second run waits up to the lock
 * timeout, then exits 6 naming the holder; a lock left by a killed run is exit 6 with the unlock
 * command. The lock is released when `body` ends, however it ends.
 */
export async function withInstanceLock<R>(input: FlowInput, operation: string, body: (located: Located) => Promise<R>, located: Located = locate(input)): Promise<R> {
  const timeout = lockTimeoutOf(input);
  const store = lockStoreOf(located.state);
  try {
    const held = await acquireLock(store, {
      instance: located.instance,
      operation,
      info: `${located.instance} (${located.loaded.file})`,
      version: input.ctx.version,
      timeoutMs: timeout.ms,
      timeoutLabel: '--lock-timeout (default dbctl.terraform.lockTimeout)',
      signal: input.ctx.signal,
    });
    try {
      return await body(located);
    } finally {
      await held.release().catch(() => undefined);
    }
  } finally {
    await store.close();
  }
}

/** The backend type the work directory was last initialised with (terraform's own record), if any. */
export function initialisedBackend(workDir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(workDir, '.terraform', 'terraform.tfstate'), 'utf8')) as {backend?: {type?: string}}).backend?.type;
  } catch {
    return undefined;
  }
}

/** Writes main.tf.json (when it changed) and runs terraform init (when providers or backend changed). */
export async function prepareWorkDir(input: FlowInput, located: Located, options: {migrateState?: boolean} = {}): Promise<Prepared> {
  const {ctx, settings} = input;
  const {loaded, instance, workDir, state} = located;
  const spec = loaded.spec;
  mkdirSync(workDir, {recursive: true, mode: 0o700});
  const childEnv: Record<string, string | undefined> = {...state.env};
  let server;
  if (spec.provider === 'local') {
    const target = await resolveTarget({settings, connection: spec.connection, env: ctx.env, redactor: ctx.redactor, secrets: async () => (await import('../secrets/kubernetes.js')).kubernetesSecrets()});
    if (target.engine !== spec.engine) {
      throw usageError(`${loaded.file}: connection "${spec.connection}" is a ${target.engine} server but the spec's engine is ${spec.engine}`);
    }
    server = {host: target.host, port: target.port, user: target.user, database: target.database, tls: target.tls};
    // Provider credentials travel by environment, as both providers read them (never in a file or argument).
    if (target.password) childEnv[spec.engine === 'postgres' ? 'PGPASSWORD' : 'MYSQL_PASSWORD'] = target.password;
  }
  const previous = initialisedBackend(workDir);
  if (!options.migrateState && previous && previous !== state.type) {
    throw conflict('dbctl.backend_changed', `the state of ${instance} is in the ${previous} backend (the work directory was last initialised with it), but dbctl.backend is now ${state.type}`, {
      hint: `Move the state first: dbctl state migrate -f ${loaded.file}${loaded.env ? ` --env ${loaded.env}` : ''} --to ${state.type}`,
      details: {from: previous, to: state.type, workDir},
    });
  }
  const config = generateConfig(spec, {env: loaded.env, backend: state.block, server});
  const text = `${JSON.stringify(config, null, 2)}\n`;
  const mainFile = join(workDir, 'main.tf.json');
  if (!existsSync(mainFile) || readFileSync(mainFile, 'utf8') !== text) writeFileSync(mainFile, text, {mode: 0o600});
  const binary = findTerraform(settings, ctx.env);
  const tf = new Terraform({
    runner: ctx.runner,
    binary,
    cwd: workDir,
    env: childEnv,
    lockTimeout: lockTimeoutOf(input).text,
    timeoutMs: parseDuration(settings.terraform.timeout) ?? 3_600_000,
    signal: ctx.signal,
    redact: (t) => ctx.redactor.redact(t),
    instance,
    lockInfoNamesHolder: state.type !== 'pg',
  });
  // init only when providers or backend changed since the last one (it is the slowest step).
  const initKey = createHash('sha256').update(JSON.stringify([config.terraform as object, binary])).digest('hex');
  const initFile = join(workDir, '.dbctl-init');
  if (options.migrateState || !existsSync(join(workDir, '.terraform')) || !existsSync(initFile) || readFileSync(initFile, 'utf8') !== initKey) {
    ctx.ui.step(`${options.migrateState ? 'terraform init -migrate-state' : 'terraform init'} (${workDir})`);
    await tf.init({migrateState: options.migrateState});
    writeFileSync(initFile, initKey);
  }
  return {...located, tf, binary};
}

export type PlanRun = PlanResult & {tf: Terraform; loaded: LoadedSpec; priorState: ShowPlan['prior_state']};

/**
 * terraform plan -out, and the summary of that saved plan. The plan is read back with `show
 * -json` only when terraform's machine-readable output says something changes (Terraform.
 * nothingToShow): otherwise there is nothing more to learn from it. A destroy plan is always read,
 * for the deletion protection of what it would delete.
 */
export async function planIn(input: FlowInput, prepared: Prepared, options: {destroy?: boolean} = {}): Promise<PlanRun> {
  const {loaded, tf, workDir, instance, binary, state} = prepared;
  const planFile = join(workDir, options.destroy ? 'destroy.tfplan' : 'dbctl.tfplan');
  input.ctx.ui.step(`terraform plan${options.destroy ? ' -destroy' : ''} for ${instance}`);
  const outcome = await tf.plan(planFile, {destroy: options.destroy, onMessage: (m) => input.ctx.ui.debug(m)});
  for (const d of outcome.diagnostics.filter((x) => x.severity === 'warning')) input.ctx.ui.warn(`terraform: ${d.summary}`);
  const shown = !options.destroy && Terraform.nothingToShow(outcome) ? ({} as ShowPlan) : ((await tf.show(planFile)) as ShowPlan);
  const summary = summarizePlan(shown);
  return {
    ...summary,
    spec: loaded.file,
    env: loaded.env ?? null,
    instance,
    provider: loaded.spec.provider,
    workDir,
    planFile,
    binary,
    state: state.describe,
    tf,
    loaded,
    priorState: shown.prior_state,
  };
}

/** The plan's public part (what --json carries). */
export function publicPlan<T extends PlanResult>(result: T & {tf?: unknown; loaded?: unknown; priorState?: unknown}): PlanResult {
  const {tf: _tf, loaded: _loaded, priorState: _prior, ...rest} = result;
  return rest;
}

export function planText(result: PlanResult): string {
  return renderPlan(result, `Plan for ${result.instance} (${result.provider}${result.env ? `, env ${result.env}` : ''})`);
}

/** Applies the saved plan, telling progress per resource. */
export async function apply(ctx: CommandContext, tf: Terraform, result: PlanResult): Promise<void> {
  ctx.ui.step(`terraform apply ${result.planFile}`);
  const board = ctx.ui.progress();
  const tasks = new Map<string, ReturnType<typeof board.task>>();
  try {
    await tf.apply(result.planFile, (event) => {
      let task = tasks.get(event.address);
      if (!task) {
        task = board.task(event.address, `${event.action}…`);
        tasks.set(event.address, task);
      }
      if (event.type === 'progress') task.update(`${event.action}… ${event.elapsedSeconds ?? 0}s`);
      if (event.type === 'complete') task.done(true, `${event.action} done${event.elapsedSeconds ? ` in ${event.elapsedSeconds}s` : ''}`);
      if (event.type === 'errored') task.done(false, `${event.action} failed`);
    });
  } finally {
    board.stop();
  }
}
