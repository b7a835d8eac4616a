import {existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {spawn} from 'node:child_process';
import {type CliResult, isolatedHome, type IsolatedHome, repoRoot, runCli} from '@bcl/testkit';
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

/** The spec provisioning tests start from: a local PostgreSQL database "shop" with two schemas, an owner and a reader. */
export const shopSpec = {
  name: 'shop',
  engine: 'postgres',
  provider: 'local',
  connection: 'local',
  deletionProtection: false,
  databases: [{name: 'shop', schemas: ['public', 'reporting']}],
  access: [
    {role: 'app', profile: 'owner', databases: ['shop']},
    {role: 'reporting', profile: 'readonly', databases: ['shop']},
  ] as {role: string; profile: string; databases: string[]; schemas?: string[]}[],
};

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

/**
 * Runs bin/dbctl on a pseudo-terminal (util-linux `script`), as a person at a terminal would, and
 * types `answer` when the confirmation prompt appears. Returns the exit code and the screen output.
 */
export function dbctlInteractive(home: {env: Record<string, string>}, args: readonly string[], answer: string, transcript?: Transcript): Promise<{exitCode: number; output: string}> {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const command = [join(repoRoot, 'bin', 'dbctl'), ...args].map(quote).join(' ');
  const {CI: _ci, ...env} = home.env;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {env: {PATH: process.env.PATH, LANG: 'C.UTF-8', TERM: 'dumb', ...env}, stdio: ['pipe', 'pipe', 'pipe']});
    let output = '';
    let answered = false;
    const onData = (d: Buffer) => {
      output += d.toString();
      if (!answered && /to confirm:/.test(output)) {
        answered = true;
        child.stdin.write(`${answer}\r`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      transcript?.runs.push({args, stdout: output, stderr: '', allowStdoutSecrets: false});
      resolve({exitCode: code ?? 1, output});
    });
  });
}
