import {spawn} from 'node:child_process';
import {existsSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

/** The repository root (testkit lives in packages/testkit). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (the --json envelope); throws with the output when it is not JSON. */
  json<T = {ok: boolean; result?: unknown; error?: {code: string; message: string; hint?: string; details?: unknown}; warnings: string[]}>(): T;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
  /** Send SIGINT after this many ms (to test interruption). */
  interruptAfterMs?: number;
  /** Send SIGINT once stderr matches (the command says it is waiting): robust on a loaded machine. */
  interruptOn?: RegExp;
  /** Send SIGINT when this settles: the test decides (after it checked what it needed meanwhile). */
  interruptWhen?: Promise<unknown>;
  /** The signal interruptAfterMs, interruptOn and interruptWhen send (default SIGINT; SIGKILL plays kill -9). */
  interruptSignal?: NodeJS.Signals;
}

/**
 * Runs a launcher of the checkout (bin/bcl, bin/svctl...; a bin/run.js path; or any other program) as a subprocess, exactly as a user
 * would. The environment is the test's: pass an isolatedHome().env so no user state leaks in.
 */
export function runCli(tool: string, args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = {PATH: process.env.PATH, LANG: 'C.UTF-8', ...options.env};
    // A launcher name (bin/<tool>), or the path of a bin/run.js run with this process's Node.
    const [file, argv] = tool.endsWith('.js')
      ? [process.execPath, [tool, ...args]]
      : existsSync(join(repoRoot, 'bin', tool))
        ? [join(repoRoot, 'bin', tool), [...args]]
        : [tool, [...args]]; // any other executable: an installed shim, an unpacked launcher, a program on PATH
    const child = spawn(file, argv, {cwd: options.cwd ?? repoRoot, env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe']});
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    let interrupted = false;
    child.stderr.on('data', (d) => {
      stderr += d;
      if (options.interruptOn && !interrupted && options.interruptOn.test(stderr)) {
        interrupted = true;
        child.kill(options.interruptSignal ?? 'SIGINT');
      }
    });
    child.stdin.on('error', () => undefined); // the CLI may exit without reading its stdin
    child.stdin.end(options.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    const interrupt = options.interruptAfterMs === undefined ? undefined : setTimeout(() => child.kill(options.interruptSignal ?? 'SIGINT'), options.interruptAfterMs);
    let exited = false;
    void options.interruptWhen?.finally(() => {
      if (!exited) child.kill(options.interruptSignal ?? 'SIGINT');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      exited = true;
      clearTimeout(timer);
      if (interrupt) clearTimeout(interrupt);
      resolve({
        exitCode: code ?? (signal ? 128 : 1),
        stdout,
        stderr,
        json() {
          try {
            return JSON.parse(stdout);
          } catch {
            throw new Error(`stdout of ${tool} ${args.join(' ')} is not JSON:\n${stdout}\nstderr:\n${stderr}`);
          }
        },
      });
    });
  });
}
