// csshctl end to end: a real openssl PKI, the real cssh-authz service, a real sshd from Debian's
// openssh-server on loopback, and the real ssh client, driven through bin/csshctl.
import {spawn, spawnSync} from 'node:child_process';
import {chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {
  createOpensslPki,
  type CsshAuthz,
  ensureLoginUsers,
  type IsolatedHome,
  type IssuedX509,
  isolatedHome,
  type OpensslPki,
  repoRoot,
  runCli,
  type SshdServer,
  startCsshAuthz,
  startSshd,
  tempDir,
  waitFor,
} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

// Unix logins on the machine; the access rules grant them as principals.
const OPS = 'bcl-ops';
const APP = 'bcl-app';

const RULES = `
groups:
  sre: [ann@example.com]
  dev: [carl@example.com]
hostGroups:
  local: [127.0.0.1, localhost]
  elsewhere: [other.example.com]
grants:
  - group: sre
    hosts: local
    principals: [${OPS}]
  - group: sre
    hosts: elsewhere
    principals: [${APP}]
  - group: dev
    hosts: local
    principals: [${APP}]
    forceCommand: echo forced-by-the-rules
admins: [sre]
`;

let pki: OpensslPki;
let authz: CsshAuthz;
let sshd: SshdServer;
let ann: IssuedX509;
let carl: IssuedX509;
const homes: IsolatedHome[] = [];

/** A home whose BCL user config points csshctl at the service, authenticating with `client`. */
function homeFor(client: IssuedX509 | undefined, extra = ''): IsolatedHome {
  const home = isolatedHome();
  homes.push(home);
  const certificate = client ? `  certificate:\n    cert: ${client.cert}\n    key: ${client.key}\n` : '';
  mkdirSync(join(home.xdg.config, 'bcl'), {recursive: true});
  writeFileSync(join(home.xdg.config, 'bcl', 'config.yaml'), `csshctl:\n  server: ${authz.url}\n  serverCa: ${authz.serverCa}\n${certificate}${extra}`);
  return home;
}

const csshctl = (home: IsolatedHome, args: string[], env: Record<string, string> = {}) => runCli('csshctl', args, {env: {...home.env, ...env}, timeoutMs: 90_000});

/** The system ssh with one key and certificate, nothing else. */
function ssh(server: SshdServer, login: string, key: string, cert: string, command: string) {
  const res = spawnSync('ssh', [...server.sshOptions(), '-o', `IdentityFile=${key}`, '-o', `CertificateFile=${cert}`, '-o', 'IdentitiesOnly=yes', `${login}@127.0.0.1`, command], {encoding: 'utf8', timeout: 60_000});
  return {code: res.status ?? 1, stdout: res.stdout, stderr: res.stderr};
}

beforeAll(async () => {
  await ensureLoginUsers([OPS, APP]);
  pki = await createOpensslPki('Company PKI');
  [ann, carl] = await Promise.all([pki.issueClient({email: 'ann@example.com'}), pki.issueClient({email: 'carl@example.com'})]);
  authz = await startCsshAuthz({pki, rules: RULES});
  sshd = await startSshd({trustedUserCaKeys: (await authz.get('/v1/ca.pub')).body.toString(), revokedKeys: (await authz.get('/v1/krl')).body});
});

afterAll(async () => {
  await sshd?.stop();
  await authz?.stop();
  pki?.remove();
  for (const h of homes) h.remove();
});

describe('getting a certificate', () => {
  it('csshctl cert stores a 0600 key and certificate that ssh-keygen -L reads, and status shows it', async () => {
    const home = homeFor(ann);
    const res = await csshctl(home, ['cert', '--ttl', '30m', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    const cert = res.json<{ok: true; result: {principals: string[]; keyId: string; serial: string; certificatePath: string; keyPath: string; remainingSeconds: number}}>().result;
    expect(cert.principals).toEqual([APP, OPS]);
    expect(cert.keyId).toBe(`ann@example.com/${cert.serial}`);
    expect(cert.certificatePath).toBe(join(home.xdg.data, 'bcl', 'csshctl', 'default', 'id-cert.pub'));
    expect(cert.remainingSeconds).toBeGreaterThan(29 * 60);
    for (const file of [cert.keyPath, cert.certificatePath]) expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(home.xdg.data, 'bcl', 'csshctl')).mode & 0o777).toBe(0o700);
    const shown = spawnSync('ssh-keygen', ['-L', '-f', cert.certificatePath], {encoding: 'utf8'}).stdout;
    expect(shown).toContain(`Key ID: "ann@example.com/${cert.serial}"`);
    expect(shown).toMatch(new RegExp(`Principals: \\n\\s+${APP}\\n\\s+${OPS}\\n`));
    expect(shown).toMatch(/Extensions: \n\s+permit-agent-forwarding\n\s+permit-port-forwarding\n\s+permit-pty\n\s+permit-user-rc\n/);
    // The private key is OpenSSH's own format: ssh-keygen derives its public key.
    expect(spawnSync('ssh-keygen', ['-y', '-f', cert.keyPath], {encoding: 'utf8'}).stdout.split(' ')[1]).toBe(readFileSync(`${cert.keyPath}.pub`, 'utf8').split(' ')[1]);
    const status = await csshctl(home, ['status']);
    expect(status.stdout).toMatch(new RegExp(`default\\s+${cert.serial}\\s+${APP},${OPS}\\s+\\S+\\s+\\d+m`));
    const human = await csshctl(home, ['cert', '--principal', OPS]);
    expect(human.stdout).toMatch(/^principals: +bcl-ops$/m);
    expect(human.stdout).toMatch(/^valid until: +\S+ \((59m\d+s|1h) left\)$/m);
  });

  it('accepts --ttl 1w as cssh-authz does (one duration grammar); the rules cap it with a warning', async () => {
    const res = await csshctl(homeFor(ann), ['cert', '--ttl', '1w', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.json<{result: {warnings: string[]}}>().result.warnings).toEqual(['lifetime limited to 8h by the access rules (asked for 7d)']);
    const bad = await csshctl(homeFor(ann), ['cert', '--ttl', '1.5h']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--ttl: expected a duration such as 90s, 30m, 8h, 1h30m, 2d or 1w, got "1.5h"');
  });

  it('bcl doctor checks ssh, the service over TLS and the PKI certificate', async () => {
    const res = await runCli('bcl', ['doctor', '--json'], {env: homeFor(ann).env});
    const body = res.json<{ok: boolean; result?: {checks: {name: string; status: string; message: string}[]}; error?: {details: {checks: {name: string; status: string; message: string}[]}}}>();
    const checks = (body.result?.checks ?? body.error?.details.checks ?? []).filter((c) => c.name.startsWith('csshctl.'));
    expect(checks).toEqual([
      {name: 'csshctl.ssh', status: 'ok', message: expect.stringMatching(/^\d/)},
      {name: 'csshctl.server', status: 'ok', message: `${authz.url} answers`},
      // The test PKI issues two-day certificates: doctor warns a week ahead.
      {name: 'csshctl.certificate', status: 'warn', message: `${ann.cert} expires in 1 day(s)`, hint: 'Renew it with pkictl renew.'},
    ]);
    const broken = await runCli('bcl', ['doctor', '--json'], {env: {...homeFor(ann).env, BCL_CSSHCTL_SERVER_CA: '/nonexistent.pem'}});
    expect(broken.exitCode).toBe(6);
    expect(broken.json<{error: {details: {checks: {name: string; status: string}[]}}}>().error.details.checks.find((c) => c.name === 'csshctl.serverCa')).toMatchObject({status: 'fail'});
  });

  it('unlocks an encrypted PKI key with --passphrase-file or --passphrase-env, never prompting in CI', async () => {
    const dir = tempDir('bcl-enc-');
    try {
      const key = join(dir.path, 'key.pem');
      const pass = join(dir.path, 'pass');
      writeFileSync(pass, 'correct horse battery\n', {mode: 0o600});
      spawnSync('openssl', ['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', ann.key, '-out', key, '-passout', `file:${pass}`]);
      expect(readFileSync(key, 'utf8')).toContain('ENCRYPTED PRIVATE KEY');
      const home = homeFor(undefined, `  certificate:\n    cert: ${ann.cert}\n    key: ${key}\n`);
      const noPass = await csshctl(home, ['cert']);
      expect(noPass.exitCode).toBe(2);
      expect(noPass.stderr).toContain('--passphrase-file');
      const wrong = await csshctl(home, ['cert', '--passphrase-env', 'PASS'], {PASS: 'wrong horse'});
      expect(wrong.exitCode).toBe(4);
      expect(wrong.stderr).toContain(`cannot use the private key ${key}: wrong passphrase`);
      const ok = await csshctl(home, ['cert', '--passphrase-file', pass, '--verbose']);
      expect(ok.exitCode, ok.stderr).toBe(0);
      const viaEnv = await csshctl(home, ['cert', '--passphrase-env', 'PASS', '--json'], {PASS: 'correct horse battery'});
      expect(viaEnv.exitCode).toBe(0);
      for (const out of [noPass, wrong, ok, viaEnv]) expect(`${out.stdout}${out.stderr}`).not.toContain('correct horse');
    } finally {
      dir.remove();
    }
  });

  it('refuses a principal that is not granted, naming it; nothing is issued or written', async () => {
    const home = homeFor(ann);
    const res = await csshctl(home, ['cert', '--principal', OPS, '--principal', 'root']);
    expect(res.exitCode).toBe(4);
    expect(res.stderr).toContain('principal "root" is not allowed for ann@example.com');
    expect(existsSync(join(home.xdg.data, 'bcl', 'csshctl', 'default'))).toBe(false);
    expect(authz.audit().at(-1)).toMatchObject({event: 'certificate.refused', email: 'ann@example.com', principals: [OPS, 'root'], status: 403});
  });

  it('exits 4 with a clear message for a certificate from another CA, a revoked one, or none', async () => {
    const stranger = await createOpensslPki('Another PKI');
    try {
      const foreign = await csshctl(homeFor(await stranger.issueClient({email: 'ann@example.com'})), ['cert']);
      expect(foreign.exitCode).toBe(4);
      expect(foreign.stderr).toMatch(/cssh-authz refused \S+: the client certificate is not issued by the PKI this service trusts/);
    } finally {
      stranger.remove();
    }
    const none = await csshctl(homeFor(undefined), ['cert', '--json']);
    expect(none.exitCode).toBe(4);
    expect(none.json()).toMatchObject({ok: false, error: {code: 'csshctl.no_certificate', message: 'no usable PKI client certificate', hint: expect.stringContaining('pkictl request')}});
    const lost = await pki.issueClient({email: 'ann@example.com', name: 'lost laptop'});
    const home = homeFor(lost);
    expect((await csshctl(home, ['cert'])).exitCode).toBe(0);
    await pki.revoke(lost);
    const revoked = await waitFor('the CRL to reach cssh-authz', async () => {
      const r = await csshctl(home, ['cert']);
      return r.exitCode === 4 ? r : undefined;
    }, {timeoutMs: 20_000, intervalMs: 500});
    expect(revoked.stderr).toContain('the client certificate is revoked (PKI CRL)');
  });
});

describe('logging in', () => {
  it('csshctl ssh logs in and runs a command, passing the exit code through, and reuses the certificate', async () => {
    const home = homeFor(ann);
    const res = await csshctl(home, ['ssh', `${OPS}@127.0.0.1`, '--', ...sshd.sshOptions(), 'whoami']);
    expect(res.stderr).not.toMatch(/Error/);
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toBe(`${OPS}\n`);
    const certFile = join(home.xdg.data, 'bcl', 'csshctl', 'host-127.0.0.1', 'id-cert.pub');
    const first = readFileSync(certFile, 'utf8');
    expect(spawnSync('ssh-keygen', ['-L', '-f', certFile], {encoding: 'utf8'}).stdout).toMatch(new RegExp(`Principals: \\n\\s+${OPS}\\n`));
    const again = await csshctl(home, ['ssh', `${OPS}@127.0.0.1`, '--', ...sshd.sshOptions(), 'echo $USER; exit 3']);
    expect(again.stdout).toBe(`${OPS}\n`);
    expect(again.exitCode).toBe(3);
    expect(again.stderr).toContain('ssh exited with code 3');
    expect(readFileSync(certFile, 'utf8')).toBe(first);
    expect(sshd.log()).toMatch(new RegExp(`Accepted publickey for ${OPS} from 127\\.0\\.0\\.1 .*ID ann@example\\.com/\\d+ \\(serial \\d+\\)`));
  });

  it('certifies the configured key (csshctl.sshKey) instead of a new one, and logs in with it', async () => {
    const keys = tempDir('bcl-sshkey-');
    try {
      const key = join(keys.path, 'id_ecdsa');
      spawnSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-C', 'ann laptop', '-f', key]);
      const home = homeFor(ann, `  sshKey: ${key}\n`);
      const login = await csshctl(home, ['ssh', `${OPS}@127.0.0.1`, '--', ...sshd.sshOptions(), 'whoami']);
      expect(login.stdout, login.stderr).toBe(`${OPS}\n`);
      const slot = join(home.xdg.data, 'bcl', 'csshctl', 'host-127.0.0.1');
      expect(lstatSync(join(slot, 'id')).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(slot, 'id'))).toBe(key);
      const shown = spawnSync('ssh-keygen', ['-L', '-f', join(slot, 'id-cert.pub')], {encoding: 'utf8'}).stdout;
      const fingerprint = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${key}.pub`], {encoding: 'utf8'}).stdout.split(' ')[1];
      expect(shown).toContain(`Public key: ECDSA-CERT ${fingerprint}`);
    } finally {
      keys.remove();
    }
  });

  it('refuses a login the rules do not grant before ssh runs', async () => {
    const res = await csshctl(homeFor(ann), ['ssh', `root@127.0.0.1`, '--', ...sshd.sshOptions(), 'true']);
    expect(res.exitCode).toBe(4);
    expect(res.stderr).toContain('principal "root" is not allowed for ann@example.com on 127.0.0.1');
  });

  it('sshd refuses a certificate once it has expired', async () => {
    const home = homeFor(ann);
    // Long enough to log in once first, even on a loaded machine.
    const res = await csshctl(home, ['cert', '--principal', OPS, '--ttl', '12s', '--json']);
    const cert = res.json<{result: {keyPath: string; certificatePath: string; validBefore: string}}>().result;
    expect(ssh(sshd, OPS, cert.keyPath, cert.certificatePath, 'whoami').stdout).toBe(`${OPS}\n`);
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(cert.validBefore) - Date.now()) + 1500));
    const late = ssh(sshd, OPS, cert.keyPath, cert.certificatePath, 'whoami');
    expect(late.code).toBe(255);
    expect(late.stdout).toBe('');
    expect(sshd.log()).toMatch(/Certificate invalid: expired/);
  });

  it('sshd refuses a certificate listed in the KRL it reads (RevokedKeys)', async () => {
    const home = homeFor(ann);
    const cert = (await csshctl(home, ['cert', '--principal', OPS, '--json'])).json<{result: {keyPath: string; certificatePath: string; serial: string}}>().result;
    expect(ssh(sshd, OPS, cert.keyPath, cert.certificatePath, 'whoami').code).toBe(0);
    const notAdmin = await csshctl(homeFor(carl), ['revoke', '--serial', cert.serial]);
    expect(notAdmin.exitCode).toBe(4);
    expect(notAdmin.stderr).toContain('carl@example.com may not revoke certificates');
    const revoke = await csshctl(home, ['revoke', '--serial', cert.serial, '--reason', 'key compromise']);
    expect(revoke.exitCode, revoke.stderr).toBe(0);
    expect(revoke.stdout).toContain(`Revoked 1 certificate(s): ${cert.serial}`);
    sshd.setRevokedKeys((await authz.get('/v1/krl')).body);
    const refused = ssh(sshd, OPS, cert.keyPath, cert.certificatePath, 'whoami');
    expect(refused.code).toBe(255);
    expect(sshd.log()).toMatch(/Authentication key ED25519-CERT \S+ revoked by file/);
    // Another certificate of the same person still works.
    const fresh = (await csshctl(home, ['cert', '--principal', OPS, '--json'])).json<{result: {keyPath: string; certificatePath: string}}>().result;
    expect(ssh(sshd, OPS, fresh.keyPath, fresh.certificatePath, 'whoami').stdout).toBe(`${OPS}\n`);
  });
});

describe('sshd with AuthorizedPrincipalsCommand calling csshctl principals', () => {
  let host: SshdServer;
  let hostDir: {path: string; remove(): void};

  beforeAll(async () => {
    // The command runs as nobody: its config and the CA bundle must be readable by it.
    hostDir = tempDir('bcl-cssh-host-');
    chmodSync(hostDir.path, 0o755);
    writeFileSync(join(hostDir.path, 'server-ca.pem'), readFileSync(authz.serverCa), {mode: 0o644});
    writeFileSync(join(hostDir.path, 'config.yaml'), `csshctl:\n  server: ${authz.url}\n  serverCa: ${join(hostDir.path, 'server-ca.pem')}\n`, {mode: 0o644});
    host = await startSshd({
      trustedUserCaKeys: (await authz.get('/v1/ca.pub')).body.toString(),
      principalsCommand: {
        script: `exec ${join(repoRoot, 'bin', 'csshctl')} principals "$@" --config ${join(hostDir.path, 'config.yaml')}`,
        args: '%u --host 127.0.0.1 --key-id %i --serial %s',
      },
    });
  });

  afterAll(async () => {
    await host?.stop();
    hostDir?.remove();
  });

  it("admits exactly the rule's principals for this host, whatever else the certificate carries", async () => {
    const home = homeFor(ann);
    const cert = (await csshctl(home, ['cert', '--json'])).json<{result: {keyPath: string; certificatePath: string; principals: string[]}}>().result;
    expect(cert.principals).toEqual([APP, OPS]);
    // The plain sshd admits every principal of the certificate...
    expect(ssh(sshd, APP, cert.keyPath, cert.certificatePath, 'whoami').stdout).toBe(`${APP}\n`);
    // ...the host that asks cssh-authz admits only what the rules grant on it.
    const ops = ssh(host, OPS, cert.keyPath, cert.certificatePath, 'whoami');
    expect(ops.stdout, `${ops.stderr}\n${host.log()}`).toBe(`${OPS}\n`);
    const app = ssh(host, APP, cert.keyPath, cert.certificatePath, 'whoami');
    expect(app.code).toBe(255);
    expect(app.stdout).toBe('');
  });

  it("applies the grant's restrictions on the host (force-command)", async () => {
    const home = homeFor(carl);
    const cert = (await csshctl(home, ['cert', '--json'])).json<{result: {keyPath: string; certificatePath: string; principals: string[]}}>().result;
    expect(cert.principals).toEqual([APP]);
    expect(ssh(host, APP, cert.keyPath, cert.certificatePath, 'whoami').stdout).toBe('forced-by-the-rules\n');
  });

  it('prints the lines sshd reads, and fails closed: no output and a non-zero exit on any error', async () => {
    const hostHome = homeFor(undefined);
    const ok = await csshctl(hostHome, ['principals', OPS, '--host', '127.0.0.1']);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toBe(`restrict,pty,agent-forwarding,port-forwarding,user-rc ${OPS}\n`);
    const nothing = await csshctl(hostHome, ['principals', 'root', '--host', '127.0.0.1']);
    expect(nothing.exitCode).toBe(0);
    expect(nothing.stdout).toBe('');
    const down = await csshctl(hostHome, ['principals', OPS, '--host', '127.0.0.1', '--server', 'https://127.0.0.1:1']);
    expect(down.exitCode).not.toBe(0);
    expect(down.stdout).toBe('');
    const badConfig = await csshctl(hostHome, ['principals', OPS, '--host', '127.0.0.1'], {BCL_CSSHCTL_SERVER: 'http://insecure.example.com'});
    expect(badConfig.exitCode).toBe(3);
    expect(badConfig.stdout).toBe('');
  });
});

describe('ssh-agent', () => {
  it('agent-add loads key and certificate for the remaining validity; ssh then needs nothing else', async () => {
    const agentDir = tempDir('bcl-agent-');
    const sock = join(agentDir.path, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], {stdio: 'ignore'});
    try {
      await waitFor('ssh-agent', () => existsSync(sock));
      const home = homeFor(ann);
      const res = await csshctl(home, ['agent-add', '--ttl', '20m', '--json'], {SSH_AUTH_SOCK: sock});
      expect(res.exitCode, res.stderr).toBe(0);
      const added = res.json<{result: {lifetimeSeconds: number; serial: string}}>().result;
      expect(added.lifetimeSeconds).toBeGreaterThan(19 * 60);
      expect(added.lifetimeSeconds).toBeLessThanOrEqual(20 * 60);
      const listed = spawnSync('ssh-add', ['-l'], {encoding: 'utf8', env: {...process.env, SSH_AUTH_SOCK: sock}}).stdout;
      expect(listed).toMatch(/\(ED25519-CERT\)/);
      const login = spawnSync('ssh', [...sshd.sshOptions(), '-o', `IdentityAgent=${sock}`, `${OPS}@127.0.0.1`, 'whoami'], {encoding: 'utf8', timeout: 60_000});
      expect(login.stdout).toBe(`${OPS}\n`);
      const noAgent = await csshctl(home, ['agent-add']);
      expect(noAgent.exitCode).toBe(6);
      expect(noAgent.stderr).toContain('SSH_AUTH_SOCK is not set');
    } finally {
      agent.kill('SIGTERM');
      agentDir.remove();
    }
  });
});


