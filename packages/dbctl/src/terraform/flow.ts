import {createHash} from 'node:crypto';
import {accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {delimiter, isAbsolute, join} from 'node:path';
import {type CommandContext, conflict, parseDuration, usageError} from '@bcl/core';
import type {DbctlSettings} from '../config.js';
import {resolveTarget} from '../admin/target.js';
import {loadSpec, type LoadedSpec} from '../spec/load.js';
import {generateConfig, instanceName} from './generate.js';
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
}

/** Everything a plan needs: the spec, its generated configuration in its work directory, and a terraform driver. */
export async function prepare(input: FlowInput): Promise<{loaded: LoadedSpec; tf: Terraform; workDir: string; instance: string; binary: string}> {
  const {ctx, settings} = input;
  const loaded = loadSpec(input.specFile, input.env);
  const spec = loaded.spec;
  const instance = instanceName(spec, loaded.env);
  const workRoot = settings.terraform.workDir ?? join(ctx.paths.state, 'dbctl', 'work');
  const workDir = join(workRoot, instance);
  mkdirSync(workDir, {recursive: true, mode: 0o700});
  const childEnv: Record<string, string | undefined> = {};
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
  const config = generateConfig(spec, {env: loaded.env, backend: settings.backend, localStatePath: settings.backend.type === 'local' && settings.backend.dir ? join(settings.backend.dir, instance, 'terraform.tfstate') : 'terraform.tfstate', server});
  const text = `${JSON.stringify(config, null, 2)}\n`;
  const mainFile = join(workDir, 'main.tf.json');
  if (!existsSync(mainFile) || readFileSync(mainFile, 'utf8') !== text) writeFileSync(mainFile, text, {mode: 0o600});
  const binary = findTerraform(settings, ctx.env);
  const tf = new Terraform({
    runner: ctx.runner,
    binary,
    cwd: workDir,
    env: childEnv,
    lockTimeout: settings.terraform.lockTimeout,
    timeoutMs: parseDuration(settings.terraform.timeout) ?? 3_600_000,
    signal: ctx.signal,
  });
  // init only when providers or backend changed since the last one (it is the slowest step).
  const initKey = createHash('sha256').update(JSON.stringify([(config.terraform as object), binary])).digest('hex');
  const initFile = join(workDir, '.dbctl-init');
  if (!existsSync(join(workDir, '.terraform')) || !existsSync(initFile) || readFileSync(initFile, 'utf8') !== initKey) {
    ctx.ui.step(`terraform init (${workDir})`);
    await tf.init();
    writeFileSync(initFile, initKey);
  }
  return {loaded, tf, workDir, instance, binary};
}

export async function plan(input: FlowInput, options: {destroy?: boolean} = {}): Promise<PlanResult & {tf: Terraform; loaded: LoadedSpec; priorState: ShowPlan['prior_state']}> {
  const {loaded, tf, workDir, instance, binary} = await prepare(input);
  const planFile = join(workDir, options.destroy ? 'destroy.tfplan' : 'dbctl.tfplan');
  input.ctx.ui.step(`terraform plan${options.destroy ? ' -destroy' : ''} for ${instance}`);
  const {diagnostics} = await tf.plan(planFile, {destroy: options.destroy, onMessage: (m) => input.ctx.ui.debug(m)});
  for (const d of diagnostics.filter((x) => x.severity === 'warning')) input.ctx.ui.warn(`terraform: ${d.summary}`);
  const shown = (await tf.show(planFile)) as ShowPlan;
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
