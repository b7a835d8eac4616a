// From the PKI to a shell: pkictl creates the CA and issues Ann's client certificate through its
// Git store; cssh-authz trusts that CA and its CRL; csshctl finds the certificate pkictl fetched
// (no csshctl.certificate configured) and logs in to a real sshd. Revoking the certificate in
// pkictl and publishing the CRL ends Ann's SSH access.
import {execFileSync} from 'node:child_process';
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {
  type CliResult,
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
  tempDir,
  waitFor,
} from '@bcl/testkit';
import {afterAll, beforeAll, expect, it} from 'vitest';

const LOGIN = 'bcl-ops';

let dir: {path: string; remove(): void};
let admin: IsolatedHome;
let ann: IsolatedHome;
let webPki: OpensslPki;
let authz: CsshAuthz;
let sshd: SshdServer;
let annSerial: string;
let revokeAnn: () => Promise<void>;

function home(config: string): IsolatedHome {
  const h = isolatedHome();
  mkdirSync(join(h.xdg.config, 'bcl'), {recursive: true});
  writeFileSync(join(h.xdg.config, 'bcl', 'config.yaml'), config);
  return h;
}

async function ok(res: Promise<CliResult>): Promise<any> {
  const r = await res;
  if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}: ${r.stdout}${r.stderr}`);
  return r.json().result;
}

beforeAll(async () => {
  await ensureLoginUsers([LOGIN]);
  dir = tempDir('bcl-pki-e2e-');
  const store = join(dir.path, 'pki.git');
  const caKey = join(dir.path, 'ca.key');
  const pass = join(dir.path, 'passphrase');
  writeFileSync(pass, 'a long CA passphrase\n', {mode: 0o600});
  const adminFlags = ['--ca-key', caKey, '--passphrase-file', pass];
  admin = home(`pkictl:\n  store: ${store}\n  email: pki-admin@example.com\n`);
  const pk = (h: IsolatedHome, args: string[]) => runCli('pkictl', [...args, '--json'], {env: h.env, cwd: h.home});
  const {caFingerprint} = await ok(pk(admin, ['ca', 'init', '--name', 'Example Corp CA', '--email-domain', 'example.com', ...adminFlags]));

  // The service's TLS certificate comes from the web PKI; clients are checked against pkictl's CA and CRL.
  webPki = await createOpensslPki('Example Corp web CA');
  const pkiCa = join(dir.path, 'pkictl-ca.pem');
  writeFileSync(pkiCa, execFileSync('git', ['--git-dir', store, 'show', 'main:ca/root.pem']));
  const crl = join(dir.path, 'pkictl-crl.pem');
  await ok(pk(admin, ['crl', '--out', crl, ...adminFlags]));
  authz = await startCsshAuthz({
    pki: webPki,
    clientCa: pkiCa,
    crl,
    rules: `groups:\n  sre: [ann@example.com]\nhostGroups:\n  local: [127.0.0.1]\ngrants:\n  - {group: sre, hosts: local, principals: [${LOGIN}]}\n`,
  });
  sshd = await startSshd({trustedUserCaKeys: (await authz.get('/v1/ca.pub')).body.toString()});

  ann = home(`pkictl:\n  store: ${store}\n  caFingerprint: ${caFingerprint}\n  email: ann@example.com\ncsshctl:\n  server: ${authz.url}\n  serverCa: ${authz.serverCa}\n`);
  const request = await ok(pk(ann, ['request']));
  await ok(pk(admin, ['approve', request.id, ...adminFlags]));
  const fetched = await ok(pk(ann, ['fetch', request.id]));
  annSerial = fetched.serial;
  revokeAnn = async () => {
    await ok(pk(admin, ['revoke', fetched.serial, '--reason', 'keyCompromise', ...adminFlags]));
    await ok(pk(admin, ['crl', '--out', crl, ...adminFlags]));
  };
}, 300_000);

afterAll(async () => {
  await sshd?.stop();
  await authz?.stop();
  webPki?.remove();
  admin?.remove();
  ann?.remove();
  dir?.remove();
});

it('pkictl certificate -> csshctl ssh into a real sshd; revoked in pkictl -> refused (exit 4)', async () => {
  const status = await runCli('csshctl', ['status', '--json'], {env: ann.env});
  expect(status.json<{result: {identity: {description: string; email: string; serial: string}}}>().result.identity).toMatchObject({
    email: 'ann@example.com',
    serial: annSerial,
    description: `pkictl certificate ${annSerial} (ann@example.com)`,
  });
  const login = await runCli('csshctl', ['ssh', `${LOGIN}@127.0.0.1`, '--', ...sshd.sshOptions(), 'whoami'], {env: ann.env, timeoutMs: 90_000});
  expect(login.stderr).not.toMatch(/Error/);
  expect(login.exitCode).toBe(0);
  expect(login.stdout).toBe(`${LOGIN}\n`);
  expect(authz.audit().find((a) => a.event === 'certificate.issued')).toMatchObject({email: 'ann@example.com', x509Serial: annSerial});

  await revokeAnn();
  const refused = await waitFor('cssh-authz to load the new CRL', async () => {
    const r = await runCli('csshctl', ['cert', '--principal', LOGIN], {env: ann.env});
    return r.exitCode === 4 ? r : undefined;
  }, {timeoutMs: 20_000, intervalMs: 500});
  expect(refused.stderr).toContain('the client certificate is revoked (PKI CRL)');
});
