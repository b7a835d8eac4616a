// The TOTP second factor end to end: a grant with mfa: totp, the real cssh-authz with a secrets
// key, csshctl enrolling and confirming, codes computed by Debian's oathtool (RFC 6238), and a
// real sshd the certificate logs in to.
import {execFileSync, spawnSync} from 'node:child_process';
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {createOpensslPki, type CsshAuthz, ensureLoginUsers, type IsolatedHome, type IssuedX509, isolatedHome, type OpensslPki, runCli, runCliOnTerminal, type SshdServer, startCsshAuthz, startSshd} from '@bcl/testkit';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

const OPS = 'bcl-ops';

const RULES = `
groups:
  sre: [ann@example.com, bob@example.com]
hostGroups:
  local: [127.0.0.1]
  elsewhere: [other.example.com]
grants:
  - group: sre
    hosts: local
    principals: [${OPS}]
    mfa: totp
  - group: sre
    hosts: elsewhere
    principals: [${OPS}]
admins: [sre]
`;

let pki: OpensslPki;
let authz: CsshAuthz;
let sshd: SshdServer;
let ann: IssuedX509;
let bob: IssuedX509;
let home: IsolatedHome;
let bobHome: IsolatedHome;

const csshctl = (args: string[], env: Record<string, string> = {}) => runCli('csshctl', args, {env: {...home.env, ...env}, timeoutMs: 90_000});

