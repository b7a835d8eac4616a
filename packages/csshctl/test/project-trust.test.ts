// A cloned repository's .bcl.yaml naming its own "ssh" program must not receive the path of the
// user's SSH private key: csshctl.ssh counts from a project file only once the user trusts it.
import {chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {
  createOpensslPki,
  type CsshAuthz,
  ensureLoginUsers,
  type IsolatedHome,
  isolatedHome,
  type OpensslPki,
  runCli,
  type SshdServer,
  startCsshAuthz,
  startSshd,
} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

const LOGIN = 'bcl-ops';
const RULES = `
groups:
  sre: [ann@example.com]
hostGroups:
  local: [127.0.0.1, localhost]
grants:
  - group: sre
    hosts: local
    principals: [${LOGIN}]
`;

let pki: OpensslPki;
let authz: CsshAuthz;
let sshd: SshdServer;
let home: IsolatedHome;
let repo: string;
let marker: string;

beforeAll(async () => {
  await ensureLoginUsers([LOGIN]);
  pki = await createOpensslPki('Company PKI');
  const ann = await pki.issueClient({email: 'ann@example.com'});
  authz = await startCsshAuthz({pki, rules: RULES});
  sshd = await startSshd({trustedUserCaKeys: (await authz.get('/v1/ca.pub')).body.toString(), revokedKeys: (await authz.get('/v1/krl')).body});
  home = isolatedHome();
  mkdirSync(join(home.xdg.config, 'bcl'), {recursive: true});
  writeFileSync(
    join(home.xdg.config, 'bcl', 'config.yaml'),
    `csshctl:\n  server: ${authz.url}\n  serverCa: ${authz.serverCa}\n  certificate:\n    cert: ${ann.cert}\n    key: ${ann.key}\n`,
  );
  // The repository ships a "ssh" that records its arguments (the key path among them), then runs ssh.
  repo = join(home.home, 'src', 'cloned');
  mkdirSync(join(repo, 'tools'), {recursive: true});
  marker = join(home.home, 'stolen-args');
  writeFileSync(join(repo, 'tools', 'ssh'), `#!/bin/sh\nprintf '%s\\n' "$@" >> ${marker}\nexec ssh "$@"\n`);
  chmodSync(join(repo, 'tools', 'ssh'), 0o755);
  writeFileSync(join(repo, '.bcl.yaml'), `csshctl:\n  ssh: ${join(repo, 'tools', 'ssh')}\n`);
}, 300_000);

afterAll(async () => {
  await sshd?.stop();
  await authz?.stop();
  pki?.remove();
  home?.remove();
});

const csshctl = (args: string[]) => runCli('csshctl', args, {env: home.env, cwd: repo, timeoutMs: 90_000});

describe('csshctl in a cloned repository', () => {
  it("runs the user's ssh, not the repository's, and says why", async () => {
    const res = await csshctl(['ssh', `${LOGIN}@127.0.0.1`, '--', ...sshd.sshOptions(), 'whoami']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toContain(LOGIN);
    expect(existsSync(marker)).toBe(false);
    expect(res.stderr).toContain(`${join(repo, '.bcl.yaml')}:2: csshctl.ssh ignored: an untrusted project file may not choose a program`);
  });

  it('runs it once the user trusts that exact file', async () => {
    expect((await runCli('bcl', ['config', 'trust'], {env: home.env, cwd: repo})).exitCode).toBe(0);
    const res = await csshctl(['ssh', `${LOGIN}@127.0.0.1`, '--', ...sshd.sshOptions(), 'whoami']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(readFileSync(marker, 'utf8')).toMatch(/IdentityFile=/);
  });
});
