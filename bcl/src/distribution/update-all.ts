import {BclError, toBclError, usageError} from '../errors.js';
import type {CheckOutcome, InstallOutcome, InstallRequest} from './installer.js';
import {describeOutcome} from './render.js';

export interface BclUpdateResult {
  tools: {tool: string; ok: boolean; outcome?: InstallOutcome; check?: CheckOutcome; error?: {code: string; message: string}}[];
}

/** What `bcl update` was asked (its flags and arguments, parsed). */
export interface UpdateAllRequest {
  /** Tools named on the command line (default: every installed tool). */
  named: readonly string[];
  check: boolean;
  rollback: boolean;
  allowDowngrade: boolean;
  /** The daily background check of bcl itself. */
  background: boolean;
}

/** Everything the loop touches, passed in: the installed tools, the installer, the messages. */
export interface UpdateAllIo {
  /** Where tools are installed, for messages. */
  toolsDir: string;
  installed(): string[];
  /** Checks once, before the loop, what every tool needs (the store and trusted keys): throws if unusable. */
  prepare(): void;
  /** The channel a tool follows (recorded at install), else undefined. */
  recordedChannel(tool: string): string | undefined;
  /** bcl.update.channel */
  defaultChannel: string;
  currentVersion(tool: string): string | null;
  check(tool: string, channel: string, current: string | null): Promise<CheckOutcome>;
  install(request: InstallRequest): Promise<InstallOutcome>;
  rollback(tool: string): Promise<InstallOutcome>;
  ui: {info(message: string): void; success(message: string): void; warn(message: string): void};
}

/**
 * `bcl update`: every installed tool (or the ones named) from its channel, one after another.
 * One tool failing does not stop the others; the failure is that tool's own error when only one
 * was updated, else `update.some_failed` with the exit code of the first failure.
 */
export async function updateAll(request: UpdateAllRequest, io: UpdateAllIo): Promise<BclUpdateResult> {
  const named = request.background ? ['bcl'] : [...request.named];
  const installed = io.installed();
  const tools = named.length > 0 ? named : installed;
  if (request.rollback) {
    if (named.length !== 1) throw usageError('--rollback needs exactly one tool name', {hint: 'e.g. bcl update --rollback svctl'});
    const outcome = await io.rollback(named[0]!);
    return {tools: [{tool: named[0]!, ok: true, outcome}]};
  }
  if (tools.length === 0) {
    io.ui.info(`no tool is installed in ${io.toolsDir}; install one with: bcl install <tool>`);
    return {tools: []};
  }
  io.prepare();
  const results: BclUpdateResult['tools'] = [];
  let firstFailure: BclError | undefined;
  for (const tool of tools) {
    const channel = io.recordedChannel(tool) ?? io.defaultChannel;
    try {
      if (!installed.includes(tool)) throw usageError(`${tool} is not installed in ${io.toolsDir}`, {hint: `Install it with: bcl install ${tool}`});
      if (request.check || request.background) {
        results.push({tool, ok: true, check: await io.check(tool, channel, io.currentVersion(tool))});
      } else {
        const outcome = await io.install({tool, channel, channelExplicit: false, force: false, allowDowngrade: request.allowDowngrade});
        io.ui.success(describeOutcome(outcome));
        results.push({tool, ok: true, outcome});
      }
    } catch (error) {
      const e = toBclError(error);
      // Ctrl-C stops the loop: the remaining tools are not started.
      if (e.code === 'interrupted') throw e;
      firstFailure ??= e;
      io.ui.warn(`${tool}: ${e.message}`);
      results.push({tool, ok: false, error: {code: e.code, message: e.message}});
    }
  }
  if (firstFailure) {
    if (results.length === 1) throw firstFailure;
    const failed = results.filter((r) => !r.ok).map((r) => r.tool);
    throw new BclError('update.some_failed', `${failed.length} of ${results.length} tools could not be updated: ${failed.join(', ')}`, firstFailure.exitCode, {
      ...(firstFailure.hint ? {hint: firstFailure.hint} : {}),
      details: {tools: results},
    });
  }
  return {tools: results};
}
