import {closeSync, openSync, readSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
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
  /** Passes text read from terraform's log file through the run's redactor. */
  redact?: (text: string) => string;
  /** The instance, for the unlock command in lock messages. */
  instance?: string;
  /** False for the pg backend, whose lock errors describe the asker instead of the holder. */
  lockInfoNamesHolder?: boolean;
}

export interface PlanOutcome {
  diagnostics: Diagnostic[];
  /** From the change_summary message of `plan -json`. */
  changeSummary: {add: number; change: number; remove: number; import?: number; operation?: string} | undefined;
  plannedChanges: number;
  drifted: number;
  /** Drifted resources whose drift is not an in-place update (deleted outside Terraform...). */
  driftBeyondUpdates: number;
  /** Root module outputs the plan changes. */
  outputChanges: number;
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

  /** terraform init; with migrateState, copies the state from the backend of the last init to the configured one. */
  async init(options: {migrateState?: boolean | undefined} = {}): Promise<void> {
    const res = await this.run(['init', '-input=false', '-no-color', `-lock-timeout=${this.o.lockTimeout}`, ...(options.migrateState ? ['-migrate-state', '-force-copy'] : [])]);
    if (res.exitCode !== 0) {
      this.throwIfLocked(res.stderr);
      throw operationFailed('dbctl.terraform_init_failed', `terraform init failed in ${this.o.cwd}:\n${tail(res.stderr || res.stdout, 15)}`, {
        hint: 'Check the providers can be installed (registry or provider_installation in your CLI configuration) and the backend settings (dbctl.backend).',
        details: {workDir: this.o.cwd, exitCode: res.exitCode},
      });
    }
  }

  /**
   * Plans into `planFile`; returns the diagnostics, and what the machine-readable output said of
   * the plan: its change summary, and how many planned changes and drifted resources it reported.
   */
  async plan(planFile: string, options: {destroy?: boolean; onMessage?: (message: string) => void} = {}): Promise<PlanOutcome> {
    const diagnostics: Diagnostic[] = [];
    let changeSummary: PlanOutcome['changeSummary'];
    let plannedChanges = 0;
    let drifted = 0;
    let driftBeyondUpdates = 0;
    let outputChanges = 0;
    const args = ['plan', '-input=false', '-json', `-lock-timeout=${this.o.lockTimeout}`, `-out=${planFile}`, ...(options.destroy ? ['-destroy'] : [])];
    const res = await this.run(args, (line) => {
      const event = parseLine(line);
      if (!event) return;
      if (event.type === 'planned_change') plannedChanges++;
      if (event.type === 'resource_drift') {
        drifted++;
        if ((event.change as {action?: string} | undefined)?.action !== 'update') driftBeyondUpdates++;
      }
      if (event.type === 'outputs') outputChanges += Object.values((event.outputs ?? {}) as Record<string, {action?: string}>).filter((o) => o.action !== undefined && o.action !== 'noop').length;
      if (event.type === 'change_summary') changeSummary = event.changes as PlanOutcome['changeSummary'];
      if (event.type === 'diagnostic' && event.diagnostic) diagnostics.push(toDiagnostic(event.diagnostic));
      else if (event['@message'] && /^(refresh_start|refresh_complete|planned_change|resource_drift|change_summary)$/.test(String(event.type))) options.onMessage?.(String(event['@message']));
    });
    if (res.exitCode !== 0) {
      const errors = diagnostics.filter((d) => d.severity === 'error');
      this.throwIfLocked(errors.map((d) => `${d.summary}\n${d.detail ?? ''}`).join('\n') || res.stderr);
      throw operationFailed('dbctl.terraform_plan_failed', `terraform plan failed: ${errors.map((d) => d.summary + (d.detail ? `: ${firstLines(d.detail)}` : '')).join('; ') || tail(res.stderr)}`, {
        details: {diagnostics: errors, workDir: this.o.cwd},
      });
    }
    return {diagnostics, changeSummary, plannedChanges, drifted, driftBeyondUpdates, outputChanges};
  }

  /**
   * Whether the saved plan needs no reading: terraform's own output said no resource and no output
   * will change, and any drift is an in-place update. Such drift is shown only for attributes
   * relevant to the plan, and terraform takes those from the references of changing resources and
   * outputs alone: with none, there are none, and the summary is "no changes" either way. Only then
   * is `show -json` (a second terraform process loading every provider's schema) skipped.
   */
  static nothingToShow(outcome: PlanOutcome): boolean {
    const c = outcome.changeSummary;
    return c !== undefined && c.add === 0 && c.change === 0 && c.remove === 0 && (c.import ?? 0) === 0 && outcome.plannedChanges === 0 && outcome.driftBeyondUpdates === 0 && outcome.outputChanges === 0;
  }

  /** `show -json` of a saved plan, or of the state when no plan file is given. */
  async show(planFile?: string): Promise<unknown> {
    const res = await this.run(['show', '-json', '-no-color', ...(planFile ? [planFile] : [])]);
    if (res.exitCode !== 0) throw operationFailed('dbctl.terraform_show_failed', `terraform show failed: ${tail(res.stderr)}`);
    return JSON.parse(res.stdout);
  }

