import {conflict, operationFailed, type ProcessRunner, type RunResult, tail} from '@bcl/core';

/** A diagnostic from terraform's -json output. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  summary: string;
  detail?: string;
  address?: string;
}

export interface LockHolder {
  id?: string;
  who?: string;
  operation?: string;
  created?: string;
  path?: string;
}

export interface TerraformOptions {
  runner: ProcessRunner;
  binary: string;
  cwd: string;
  /** Provider credentials (PGPASSWORD...) and settings: secrets travel here, never in args. */
  env: Record<string, string | undefined>;
  lockTimeout: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface ApplyEvent {
  type: 'start' | 'progress' | 'complete' | 'errored';
  address: string;
  action: string;
  elapsedSeconds?: number;
}

/** Drives the terraform (or tofu) CLI: init, plan to a file, show -json, apply of exactly that file. */
export class Terraform {
  constructor(private readonly o: TerraformOptions) {}

  private run(args: string[], onLine?: (line: string) => void): Promise<RunResult> {
    return this.o.runner.run(this.o.binary, args, {
      cwd: this.o.cwd,
      env: {...this.o.env, TF_IN_AUTOMATION: '1', TF_INPUT: '0', CHECKPOINT_DISABLE: '1'},
      timeoutMs: this.o.timeoutMs,
      reject: false,
      ...(this.o.signal ? {signal: this.o.signal} : {}),
      ...(onLine ? {onLine: (line: string, stream: 'stdout' | 'stderr') => stream === 'stdout' && onLine(line)} : {}),
    });
  }

  async version(): Promise<string> {
    const res = await this.run(['version', '-json']);
    try {
      return (JSON.parse(res.stdout) as {terraform_version: string}).terraform_version;
    } catch {
      return res.stdout.match(/v(\d+\.\d+\.\d+)/)?.[1] ?? 'unknown';
    }
  }

  async init(): Promise<void> {
    const res = await this.run(['init', '-input=false', '-no-color', `-lock-timeout=${this.o.lockTimeout}`]);
    if (res.exitCode !== 0) {
      throwIfLocked(res.stderr);
      throw operationFailed('dbctl.terraform_init_failed', `terraform init failed in ${this.o.cwd}:\n${tail(res.stderr || res.stdout, 15)}`, {
        hint: 'Check the providers can be installed (registry or provider_installation in your CLI configuration) and the backend settings (dbctl.backend).',
        details: {workDir: this.o.cwd, exitCode: res.exitCode},
      });
    }
  }

  /** Plans into `planFile`; returns whether there are changes and the diagnostics. */
  async plan(planFile: string, options: {destroy?: boolean; onMessage?: (message: string) => void} = {}): Promise<{diagnostics: Diagnostic[]}> {
    const diagnostics: Diagnostic[] = [];
    const args = ['plan', '-input=false', '-json', `-lock-timeout=${this.o.lockTimeout}`, `-out=${planFile}`, ...(options.destroy ? ['-destroy'] : [])];
    const res = await this.run(args, (line) => {
      const event = parseLine(line);
      if (!event) return;
      if (event.type === 'diagnostic' && event.diagnostic) diagnostics.push(toDiagnostic(event.diagnostic));
      else if (event['@message'] && /^(refresh_start|refresh_complete|planned_change|resource_drift|change_summary)$/.test(String(event.type))) options.onMessage?.(String(event['@message']));
    });
    if (res.exitCode !== 0) {
      const errors = diagnostics.filter((d) => d.severity === 'error');
      throwIfLocked(errors.map((d) => `${d.summary}\n${d.detail ?? ''}`).join('\n') || res.stderr);
      throw operationFailed('dbctl.terraform_plan_failed', `terraform plan failed: ${errors.map((d) => d.summary + (d.detail ? `: ${firstLines(d.detail)}` : '')).join('; ') || tail(res.stderr)}`, {
        details: {diagnostics: errors, workDir: this.o.cwd},
      });
    }
    return {diagnostics};
  }