/** oathtool's code for `secret`, `steps` steps from now. */
const code = (secret: string, steps = 0) => execFileSync('oathtool', ['--totp', '--base32', '--now', new Date(Date.now() + steps * 30_000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'), secret], {encoding: 'utf8'}).trim();

/** Starts a step of codes early enough that the command using it runs within the same step. */
async function freshStep(): Promise<void> {
  const into = (Date.now() / 1000) % 30;
  if (into > 24) await new Promise((r) => setTimeout(r, (30 - into) * 1000 + 300));
}

beforeAll(async () => {
  await ensureLoginUsers([OPS]);
  pki = await createOpensslPki('TOTP PKI');
  [ann, bob] = await Promise.all([pki.issueClient({email: 'ann@example.com'}), pki.issueClient({email: 'bob@example.com'})]);
  authz = await startCsshAuthz({pki, rules: RULES, secretsKey: true, extraConfig: 'mfa: {issuer: Example SSH, maxFailures: 3}'});
  sshd = await startSshd({trustedUserCaKeys: authz.caPublicKey});
  home = homeOf(ann);
  bobHome = homeOf(bob);
});

function homeOf(who: IssuedX509): IsolatedHome {
  const h = isolatedHome();
  mkdirSync(join(h.xdg.config, 'bcl'), {recursive: true});
  writeFileSync(join(h.xdg.config, 'bcl', 'config.yaml'), `csshctl:\n  server: ${authz.url}\n  serverCa: ${authz.serverCa}\n  certificate:\n    cert: ${who.cert}\n    key: ${who.key}\n`);
  return h;
}

afterAll(async () => {
  await sshd?.stop();
  await authz?.stop();
  pki?.remove();
  home?.remove();
  bobHome?.remove();
});

describe('a grant that requires TOTP', () => {
  let secret: string;

  it('csshctl mfa enroll shows the otpauth URI and its QR code once; the secret is stored sealed; mfa confirm activates it', async () => {
    const shown = await csshctl(['mfa', 'enroll']);
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/▄/);
    expect(shown.stdout).toMatch(/^otpauth:\/\/totp\/Example%20SSH:ann%40example\.com\?secret=[A-Z2-7]{32}&issuer=Example%20SSH/m);
    expect(shown.stdout).toMatch(/^Secret \(shown once\): [A-Z2-7]{32}$/m);
    expect(shown.stdout).toContain('then confirm: csshctl mfa confirm --totp-code <code>');
    // Enrolling again before confirming replaces the pending secret.
    const json = await csshctl(['mfa', 'enroll', '--json']);
    const result = json.json<{result: {secret: string; otpauthUri: string; confirmed: boolean}}>().result;
    expect(result.confirmed).toBe(false);
    secret = result.secret;
    expect(new URL(result.otpauthUri).searchParams.get('secret')).toBe(secret);
    const state = spawnSync('grep', ['-r', secret, authz.stateDir], {encoding: 'utf8'});
    expect(state.stdout).toBe('');
    await freshStep();
    // The previous step's code: one step of tolerance.
    const confirm = await csshctl(['mfa', 'confirm', '--totp-code', code(secret, -1)]);
    expect(confirm.exitCode, confirm.stderr).toBe(0);
    expect(confirm.stdout).toContain('TOTP enrolment confirmed');
    const twice = await csshctl(['mfa', 'enroll']);
    expect(twice.exitCode).toBe(4);
    expect(twice.stderr).toContain('ann@example.com is already enrolled for TOTP');
  });

  it('without a code, non-interactive: exit 4 naming the flag and the variable', async () => {
    const res = await csshctl(['cert', '--principal', OPS, '--host', '127.0.0.1']);
    expect(res.exitCode).toBe(4);
    expect(res.stderr).toContain('this certificate needs a TOTP code (grant 0 requires mfa: totp)');
    expect(res.stderr).toContain('--totp-code');
    expect(res.stderr).toContain('CSSHCTL_TOTP_CODE');
    expect(authz.audit().at(-1)).toMatchObject({event: 'certificate.refused', status: 401, code: 'totp_required'});
  });

  it('with a wrong code: exit 4, audited', async () => {
    const res = await csshctl(['cert', '--principal', OPS, '--host', '127.0.0.1', '--totp-code', code(secret, 20)]);
    expect(res.exitCode).toBe(4);
    expect(res.stderr).toContain('the TOTP code is wrong');
    expect(authz.audit().filter((e) => e.event === 'totp.failed').at(-1)).toMatchObject({email: 'ann@example.com', reason: 'wrong'});
  });

  let used: string;
  it("with oathtool's code: issued, and sshd lets it in; the same code again is refused", async () => {
    await freshStep();
    used = code(secret);
    const res = await csshctl(['cert', '--principal', OPS, '--host', '127.0.0.1', '--totp-code', used, '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    const cert = res.json<{result: {keyPath: string; certificatePath: string; serial: string}}>().result;
    expect(authz.audit().find((e) => e.event === 'certificate.issued' && e.serial === cert.serial)).toMatchObject({mfa: 'totp'});
    const login = spawnSync('ssh', [...sshd.sshOptions(), '-o', `IdentityFile=${cert.keyPath}`, '-o', `CertificateFile=${cert.certificatePath}`, '-o', 'IdentitiesOnly=yes', `${OPS}@127.0.0.1`, 'whoami'], {encoding: 'utf8', timeout: 60_000});
    expect(login.stdout).toBe(`${OPS}\n`);
    const replay = await csshctl(['cert', '--principal', OPS, '--host', '127.0.0.1', '--totp-code', used]);
    expect(replay.exitCode).toBe(4);
    expect(replay.stderr).toContain('this TOTP code was already used');
    // The principals command admits only certificates issued with the code where the grant requires it.
    const plain = (await csshctl(['cert', '--principal', OPS, '--json'])).json<{result: {serial: string}}>().result;
    const hostSays = (serial: string) => csshctl(['principals', OPS, '--host', '127.0.0.1', '--key-id', `ann@example.com/${serial}`, '--serial', serial]);
    expect((await hostSays(cert.serial)).stdout).toContain(` ${OPS}\n`);
    expect((await hostSays(plain.serial)).stdout).toBe('');
  });

  it('csshctl ssh takes the code from CSSHCTL_TOTP_CODE and logs in', async () => {
    await freshStep();
    const res = await csshctl(['ssh', `${OPS}@127.0.0.1`, '--renew', '--', ...sshd.sshOptions(), 'whoami'], {CSSHCTL_TOTP_CODE: code(secret, 1)});
    expect(res.stderr).not.toMatch(/Error/);
    expect(res.stdout).toBe(`${OPS}\n`);
  });

  it('on a terminal: mfa enroll shows the QR code and asks for the first code; csshctl ssh asks for the code when the service needs one', async () => {
    await freshStep();
    let bobSecret = '';
    const enrol = await runCliOnTerminal('csshctl', ['mfa', 'enroll'], {
      env: bobHome.env,
      answers: [{when: /The code your app shows now:/, send: (out) => code((bobSecret = /Secret \(to type in instead\): ([A-Z2-7]+)/.exec(out)![1]!), -1)}],
    });
    expect(enrol.exitCode, enrol.output).toBe(0);
    expect(enrol.output).toMatch(/▄/);
    expect(enrol.output).toContain('otpauth://totp/Example%20SSH:bob%40example.com?secret=');
    expect(enrol.output).toContain('TOTP enrolment of bob@example.com confirmed');
    const login = await runCliOnTerminal('csshctl', ['ssh', `${OPS}@127.0.0.1`, '--', ...sshd.sshOptions(), 'echo in as $(whoami)'], {
      env: bobHome.env,
      answers: [{when: /TOTP code from your authenticator app:/, send: () => code(bobSecret)}],
    });
    expect(login.output).toContain('this certificate needs a TOTP code (grant 0 requires mfa: totp)');
    expect(login.output).toContain(`in as ${OPS}`);
    expect(login.exitCode, login.output).toBe(0);
  });

  it('rate limits repeated wrong codes: then even the right code is refused, and every attempt is audited', async () => {
    for (const steps of [40, 41, 42]) expect((await csshctl(['cert', '--principal', OPS, '--host', '127.0.0.1', '--totp-code', code(secret, steps)])).exitCode).toBe(4);
    await freshStep();
    const blocked = await csshctl(['cert', '--principal', OPS, '--host', '127.0.0.1', '--totp-code', code(secret, 1)]);
    expect(blocked.exitCode).toBe(4);
    expect(blocked.stderr).toContain('too many wrong TOTP codes for ann@example.com (3 in the last 15m)');
    expect(authz.audit().at(-1)).toMatchObject({event: 'certificate.refused', status: 429, code: 'totp_rate_limited'});
  });
});