  /**
   * Applies exactly the saved plan; events stream from terraform's -json output. terraform writes
   * that output to <work dir>/apply.log rather than to a pipe: if dbctl is killed, terraform is not
   * killed by a broken pipe between creating an object and recording it in the state, but finishes
   * the apply and saves the state (the next run then finds dbctl's lock, see lock.ts).
   */
  async apply(planFile: string, onEvent: (event: ApplyEvent) => void): Promise<{diagnostics: Diagnostic[]}> {
    const diagnostics: Diagnostic[] = [];
    const onLine = (line: string) => {
      const event = parseLine(line);
      if (!event) return;
      const hook = event.hook as {resource?: {addr?: string}; action?: string; elapsed_seconds?: number} | undefined;
      const map: Record<string, ApplyEvent['type']> = {apply_start: 'start', apply_progress: 'progress', apply_complete: 'complete', apply_errored: 'errored'};
      const kind = map[String(event.type)];
      if (kind && hook?.resource?.addr) onEvent({type: kind, address: hook.resource.addr, action: hook.action ?? '', ...(hook.elapsed_seconds !== undefined ? {elapsedSeconds: hook.elapsed_seconds} : {})});
      if (event.type === 'diagnostic' && event.diagnostic) diagnostics.push(toDiagnostic(event.diagnostic));
    };
    const log = join(this.o.cwd, 'apply.log');
    writeFileSync(log, '', {mode: 0o600});
    const follower = followFile(log, (line) => onLine(this.o.redact ? this.o.redact(line) : line));
    const args = ['apply', '-input=false', '-json', `-lock-timeout=${this.o.lockTimeout}`, '-auto-approve', planFile];
    let res: RunResult;
    try {
      res = await this.o.runner.run('/bin/sh', ['-c', 'exec "$0" "$@" >>"$DBCTL_APPLY_LOG" 2>&1', this.o.binary, ...args], {
        cwd: this.o.cwd,
        env: {...this.o.env, TF_IN_AUTOMATION: '1', TF_INPUT: '0', CHECKPOINT_DISABLE: '1', DBCTL_APPLY_LOG: log},
        timeoutMs: this.o.timeoutMs,
        reject: false,
        ...(this.o.signal ? {signal: this.o.signal} : {}),
      });
    } finally {
      follower.stop();
    }
    if (res.exitCode !== 0) {
      const errors = diagnostics.filter((d) => d.severity === 'error');
      this.throwIfLocked(errors.map((d) => `${d.summary}\n${d.detail ?? ''}`).join('\n') || follower.text());
      if (errors.some((d) => /Saved plan is stale/i.test(d.summary))) {
        throw conflict('dbctl.plan_stale', 'the saved plan is stale: the state changed since it was made', {hint: 'Run dbctl plan (or dbctl provision) again.'});
      }
      throw operationFailed('dbctl.apply_failed', `terraform apply failed: ${errors.map((d) => `${d.address ? `${d.address}: ` : ''}${d.summary}${d.detail ? `: ${firstLines(d.detail)}` : ''}`).join('; ') || tail(follower.text())}`, {
        hint: `The resources that completed are recorded in the state; fix the cause and run dbctl provision again (terraform's output: ${log}).`,
        details: {diagnostics: errors},
      });
    }
    return {diagnostics};
  }

  /** Terraform's "Error acquiring the state lock", as exit 6 naming the holder where the backend knows it. */
  throwIfLocked(text: string): void {
    const lock = parseLock(text);
    if (!lock) return;
    if (this.o.lockInfoNamesHolder === false) {
      throw conflict('dbctl.state_locked', 'the Terraform state is locked by a terraform that no dbctl run holds the lock for: one run by hand, or one still finishing the apply of a dbctl run that was killed (the pg backend does not record who holds its lock)', {
        hint: 'Wait for that terraform to finish; a lock of the pg backend ends with the session that took it.',
        details: {lock},
      });
    }
    const unlock = `dbctl unlock ${this.o.instance ?? '<instance>'} --lock-id ${lock.id ?? '<lock id>'}`;
    throw conflict('dbctl.state_locked', `the Terraform state is locked by ${lock.who ?? 'someone else'}${lock.operation ? ` (${lock.operation.replace(/^OperationType/, '').toLowerCase()}` : ''}${lock.created ? `${lock.operation ? ', ' : ' ('}since ${lock.created})` : lock.operation ? ')' : ''}`, {
      hint: `Wait for that run to finish (--lock-timeout waits longer). If it died, release the lock with: ${unlock}`,
      details: {lock, unlock},
    });
  }

  /** Releases a lock of Terraform's own (gcs, s3), as `terraform force-unlock` does. */
  async forceUnlock(id: string): Promise<void> {
    const res = await this.run(['force-unlock', '-force', '-no-color', id]);
    if (res.exitCode !== 0) throw conflict('dbctl.unlock_failed', `terraform force-unlock ${id} failed: ${tail(res.stderr || res.stdout)}`);
  }
}

/** Reads a file as it grows (every 100 ms), calling back line by line; stop() reads the rest. */
function followFile(file: string, onLine: (line: string) => void): {stop(): void; text(): string} {
  let offset = 0;
  let partial = '';
  let all = '';
  const buffer = Buffer.alloc(64 * 1024);
  const drain = () => {
    const fd = openSync(file, 'r');
    try {
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, offset);
        if (n <= 0) break;
        offset += n;
        const chunk = partial + buffer.subarray(0, n).toString('utf8');
        const lines = chunk.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          all += `${line}\n`;
          onLine(line);
        }
      }
    } finally {
      closeSync(fd);
    }
  };
  const timer = setInterval(drain, 100);
  return {
    stop() {
      clearInterval(timer);
      drain();
      if (partial) {
        all += partial;
        onLine(partial);
        partial = '';
      }
    },
    text: () => all,
  };
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
