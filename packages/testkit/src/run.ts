import {spawn} from 'node:child_process';

export interface RunOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion (for harness set-up steps); rejects with its output on failure. */
export function run(
  file: string,
  args: readonly string[],
  options: {env?: NodeJS.ProcessEnv; cwd?: string; user?: {uid: number; gid: number}; input?: string; allowFailure?: boolean; timeoutMs?: number} = {},
): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.user ? {uid: options.user.uid, gid: options.user.gid} : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // A child that exits without reading its stdin must not crash the test with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const out = {code: code ?? 1, stdout, stderr};
      if (out.code !== 0 && !options.allowFailure) {
        reject(new Error(`${file} ${args.join(' ')} exited ${out.code}:\n${stderr || stdout}`));
      } else resolve(out);
    });
  });
}

/** Ends a child process started by a harness: SIGTERM, SIGKILL after 5 s, resolved once it exited. */
export async function terminate(child: {kill(signal?: NodeJS.Signals): boolean}, exit: Promise<unknown>, exited: boolean): Promise<void> {
  if (exited) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exit;
  clearTimeout(timer);
}
