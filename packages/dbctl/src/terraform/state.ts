import {existsSync, readFileSync, renameSync} from 'node:fs';
import {dirname, isAbsolute, join} from 'node:path';
import {conflict, invalidInput, operationFailed} from '@bcl/core';
import type {AuditSink} from '../audit/record.js';
import {audited} from '../audit/record.js';
import {type FlowInput, initialisedBackend, locate, prepareWorkDir, withInstanceLock} from './flow.js';
import {acquireLock, FileLockStore} from './lock.js';
import {objectName} from './summary.js';
import type {Terraform} from './terraform.js';

export interface StateResource {
  address: string;
  type: string;
  /** As a person names it: "role app", "database shop". */
  object: string;
  /** `state show` only: the attributes, sensitive ones as "(sensitive)". */
  values?: Record<string, unknown>;
}

export interface StateListResult {
  instance: string;
  /** Where the state lives. */
  state: string;
  resources: StateResource[];
}

interface ShownState {
  values?: {root_module?: {resources?: {address: string; mode: string; type: string; name: string; values?: Record<string, unknown>; sensitive_values?: unknown}[]}};
}

/** The resources in an instance's state, read with `terraform show -json` (no lock: it changes nothing). */
export async function readState(tf: Terraform): Promise<StateResource[]> {
  const shown = (await tf.show()) as ShownState;
  return (shown.values?.root_module?.resources ?? [])
    .filter((r) => r.mode === 'managed')
    .map((r) => ({address: r.address, type: r.type, object: objectName(r.type, r.values ?? {}, r.name), values: mask(r.values ?? {}, r.sensitive_values) as Record<string, unknown>}));
}

export async function stateList(input: FlowInput): Promise<StateListResult> {
  const prepared = await prepareWorkDir(input, locate(input));
  const resources = (await readState(prepared.tf)).map(({values: _v, ...r}) => r);
  return {instance: prepared.instance, state: prepared.state.describe, resources};
}

export async function stateShow(input: FlowInput, address: string): Promise<StateResource & {instance: string}> {
  const prepared = await prepareWorkDir(input, locate(input));
  const resources = await readState(prepared.tf);
  const found = resources.find((r) => r.address === address);
  if (!found) {
    throw invalidInput('dbctl.unknown_resource', `<address>: ${address} is not in the state of ${prepared.instance} (${resources.length} resources; dbctl state list shows them)`, {details: {argument: '<address>'}});
  }
  return {instance: prepared.instance, ...found};
}

/** Sensitive values (marked true in sensitive_values, at any depth) replaced by "(sensitive)". */
export function mask(value: unknown, sensitive: unknown): unknown {
  if (sensitive === true) return '(sensitive)';
  if (Array.isArray(value)) return value.map((v, i) => mask(v, Array.isArray(sensitive) ? sensitive[i] : undefined));
  if (value && typeof value === 'object') {
    const marks = sensitive && typeof sensitive === 'object' ? (sensitive as Record<string, unknown>) : {};
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v, marks[k])]));
  }
  return value;
}

export interface MigrateResult {
  instance: string;
  from: string;
  to: string;
  migrated: boolean;
  /** Resources in the state, the same before and after. */
  resources: number;
  state: string;
  /** The local state file kept aside after the copy (renamed so that nobody applies against it). */
  keptAside?: string;
}

/**
 * Moves an instance's state from the backend its work directory was last initialised with to
 * dbctl.backend (terraform init -migrate-state), holding the locks of both, and checks that every
 * resource arrived. The old local state file is renamed, not deleted.
 */
export async function migrateState(input: FlowInput, to: string, audit: AuditSink): Promise<MigrateResult> {
  const configured = input.settings.backend.type;
  if (to !== configured) {
    throw invalidInput('dbctl.invalid_flag', `--to ${to}: dbctl.backend is ${configured}; set dbctl.backend to the ${to} backend first, then run state migrate --to ${to}`, {
      hint: to === 'pg' ? 'For example: bcl config set dbctl.backend "{type: pg, connStrEnv: DBCTL_STATE_PG}"' : undefined,
      details: {flag: '--to'},
    });
  }
  const located = locate(input);
  const from = initialisedBackend(located.workDir);
  if (!from) {
    throw conflict('dbctl.nothing_to_migrate', `${located.instance} has no state to move: ${located.workDir} was never initialised (run dbctl plan where its state was made)`, {details: {workDir: located.workDir}});
  }
  if (from === 'pg' && to !== 'pg') {
    throw conflict('dbctl.migrate_unsupported', `moving ${located.instance}'s state out of the pg backend is not supported by dbctl`, {hint: 'Run terraform init -migrate-state in the work directory with PG_CONN_STR set.'});
  }
  return audited(audit, {as: 'terraform', operation: 'state.migrate', server: located.instance, target: {spec: located.loaded.file, from, to}}, () =>
    withInstanceLock(
      input,
      'state migrate',
      async () => {
        const oldState = from === 'local' ? localStateOf(located.workDir) : undefined;
        const sourceLock = oldState ? await acquireLock(new FileLockStore(join(dirname(oldState), 'dbctl.lock')), {instance: located.instance, operation: 'state migrate', info: located.loaded.file, version: input.ctx.version, timeoutMs: 0, timeoutLabel: '--lock-timeout'}) : undefined;
        try {
          const before = from === to ? undefined : await countIn(input, located.workDir);
          if (from === to) {
            const prepared = await prepareWorkDir(input, located);
            return {instance: located.instance, from, to, migrated: false, resources: (await readState(prepared.tf)).length, state: located.state.describe};
          }
          const prepared = await prepareWorkDir(input, located, {migrateState: true});
          const after = (await readState(prepared.tf)).length;
          if (after !== before) {
            throw operationFailed('dbctl.migrate_incomplete', `the ${to} backend holds ${after} resources of ${located.instance} after the copy, the ${from} backend held ${before}; the old state was left in place`, {details: {before, after}});
          }
          let keptAside: string | undefined;
          if (oldState && existsSync(oldState)) {
            keptAside = `${oldState}.migrated-to-${to}`;
            renameSync(oldState, keptAside);
          }
          return {instance: located.instance, from, to, migrated: true, resources: after, state: located.state.describe, ...(keptAside ? {keptAside} : {})};
        } finally {
          await sourceLock?.release();
        }
      },
      located,
    ),
  );
}

/** The local backend's state file the work directory was initialised with. */
function localStateOf(workDir: string): string {
  let path = 'terraform.tfstate';
  try {
    path = (JSON.parse(readFileSync(join(workDir, '.terraform', 'terraform.tfstate'), 'utf8')) as {backend?: {config?: {path?: string}}}).backend?.config?.path ?? path;
  } catch {
    // terraform's default
  }
  return isAbsolute(path) ? path : join(workDir, path);
}

/** Resources in the state of the work directory as it is initialised now (before main.tf.json changes). */
async function countIn(input: FlowInput, workDir: string): Promise<number> {
  const {Terraform} = await import('./terraform.js');
  const {findTerraform} = await import('./flow.js');
  const tf = new Terraform({runner: input.ctx.runner, binary: findTerraform(input.settings, input.ctx.env), cwd: workDir, env: {}, lockTimeout: '0s', timeoutMs: 600_000, signal: input.ctx.signal});
  return (await readState(tf)).length;
}
