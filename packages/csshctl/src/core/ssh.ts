import {BclError, type ExitCode, type ProcessRunner, usageError} from '@bcl/core';

/** ssh's option letters that take a value (from its getopt string). */
const WITH_VALUE = new Set('bceilmopBDEFIJLOQRSwW'.split(''));
const FLAGS = new Set('46AaCfGgKkMNnqsTtVvXxYy1'.split(''));

/**
 * Splits what follows `--` into ssh options (which ssh wants before the destination) and the
 * remote command (after it), the way ssh's own getopt would.
 */
export function splitSshArgs(args: readonly string[]): {options: string[]; command: string[]} {
  const options: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return {options, command: args.slice(i + 1)};
    if (!arg.startsWith('-') || arg === '-') return {options, command: args.slice(i)};
    options.push(arg);
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j]!;
      if (WITH_VALUE.has(letter)) {
        if (j === arg.length - 1) {
          const value = args[++i];
          if (value === undefined) throw usageError(`ssh option -${letter} needs a value`);
          options.push(value);
        }
        break;
      }
      if (!FLAGS.has(letter)) throw usageError(`unknown ssh option -${letter} (in "${arg}")`, {hint: 'Options for ssh go after --, before the remote command: csshctl ssh host -- -p 2222 uptime'});
    }
  }
  return {options, command: []};
}

/** What ssh would connect to, from `ssh -G` (ssh_config, aliases and -l/-p applied). */
export async function resolveDestination(runner: ProcessRunner, ssh: string, options: readonly string[], destination: string): Promise<{user: string; hostname: string; port: number}> {
  const out = await runner.run(ssh, ['-G', ...options, destination], {reject: false, timeoutMs: 15_000});
  if (out.exitCode !== 0) throw usageError(`ssh cannot resolve ${destination}: ${out.stderr.trim() || `exit ${out.exitCode}`}`);
  const get = (key: string) => new RegExp(`^${key} (.+)$`, 'm').exec(out.stdout)?.[1]?.trim();
  const user = get('user');
  const hostname = get('hostname');
  if (!user || !hostname) throw usageError(`ssh -G ${destination} did not say which user and host it would use`);
  return {user, hostname, port: Number(get('port') ?? 22)};
}

/** The ssh command line that uses exactly this key and certificate. */
export function sshArgs(keyPath: string, certPath: string, options: readonly string[], destination: string, command: readonly string[]): string[] {
  return ['-o', `IdentityFile=${keyPath}`, '-o', `CertificateFile=${certPath}`, '-o', 'IdentitiesOnly=yes', ...options, destination, ...command];
}

/** Runs ssh on the terminal; its exit code becomes ours (a BclError carrying it when not 0). */
export async function runSsh(runner: ProcessRunner, ssh: string, args: readonly string[]): Promise<number> {
  const res = await runner.run(ssh, args, {inheritStdio: true, reject: false});
  if (res.exitCode !== 0) {
    throw new BclError('csshctl.ssh_exit', `ssh exited with code ${res.exitCode}`, res.exitCode as ExitCode, {
      ...(res.exitCode === 255 ? {hint: 'ssh itself failed (connection or authentication); csshctl status shows the certificate it used.'} : {}),
      details: {exitCode: res.exitCode},
    });
  }
  return 0;
}
