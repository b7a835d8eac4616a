import {existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {type CliResult, isolatedHome, type IsolatedHome, runCli} from '@bcl/testkit';
import {stringify} from 'yaml';

/**
 * Every dbctl run of a test file goes through here: the transcript (stdout and stderr of every
 * command) is kept, and `leakedSecrets()` looks in it, and in log files, for any password the
 * test knows. A test file calls it in afterAll, so no password reaches a user's screen or logs.
 */
export class Transcript {
  readonly runs: {args: readonly string[]; stdout: string; stderr: string; allowStdoutSecrets: boolean}[] = [];
  readonly secrets = new Set<string>();

  remember(secret: string | undefined): void {
    if (secret && secret.length >= 8) this.secrets.add(secret);
  }

  record(args: readonly string[], result: CliResult, allowStdoutSecrets = false): CliResult {
    this.runs.push({args, stdout: result.stdout, stderr: result.stderr, allowStdoutSecrets});
    return result;
  }

  /** Every place a known secret was found: "<command>: stdout", "<file>". */
  leakedSecrets(files: string[] = []): string[] {
    const found: string[] = [];
    const scan = (where: string, text: string) => {
      for (const secret of this.secrets) if (text.includes(secret) || text.includes(encodeURIComponent(secret))) found.push(where);
    };
    for (const r of this.runs) {
      if (!r.allowStdoutSecrets) scan(`dbctl ${r.args.join(' ')}: stdout`, r.stdout);
      scan(`dbctl ${r.args.join(' ')}: stderr`, r.stderr);
    }
    for (const file of files.flatMap(filesUnder)) scan(file, readFileSync(file, 'latin1'));
    return found;
  }
}

function filesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, {recursive: true, withFileTypes: true})
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** An isolated HOME whose user config has the given dbctl settings. */
export function homeWithConfig(dbctl: Record<string, unknown>, extraEnv: Record<string, string> = {}): IsolatedHome & {configFile: string} {
  const home = isolatedHome();
  const configFile = join(home.xdg.config, 'bcl', 'config.yaml');
  writeConfig(configFile, dbctl);
  Object.assign(home.env, extraEnv);
  return {...home, configFile};
}

export function writeConfig(file: string, dbctl: Record<string, unknown>): void {
  mkdirSync(join(file, '..'), {recursive: true});
  writeFileSync(file, stringify({dbctl}));
}

/** Runs bin/dbctl with the home's environment and records it. */
export function dbctlRunner(home: {env: Record<string, string>}, transcript: Transcript, cwd?: string) {
  return async (args: readonly string[], options: {allowStdoutSecrets?: boolean; input?: string; env?: Record<string, string>; timeoutMs?: number} = {}) =>
    transcript.record(
      args,
      await runCli('dbctl', args, {env: {...home.env, ...options.env}, cwd, input: options.input, timeoutMs: options.timeoutMs ?? 300_000}),
      options.allowStdoutSecrets,
    );
}
