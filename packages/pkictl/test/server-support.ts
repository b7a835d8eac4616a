/** pkictl against a real PKI server: people with their own HOME, signed in through the real OIDC provider. */
import {spawn} from 'node:child_process';
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {type CliResult, type IsolatedHome, isolatedHome, type OidcProvider, type PkiServer, repoRoot, runCli, waitFor} from '@bcl/testkit';

export interface ServerUser {
  home: IsolatedHome;
  email: string;
  /** pkictl as this person (--json), against the server of their config. */
  pk(args: string[], extraEnv?: Record<string, string>): Promise<CliResult>;
  /** `pkictl login --device`, the code entered on the provider's pages as this person. */
  loginDevice(who?: string): Promise<CliResult>;
  /** `pkictl login` (PKCE, loopback redirect): the provider's login driven from the URL pkictl prints. */
  loginBrowser(who?: string): Promise<CliResult>;
}

export function serverUser(server: PkiServer, oidc: OidcProvider, email: string, options: {pinned?: boolean; extraConfig?: string; home?: IsolatedHome} = {}): ServerUser {
  // An existing HOME (a person of a Git store) keeps its credentials; its configuration now names the server.
  const home = options.home ?? isolatedHome();
  mkdirSync(join(home.xdg.config, 'bcl'), {recursive: true});
  writeFileSync(
    join(home.xdg.config, 'bcl', 'config.yaml'),
    `pkictl:\n  server: ${server.url}\n  email: ${email}\n${options.pinned === false ? '' : `  caFingerprint: ${server.caFingerprint}\n`}${options.extraConfig ?? ''}`,
  );
  const env = {...home.env, BROWSER: 'true'};
  /** Runs pkictl and, once `until` matches its stderr, the person's part (in the browser). */
  const interactive = (args: string[], until: RegExp, act: (m: RegExpExecArray) => Promise<unknown>): Promise<CliResult> =>
    new Promise((resolve, reject) => {
      const child = spawn(join(repoRoot, 'bin', 'pkictl'), [...args, '--json'], {env, cwd: home.home, stdio: ['ignore', 'pipe', 'pipe']});
      let stdout = '';
      let stderr = '';
      let acted = false;
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => {
        stderr += d;
        const m = until.exec(stderr);
        if (m && !acted) {
          acted = true;
          act(m).catch((error: Error) => {
            stderr += `\n[test] the person's part failed: ${error.message}`;
            child.kill('SIGTERM');
          });
        }
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({exitCode: code ?? 1, stdout, stderr, json: () => JSON.parse(stdout)} as CliResult));
    });
  return {
    home,
    email,
    pk: (args, extraEnv = {}) => runCli('pkictl', [...args, '--json'], {env: {...env, ...extraEnv}, cwd: home.home}),
    loginDevice: (who = email) => interactive(['login', '--device'], /enter the code:\s+(\S+)\s/, (m) => oidc.approveDevice(m[1]!, who)),
    loginBrowser: (who = email) => interactive(['login'], /visit:\s+(http\S+)\s/, (m) => oidc.login(m[1]!, who, {deliver: true})),
  };
}

export async function ok<T = any>(res: Promise<CliResult> | CliResult): Promise<T> {
  const r = await res;
  if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}: ${r.stdout}${r.stderr}`);
  return (r.json() as {result: T}).result;
}

export async function waitForFile(check: () => boolean, what: string): Promise<void> {
  await waitFor(what, check, {timeoutMs: 20_000});
}
