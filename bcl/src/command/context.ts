import type {ResolvedConfig} from '../config/resolve.js';
import {HttpClient, type TlsOptions} from '../http/client.js';
import type {Ui} from '../output/ui.js';
import type {BclPaths, Env} from '../paths.js';
import type {Redactor} from '../process/redactor.js';
import {ProcessRunner} from '../process/runner.js';
import type {Prompter} from './prompt.js';
import type {ValidationMemo} from '../validated.js';

/**
 * What a command hands to its core: configuration, I/O and the means to reach the outside
 * world. Cores take the parts they need as parameters, so tests pass their own.
 */
export interface CommandContext {
  /** The tool's bin name (svctl, dbctl, ..., bcl). */
  readonly tool: string;
  readonly version: string;
  readonly env: Env;
  readonly cwd: string;
  readonly paths: BclPaths;
  readonly config: ResolvedConfig;
  readonly ui: Ui;
  readonly prompt: Prompter;
  readonly interactive: boolean;
  readonly json: boolean;
  readonly verbose: boolean;
  readonly redactor: Redactor;
  readonly runner: ProcessRunner;
  /** Validations of this build kept between runs (pass it to spec loaders); absent when unbundled. */
  readonly validations?: ValidationMemo;
  /** Aborted on SIGINT: long operations stop, clean up, and throw `interrupted()`. */
  readonly signal: AbortSignal;
  /** An HTTP client honouring bcl.http settings and proxies; mTLS when `tls` is given. */
  http(options?: {tls?: TlsOptions; timeoutMs?: number; retries?: number}): HttpClient;
  readonly now: () => Date;
}

export interface ContextParts {
  tool: string;
  version: string;
  env: Env;
  cwd: string;
  paths: BclPaths;
  config: ResolvedConfig;
  ui: Ui;
  prompt: Prompter;
  json: boolean;
  verbose: boolean;
  redactor: Redactor;
  signal: AbortSignal;
  validations?: ValidationMemo;
}

export function createContext(parts: ContextParts): CommandContext {
  const bclSettings = parts.config.get('bcl') as {http?: {timeoutSeconds?: number; retries?: number}} | undefined;
  const runner = new ProcessRunner(parts.redactor, {signal: parts.signal, debug: (m) => parts.ui.debug(m)});
  return {
    ...parts,
    // Decided when first asked (see Prompter).
    get interactive() {
      return parts.prompt.interactive;
    },
    runner,
    now: () => new Date(),
    http(options = {}) {
      return new HttpClient({
        timeoutMs: options.timeoutMs ?? (bclSettings?.http?.timeoutSeconds ?? 30) * 1000,
        retries: options.retries ?? bclSettings?.http?.retries ?? 3,
        env: parts.env,
        redactor: parts.redactor,
        userAgent: `${parts.tool}/${parts.version} node/${process.versions.node}`,
        signal: parts.signal,
        debug: (m) => parts.ui.debug(m),
        ...(options.tls ? {tls: options.tls} : {}),
      });
    },
  };
}
