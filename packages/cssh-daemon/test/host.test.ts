// A host as it runs in production: a real sshd (Debian's openssh-server) whose TrustedUserCAKeys
// and RevokedKeys files the real cssh-daemon keeps, polling the real cssh-authz, and real unix
// accounts created and locked by the daemon with useradd and usermod (tests run as root). People
// log in with csshctl ssh and plain ssh. Every account and file is removed at the end.
import {execFileSync, spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {
  createOpensslPki,
  type CsshAuthz,
  type CsshDaemon,
  type IsolatedHome,
  type IssuedX509,
  isolatedHome,
  type OpensslPki,
  repoRoot,
  runCli,
  type SshdServer,
  startCsshAuthz,
  startCsshDaemon,
  startSshd,
  waitFor,
} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {loadDaemonConfig} from '../src/config.js';

// The daemon creates NEW; OWN exists before (made by the test) and must never be touched.
const NEW = 'bcl-dmn-new';
const OWN = 'bcl-dmn-own';

const rules = (logins: string[]) => `
groups:
  sre: [ann@example.com]
hostGroups:
  here: [127.0.0.1]
grants:
  - group: sre
    hosts: here
    principals: [${logins.join(', ')}]
    shell: /bin/sh
admins: [sre]
`;

let pki: OpensslPki;
let authz: CsshAuthz;
let sshd: SshdServer;
let daemon: CsshDaemon;
let ann: IssuedX509;
const homes: IsolatedHome[] = [];

const account = (login: string) => {
  const passwd = spawnSync('getent', ['passwd', login], {encoding: 'utf8'});
  const shadow = spawnSync('getent', ['shadow', login], {encoding: 'utf8'});
  return passwd.status === 0 ? {passwd: passwd.stdout.trim(), shadow: shadow.stdout.trim()} : undefined;
};
const removeAccount = (login: string) => {
  if (account(login)) spawnSync('userdel', ['--remove', login]);
};

function annHome(): IsolatedHome {
  const home = isolatedHome();
  homes.push(home);
  mkdirSync(join(home.xdg.config, 'bcl'), {recursive: true});
  writeFileSync(join(home.xdg.config, 'bcl', 'config.yaml'), `csshctl:\n  server: ${authz.url}\n  serverCa: ${authz.serverCa}\n  certificate:\n    cert: ${ann.cert}\n    key: ${ann.key}\n`);
  return home;
}
const csshctl = (home: IsolatedHome, args: string[]) => runCli('csshctl', args, {env: home.env, timeoutMs: 90_000});
const cert = async (home: IsolatedHome, principal: string) => {
  const res = await csshctl(home, ['cert', '--principal', principal, '--json']);
  expect(res.exitCode, res.stderr).toBe(0);
  return res.json<{result: {keyPath: string; certificatePath: string; serial: string}}>().result;
};
function ssh(login: string, c: {keyPath: string; certificatePath: string}) {
  const res = spawnSync('ssh', [...sshd.sshOptions(), '-o', `IdentityFile=${c.keyPath}`, '-o', `CertificateFile=${c.certificatePath}`, '-o', 'IdentitiesOnly=yes', `${login}@127.0.0.1`, 'whoami'], {encoding: 'utf8', timeout: 60_000});
  return {code: res.status ?? 1, stdout: res.stdout};
}
const status = () => JSON.parse(readFileSync(join(daemon.stateDir, 'status.json'), 'utf8')) as {krl: {krlVersion: number}; caKeys: {keys: string[]}; accounts: {managed: {login: string; state: string}[]; notManaged: string[]}};
const trustedKeys = () => readFileSync(sshd.trustedUserCaKeysFile, 'utf8').trim().split('\n');

beforeAll(async () => {
  for (const login of [NEW, OWN]) removeAccount(login);
  execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', '--password', '*', '--comment', 'made by the test, not by cssh-daemon', OWN]);
  pki = await createOpensslPki('Host PKI');
  ann = await pki.issueClient({email: 'ann@example.com'});
  const host = await pki.issueHost({ip: ['127.0.0.1']});
  authz = await startCsshAuthz({pki, rules: rules([NEW, OWN]), secretsKey: true, extraConfig: 'certificates: {defaultTtl: 1h, maxTtl: 1h}'});
  // sshd starts knowing nothing: the daemon brings the CA keys and the KRL.
  sshd = await startSshd({trustedUserCaKeys: '# filled in by cssh-daemon\n', revokedKeys: ''});
  daemon = await startCsshDaemon({server: authz.url, serverCa: authz.serverCa, hostname: '127.0.0.1', krlFile: sshd.revokedKeysFile, trustedCaKeysFile: sshd.trustedUserCaKeysFile, identity: {cert: host.cert, key: host.key}, staleAfter: '4s'});
});

afterAll(async () => {
  await daemon?.stop();
  await sshd?.stop();
  await authz?.stop();
  pki?.remove();
  for (const h of homes) h.remove();
  for (const login of [NEW, OWN]) removeAccount(login);
});

describe('cssh-daemon on a host', () => {
  let own: ReturnType<typeof account>;

  it("is what cssh-authz host-setup sets up: the package's unit file, and a configuration it accepts", async () => {
    const res = await runCli(join(repoRoot, 'bin', 'cssh-authz'), ['host-setup', '--server', authz.url, '--cacert', authz.serverCa, '--hostname', 'web1.example.com', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    const setup = JSON.parse(res.stdout) as {unit: string; daemonConfig: string; files: {path: string; content: string}[]};
    expect(setup.unit).toBe(readFileSync(join(repoRoot, 'packages', 'cssh-daemon', 'systemd', 'cssh-daemon.service'), 'utf8'));
    expect(setup.files.map((f) => f.path)).toEqual(expect.arrayContaining(['/etc/cssh-daemon/config.yaml', '/etc/systemd/system/cssh-daemon.service']));
    const file = join(annHome().home, 'cssh-daemon.yaml');
    writeFileSync(file, setup.daemonConfig);
    expect(loadDaemonConfig(file)).toMatchObject({
      server: authz.url,
      hostname: 'web1.example.com',
      identity: {cert: '/etc/cssh-daemon/host.pem', key: '/etc/cssh-daemon/host-key.pem'},
      files: {krl: '/etc/ssh/cssh_revoked.krl', trustedCaKeys: '/etc/ssh/cssh_user_ca.pub'},
      intervalSeconds: 30,
      staleAfterSeconds: 300,
    });
  });

  it('creates the granted account, and the person logs in with csshctl ssh; an account it did not create stays as it was', async () => {
    own = account(OWN);
    await waitFor(`${NEW} to be created`, () => account(NEW) !== undefined, {timeoutMs: 20_000});
    expect(account(NEW)!.passwd).toMatch(new RegExp(`^${NEW}:x:\\d+:\\d+:cssh-daemon:/home/${NEW}:/bin/sh$`));
    expect(existsSync(`/home/${NEW}`)).toBe(true);
    expect(trustedKeys()).toEqual([authz.caPublicKey]);
    await daemon.nextCycle();
    expect(status().accounts).toMatchObject({managed: [{login: NEW, state: 'active'}], notManaged: [OWN]});
    const home = annHome();
    const login = await csshctl(home, ['ssh', `${NEW}@127.0.0.1`, '--', ...sshd.sshOptions(), 'whoami; pwd']);
    expect(login.stderr).not.toMatch(/Error/);
    expect(login.stdout).toBe(`${NEW}\n/home/${NEW}\n`);
    expect(account(OWN)).toEqual(own);
    // The daemon's status as a person reads it.
    const shown = await runCli(join(repoRoot, 'bin', 'cssh-daemon'), ['status', '--config', daemon.configFile]);
    expect(shown.exitCode, shown.stdout).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`✓ accounts: ${NEW} active: refreshed \\d+s ago`));
    expect(shown.stdout).toContain(`granted, existing, not managed: ${OWN}`);
  });

  it('brings a CA rotation to the host: during the overlap certificates of both keys log in, after it only the new key\'s', async () => {
    const before = await cert(annHome(), NEW);
    expect(ssh(NEW, before).stdout).toBe(`${NEW}\n`);
    const rotate = await runCli(join(repoRoot, 'bin', 'cssh-authz'), ['ca', 'rotate', '--config', authz.configFile, '--overlap', '25s', '--json']);
    expect(rotate.exitCode, rotate.stderr).toBe(0);
    const rotated = JSON.parse(rotate.stdout) as {signing: string; publicKey: string; keyring: {keys: {state: string; retiresAt: string | null}[]}};
    expect(rotated.keyring.keys.map((k) => k.state)).toEqual(['trusted', 'signing']);
    const retiresAt = Date.parse(rotated.keyring.keys[0]!.retiresAt!);
    // Both keys are served, and the daemon writes both.
    await waitFor('both CA keys on the host', () => trustedKeys().length === 2, {timeoutMs: 20_000});
    expect(trustedKeys()).toEqual([authz.caPublicKey, rotated.publicKey]);
    const after = await cert(annHome(), NEW);
    expect(spawnSync('ssh-keygen', ['-L', '-f', after.certificatePath], {encoding: 'utf8'}).stdout).toContain(`Signing CA: ED25519 ${rotated.signing}`);
    expect(ssh(NEW, before).stdout).toBe(`${NEW}\n`);
    expect(ssh(NEW, after).stdout).toBe(`${NEW}\n`);
    // After the overlap the old key is dropped, by the service and then by the daemon.
    await waitFor('the old CA key to leave the host', () => Date.now() > retiresAt && trustedKeys().length === 1, {timeoutMs: 60_000, intervalMs: 250});
    expect(trustedKeys()).toEqual([rotated.publicKey]);
    expect(ssh(NEW, before).code).toBe(255);
    expect(ssh(NEW, after).stdout).toBe(`${NEW}\n`);
    expect(account(OWN)).toEqual(own);
  });

  it('locks the account once the grant is removed: the next login is refused, the home stays, the other account is untouched', async () => {
    const home = annHome();
    const valid = await cert(home, NEW);
    expect(ssh(NEW, valid).stdout).toBe(`${NEW}\n`);
    authz.writeRules(rules([OWN]));
    await waitFor(`${NEW} to be locked`, () => /^[^:]+:!/.test(account(NEW)?.shadow ?? ''), {timeoutMs: 20_000});
    await daemon.nextCycle();
    expect(status().accounts.managed).toEqual([expect.objectContaining({login: NEW, state: 'locked'})]);
    // The certificate is still valid; the account is not.
    expect(ssh(NEW, valid).code).toBe(255);
    expect(sshd.log()).toMatch(new RegExp(`User ${NEW} not allowed because account is locked`));
    expect(existsSync(`/home/${NEW}`)).toBe(true);
    expect(account(NEW)).toBeDefined();
    const again = await csshctl(home, ['ssh', `${NEW}@127.0.0.1`, '--renew', '--', ...sshd.sshOptions(), 'whoami']);
    expect(again.exitCode).toBe(4);
    expect(again.stderr).toContain(`principal "${NEW}" is not allowed for ann@example.com on 127.0.0.1`);
    expect(account(OWN)).toEqual(own);
  });

  it('with cssh-authz stopped, keeps its last KRL and CA files: valid logins still work, revoked ones stay refused, and status says how stale', async () => {
    const home = annHome();
    const good = await cert(home, OWN);
    const lost = await cert(annHome(), OWN);
    const revoke = await csshctl(home, ['revoke', '--serial', lost.serial]);
    expect(revoke.exitCode, revoke.stderr).toBe(0);
    const version = Number(/KRL version (\d+)/.exec(revoke.stdout)?.[1]);
    await waitFor('the KRL with the revocation on the host', () => status().krl.krlVersion === version, {timeoutMs: 20_000});
    expect(ssh(OWN, lost).code).toBe(255);
    const krl = readFileSync(sshd.revokedKeysFile);
    const keys = readFileSync(sshd.trustedUserCaKeysFile);
    await authz.stop();
    // Cycles fail now; nothing the host has is changed.
    await daemon.nextCycle();
    await daemon.nextCycle();
    expect(readFileSync(sshd.revokedKeysFile).equals(krl)).toBe(true);
    expect(readFileSync(sshd.trustedUserCaKeysFile).equals(keys)).toBe(true);
    expect(ssh(OWN, good).stdout).toBe(`${OWN}\n`);
    expect(ssh(OWN, lost).code).toBe(255);
    expect(sshd.log()).toMatch(/revoked by file/);
    // Past staleAfter (4s) the status says so, with the reason, and exits 5.
    const stale = await waitFor('the status to turn stale', async () => {
      const r = await runCli(join(repoRoot, 'bin', 'cssh-daemon'), ['status', '--config', daemon.configFile, '--json']);
      return r.exitCode === 5 ? r : undefined;
    }, {timeoutMs: 30_000, intervalMs: 500});
    const report = JSON.parse(stale.stdout) as {stale: boolean; checks: {name: string; status: string; message: string}[]};
    expect(report.stale).toBe(true);
    expect(report.checks.find((c) => c.name === 'cssh-daemon.krl')).toMatchObject({status: 'fail', message: expect.stringMatching(new RegExp(`^KRL version ${version} \\(${sshd.revokedKeysFile}\\): stale, last refreshed \\d+s ago \\(stale after 4s\\); last attempt \\d+s ago failed: cannot reach https://127\\.0\\.0\\.1:\\d+/v1/krl`))});
    // bcl doctor on the host reports the same, through csshctl's checks.
    const doctor = await runCli('bcl', ['doctor', '--json'], {env: {...isolatedHomeEnv(), BCL_CSSHCTL_DAEMON_STATE: daemon.stateDir}});
    expect(doctor.exitCode).toBe(6);
    const checks = doctor.json<{error: {details: {checks: {name: string; status: string; message: string}[]}}}>().error.details.checks.filter((c) => c.name.startsWith('cssh-daemon.'));
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['cssh-daemon.krl', 'fail'],
      ['cssh-daemon.caKeys', 'fail'],
      ['cssh-daemon.accounts', 'fail'],
    ]);
    expect(checks[0]!.message).toMatch(/stale, last refreshed \d+s ago/);
    expect(account(OWN)).toEqual(own);
  });
});

function isolatedHomeEnv(): Record<string, string> {
  const home = isolatedHome();
  homes.push(home);
  return home.env as Record<string, string>;
}
