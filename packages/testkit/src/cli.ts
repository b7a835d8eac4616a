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
  /** Called with all of stderr so far each time more arrives: a test acts on what the command has printed. */
  onStderr?: (stderr: string) => void;
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
      options.onStderr?.(stderr);
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

/**
 * Runs a launcher on a pseudo-terminal (util-linux `script`), as a person at a terminal would:
 * prompts are shown, and each answer is typed once the output so far matches its `when`
 * (`send` sees that output, e.g. to read a secret shown before the prompt). stdout and stderr
 * arrive mixed, as on a terminal.
 */
export function runCliOnTerminal(
  tool: string,
  args: readonly string[],
  options: {env?: Record<string, string | undefined>; answers: {when: RegExp; send: (output: string) => string; /** Typed as it is, without Enter (a key such as Ctrl-C, "\x03"). */ key?: boolean}[]; timeoutMs?: number; cwd?: string},
): Promise<{exitCode: number; output: string}> {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const command = [join(repoRoot, 'bin', tool), ...args].map(quote).join(' ');
  // A terminal session is interactive: CI must not be set.
  const {CI: _ci, ...env} = options.env ?? {};
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {cwd: options.cwd ?? repoRoot, env: {PATH: process.env.PATH, LANG: 'C.UTF-8', TERM: 'dumb', ...env} as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe']});
    let output = '';
    const pending = [...options.answers];
    const onData = (d: Buffer) => {
      output += d.toString();
      const next = pending[0];
      if (next && next.when.test(output)) {
        pending.shift();
        child.stdin.write(next.key ? next.send(output) : `${next.send(output)}\r`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({exitCode: code ?? 1, output});
    });
  });
}