  async show(planFile: string): Promise<unknown> {
    const res = await this.run(['show', '-json', '-no-color', planFile]);
    if (res.exitCode !== 0) throw operationFailed('dbctl.terraform_show_failed', `terraform show failed: ${tail(res.stderr)}`);
    return JSON.parse(res.stdout);
  }

  /** Applies exactly the saved plan; events stream from terraform's -json output. */
  async apply(planFile: string, onEvent: (event: ApplyEvent) => void): Promise<{diagnostics: Diagnostic[]}> {
    const diagnostics: Diagnostic[] = [];
    const res = await this.run(['apply', '-input=false', '-json', `-lock-timeout=${this.o.lockTimeout}`, '-auto-approve', planFile], (line) => {
      const event = parseLine(line);
      if (!event) return;
      const hook = event.hook as {resource?: {addr?: string}; action?: string; elapsed_seconds?: number} | undefined;
      const map: Record<string, ApplyEvent['type']> = {apply_start: 'start', apply_progress: 'progress', apply_complete: 'complete', apply_errored: 'errored'};
      const kind = map[String(event.type)];
      if (kind && hook?.resource?.addr) onEvent({type: kind, address: hook.resource.addr, action: hook.action ?? '', ...(hook.elapsed_seconds !== undefined ? {elapsedSeconds: hook.elapsed_seconds} : {})});
      if (event.type === 'diagnostic' && event.diagnostic) diagnostics.push(toDiagnostic(event.diagnostic));
    });
    if (res.exitCode !== 0) {
      const errors = diagnostics.filter((d) => d.severity === 'error');
      throwIfLocked(errors.map((d) => `${d.summary}\n${d.detail ?? ''}`).join('\n') || res.stderr);
      if (errors.some((d) => /Saved plan is stale/i.test(d.summary))) {
        throw conflict('dbctl.plan_stale', 'the saved plan is stale: the state changed since it was made', {hint: 'Run dbctl plan (or dbctl provision) again.'});
      }
      throw operationFailed('dbctl.apply_failed', `terraform apply failed: ${errors.map((d) => `${d.address ? `${d.address}: ` : ''}${d.summary}${d.detail ? `: ${firstLines(d.detail)}` : ''}`).join('; ') || tail(res.stderr)}`, {
        hint: 'The resources that completed are recorded in the state; fix the cause and run dbctl provision again.',
        details: {diagnostics: errors},
      });
    }
    return {diagnostics};
  }
}

function parseLine(line: string): Record<string, unknown> & {type?: string; diagnostic?: Record<string, unknown>} | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function toDiagnostic(d: Record<string, unknown>): Diagnostic {
  return {
    severity: d.severity === 'warning' ? 'warning' : 'error',
    summary: String(d.summary ?? ''),
    ...(d.detail ? {detail: String(d.detail)} : {}),
    ...(d.address ? {address: String(d.address)} : {}),
  };
}

function firstLines(text: string, n = 3): string {
  return text.trim().split('\n').slice(0, n).join(' ');
}

/** Terraform's "Error acquiring the state lock" with its Lock Info block. */
export function parseLock(text: string): LockHolder | undefined {
  if (!/Error acquiring the state lock|state lock/i.test(text) || !/Lock Info/i.test(text)) return undefined;
  const field = (name: string) => text.match(new RegExp(`^\\s*${name}:\\s*(.*)$`, 'm'))?.[1]?.trim() || undefined;
  return {id: field('ID'), who: field('Who'), operation: field('Operation'), created: field('Created'), path: field('Path')};
}

function throwIfLocked(text: string): void {
  const lock = parseLock(text);
  if (!lock) return;
  throw conflict('dbctl.state_locked', `the Terraform state is locked by ${lock.who ?? 'someone else'}${lock.operation ? ` (${lock.operation.replace(/^OperationType/, '').toLowerCase()}` : ''}${lock.created ? `${lock.operation ? ', ' : ' ('}since ${lock.created})` : lock.operation ? ')' : ''}`, {
    hint: `Wait for that run to finish (dbctl.terraform.lockTimeout waits longer). If it died, release the lock with: terraform force-unlock ${lock.id ?? '<lock id>'}`,
    details: {lock},
  });
}
